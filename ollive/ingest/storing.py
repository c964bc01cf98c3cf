"""Store one prepared body: claim its events, write them to the writer shards, or refuse it.

The part of ``POST /v1/logs`` between a prepared body and its answer, Ray-free: the wiring
passes how to build the shards' Arrow tables (on its prepare pool) and how to write one
shard (a call to an ``EventWriter`` actor). :func:`store_batch` returns what the ``202``
says, or raises the error that answers the body (see :mod:`ollive.ingest.errors`):

* events another request holds after the dedupe wait: its own claims are released and the
  body is refused with :class:`~ollive.errors.BackpressureError` (``429``);
* from the claim until the writers have marked them, the body's claims are renewed
  (:meth:`~ollive.ingest.Deduper.holding`), however long the dedupe wait, the prepare
  pool, the writers and the marks take: a claim that expired meanwhile would let a
  duplicate sent in the meantime be stored and acknowledged a second time;
* a shard that failed releases only its own claims: a shard that answered has stored its
  events, and its writer marks them committed; released, they could be claimed and stored
  again by the client's retry before the marks land. A saturated writer answers ``429``,
  a writer's own error (a full write-ahead log, the warehouse down) answers as raised
  there, anything else is a :class:`~ollive.errors.StorageError`.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from ollive.errors import BackpressureError, OlliveError, StorageError
from ollive.ingest.dedupe import Deduper
from ollive.ingest.pipeline import PreparedBatch

__all__ = ["StoredBatch", "store_batch"]

log = logging.getLogger(__name__)

ShardTables = dict[str, Any]  # {table: pyarrow.Table} of one writer shard


@dataclass(frozen=True, slots=True)
class StoredBatch:
    """What a stored body answers (its rejected events are on the batch)."""

    accepted: int
    duplicates: int
    degraded: bool  # Valkey was unreachable: stored without dedupe


async def store_batch(
    batch: PreparedBatch,
    deduper: Deduper,
    shards: int,
    to_arrow: Callable[[int], Awaitable[list[ShardTables]]],
    write: Callable[[int, ShardTables], Awaitable[Any]],
) -> StoredBatch:
    """Claim, write and answer one body (see the module docstring)."""
    owner = uuid.uuid4().hex
    ids = batch.request_ids
    # held from the first claim on: while the claim waits for events another request
    # holds, the events it has claimed already must not expire either
    async with deduper.holding(batch.project, ids, owner):
        outcome = await deduper.claim(batch.project, ids, owner)
        if outcome.held:
            claimed = [rid for rid, keep in zip(ids, outcome.keep, strict=True) if keep]
            await deduper.release(batch.project, claimed, owner)
            raise BackpressureError(
                f"{outcome.held} events are being stored by a concurrent request", 1.0
            )
        batch.keep(outcome.keep)
        tables = await to_arrow(shards)
        sent = [(i, shard) for i, shard in enumerate(tables) if shard]
        results = await asyncio.gather(
            *(write(i, shard) for i, shard in sent), return_exceptions=True
        )
    failed = [i for (i, _), r in zip(sent, results, strict=True) if isinstance(r, BaseException)]
    if failed:
        await deduper.release(batch.project, batch.request_ids_in(failed, shards), owner)
        raise _refusal([r for r in results if isinstance(r, BaseException)])
    return StoredBatch(len(batch.events), outcome.duplicates, outcome.degraded)


def _refusal(failures: list[BaseException]) -> Exception:
    busy = [f for f in failures if isinstance(f, BackpressureError)]
    if busy:
        retry_s = max(f.retry_after_s for f in busy)
        return BackpressureError(f"writers are saturated: {busy[0]}", retry_s)
    log.error("write failed: %r", failures[0])
    own = [f for f in failures if isinstance(f, OlliveError)]
    if own:
        return own[0]
    error = StorageError(str(failures[0]))
    error.__cause__ = failures[0]
    return error
