"""store_batch in a real Valkey: a slow body keeps its claims, a half-stored body is not
stored twice, a writer's failure answers as the error table says.

The writer shards are plain async functions here: they stand in for the ``EventWriter``
actor calls (the Ray side is covered by tests/serve/test_ingest_app.py), and store rows
in a list, marking them committed in Valkey as a writer does after its flush.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Coroutine
from typing import Any

import pytest
import redis.asyncio as aioredis

from ollive.errors import BackpressureError, SpoolFullError, StorageError
from ollive.ingest import Deduper, IngestPipeline, StoredBatch, store_batch


class Shards:
    """Two writer shards that keep what they store; ``delay_s`` / ``fail`` per shard.
    :meth:`send` posts events of ``project`` through ``pipeline`` and ``store_batch``."""

    def __init__(
        self,
        client: aioredis.Redis,
        pipeline: IngestPipeline,
        project: str,
        count: int = 2,
        wait_s: float = 0.2,
    ) -> None:
        # claims live 1 s; a held event is waited for 0.2 s before the body is refused
        self.client = client
        self.pipeline = pipeline
        self.project = project
        self.deduper = Deduper(client, window_s=60, pending_ttl_s=1, wait_s=wait_s)
        self.count = count
        self.stored: Counter[str] = Counter()
        self.delay_s = [0.0] * count
        self.mark_after_s = 0.0  # the commit marks land this long after the answer
        self.fail: dict[int, BaseException] = {}
        self.marks: list[asyncio.Task[Any]] = []

    async def write(self, shard: int, tables: dict[str, Any]) -> dict[str, int]:
        await asyncio.sleep(self.delay_s[shard])
        if shard in self.fail:
            raise self.fail[shard]
        pairs = [
            (project, rid)
            for table in tables.values()
            for project, rid in zip(
                table.column("project").to_pylist(),
                table.column("request_id").to_pylist(),
                strict=True,
            )
        ]
        self.stored.update(rid for _, rid in pairs)
        self.marks.append(asyncio.create_task(self._mark(pairs)))
        return {"committed": len(pairs)}

    async def _mark(self, pairs: list[tuple[str, str]]) -> None:
        await asyncio.sleep(self.mark_after_s)
        await self.deduper.commit(pairs)

    async def send(self, events: list[dict[str, Any]]) -> StoredBatch:
        batch = self.pipeline.prepare(json.dumps({"events": events}).encode(), self.project)

        async def to_arrow(count: int) -> list[dict[str, Any]]:
            return batch.to_arrow(count)

        return await store_batch(batch, self.deduper, self.count, to_arrow, self.write)

    def run(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work``, then wait for the marks and close the client in the loop that
        opened it (left to the garbage collector, its finalizers ran inside later
        hypothesis tests and made their data generation look flaky)."""

        async def closing() -> None:
            try:
                await work
            finally:
                await asyncio.gather(*self.marks)
                await self.client.aclose()

        asyncio.run(closing())


@pytest.fixture(scope="module")
def pipeline() -> IngestPipeline:
    return IngestPipeline(None)


@pytest.fixture
def shards(valkey_url: str, pipeline: IngestPipeline, project: str) -> Shards:
    return Shards(aioredis.Redis.from_url(valkey_url), pipeline, project)


def test_a_body_slower_than_the_claim_ttl_keeps_its_events(
    shards: Shards, make_inference: Any
) -> None:
    """The race CI lost: the first copy's writes outlast the pending TTL, a later body
    carries a copy of one of its events. The copy must wait (429), not be stored too."""
    first = [make_inference() for _ in range(4)]
    later = [first[0], make_inference()]
    shards.delay_s = [2.5, 2.5]  # 2.5 x the claims' 1 s TTL

    async def run() -> None:
        slow = asyncio.create_task(shards.send(first))
        await asyncio.sleep(1.5)  # the first copy's claims would have expired by now
        shards.delay_s = [0.0, 0.0]
        with pytest.raises(BackpressureError):
            await shards.send(later)
        assert (await slow).accepted == 4
        await asyncio.gather(*shards.marks)
        retried = await shards.send(later)
        assert (retried.accepted, retried.duplicates) == (1, 1)

    shards.run(run())
    assert len(shards.stored) == 5 and set(shards.stored.values()) == {1}


def test_events_claimed_while_the_claim_waits_for_others_keep_their_claims(
    valkey_url: str, pipeline: IngestPipeline, project: str, make_inference: Any
) -> None:
    """A body claims ``y`` and waits 1.4 s for ``x``, which another request holds (the
    dedupe wait is 1.5 s here, the TTL 1 s): a copy of ``y`` sent meanwhile is not stored."""
    shards = Shards(aioredis.Redis.from_url(valkey_url), pipeline, project, wait_s=1.5)
    x, y = make_inference(), make_inference()

    async def run() -> None:
        other = shards.deduper
        assert (await other.claim(project, [x["request_id"]], "other")).claimed == 1
        async with other.holding(project, [x["request_id"]], "other"):
            first = asyncio.create_task(shards.send([x, y]))
            await asyncio.sleep(1.2)  # y's claim, unrenewed, would have expired at 1 s
            copy = asyncio.create_task(shards.send([y]))
            await asyncio.sleep(0.2)
            await other.release(project, [x["request_id"]], "other")
        assert (await first).accepted == 2
        assert (await copy).accepted == 0

    shards.run(run())
    assert shards.stored == {x["request_id"]: 1, y["request_id"]: 1}


def test_a_copy_sent_before_late_commit_marks_is_not_stored_again(
    shards: Shards, make_inference: Any
) -> None:
    """The first copy is answered at once, its writer's marks land 2.5 s later (a busy
    writer; past the claims' 1 s TTL): a copy sent in between waits (429), then is a
    duplicate."""
    events = [make_inference() for _ in range(5)]
    shards.mark_after_s = 2.5

    async def run() -> None:
        assert (await shards.send(events)).accepted == 5
        await asyncio.sleep(1.5)
        with pytest.raises(BackpressureError):
            await shards.send(events)
        await asyncio.gather(*shards.marks)
        again = await shards.send(events)
        assert (again.accepted, again.duplicates) == (0, 5)

    shards.run(run())
    assert len(shards.stored) == 5 and set(shards.stored.values()) == {1}


def test_a_body_half_refused_is_stored_once_when_retried(
    shards: Shards, make_inference: Any
) -> None:
    """One shard stores its events, the other is saturated: the body answers 429, and its
    retry stores only the refused shard's events, even before the first marks land."""
    events = [make_inference() for _ in range(40)]
    shards.fail = {1: BackpressureError("writer holds too many rows", 2.0)}
    shards.mark_after_s = 1.5  # past the claims' 1 s TTL

    async def run() -> None:
        with pytest.raises(BackpressureError) as refused:
            await shards.send(events)
        assert refused.value.retry_after_s == 2.0
        shards.fail = {}
        # at once: shard 0's events are still pending (held), the body is refused again
        with pytest.raises(BackpressureError):
            await shards.send(events)
        await asyncio.gather(*shards.marks)
        retried = await shards.send(events)
        assert retried.accepted + retried.duplicates == 40 and retried.duplicates > 0

    shards.run(run())
    assert len(shards.stored) == 40 and set(shards.stored.values()) == {1}


@pytest.mark.parametrize(
    ("raised", "answered"),
    [
        (SpoolFullError("the write-ahead log is full"), SpoolFullError),
        (RuntimeError("actor died"), StorageError),
    ],
    ids=["writer-own-error", "other-error"],
)
def test_a_failed_write_answers_its_error_and_frees_the_claims(
    shards: Shards,
    make_inference: Any,
    raised: BaseException,
    answered: type[Exception],
) -> None:
    events = [make_inference() for _ in range(10)]
    shards.fail = {0: raised, 1: raised}

    async def run() -> None:
        with pytest.raises(answered):
            await shards.send(events)
        shards.fail = {}
        retried = await shards.send(events)
        assert (retried.accepted, retried.duplicates) == (10, 0)

    shards.run(run())
