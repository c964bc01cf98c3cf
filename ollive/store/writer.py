"""Group commit: many requests' rows -> one idempotent insert per table, durable before the ack.

:class:`GroupCommitWriter` is the pure core of an ``EventWriter`` actor (asyncio, Ray-free).
``await writer.write({table: arrow})`` returns once those rows are committed to the
warehouse or durably spooled. Rows accumulate per table and flush when a buffer reaches
``FlushPolicy.rows`` or ``.bytes``, or when its oldest row is ``.age_s`` old. Each flush:

1. gets a fresh idempotency token and is written to the spool (write-ahead, Arrow IPC);
2. is inserted with that token, retried with exponential backoff (``RetryPolicy``);
3. on success becomes a ``done`` spool file (kept ``keep_done_s``); after the last retry it
   stays in the dead-letter queue, which a background loop replays every
   ``replay_interval_s`` until the warehouse takes it (same token: stored once);
   a retry and a replay go through ``reinsert``, which must also store the rows an earlier
   attempt lost after the engine had recorded its token (see
   :meth:`ollive.store.base.Warehouse.insert_arrow`, ``verify``);
4. calls ``on_durable(table, rows)`` (the wiring marks the events committed in Valkey).

When :meth:`write` returns depends on ``ack``:

* ``"insert"``: once the rows are in the warehouse, or durably spooled after the retries;
* ``"wal"``: once the rows are fsync'd to the write-ahead log. The flush's spool file is
  a :class:`~ollive.store.spool.WalSegment` that each request appends to; the fsyncs of
  concurrent requests are grouped (one ``fdatasync`` per open segment per round, requests
  that arrive during a round share the next). The insert follows the flush policy as
  before, with the segment's token: a segment left by a crash is replayed whole with that
  token, so it is stored once. ``on_durable`` is called when the flush's segment is closed
  (the rows are durable), before the insert, off every request's answer.

On start, the request_ids of recent spool files are remembered: a request retried after the
writer died is filtered against them, so a flush that reached the warehouse (or the spool)
before the crash is not stored a second time. In-flight rows are bounded: past
``max_inflight_rows`` :meth:`write` raises :class:`BackpressureError` at once (with
``ack="wal"`` rows stay in flight until their insert is done).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import pyarrow as pa
import pyarrow.compute as pc

from ollive.errors import BackpressureError
from ollive.store.spool import Spool, SpoolEntry, WalSegment, replay_spool

__all__ = ["FlushPolicy", "GroupCommitWriter", "RetryPolicy", "WriteReceipt"]

log = logging.getLogger(__name__)

InsertFn = Callable[[str, pa.Table, str], Coroutine[Any, Any, Any]]
DurableFn = Callable[[str, pa.Table], Coroutine[Any, Any, Any]]
_LATENCY_BUCKETS_S = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass(frozen=True, slots=True)
class FlushPolicy:
    """Flush a table's buffer at ``rows`` rows, ``bytes`` Arrow bytes, or ``age_s`` seconds."""

    rows: int = 20_000
    bytes: int = 32_000_000
    age_s: float = 0.2


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """``attempts`` inserts per flush, sleeping ``base_delay_s * 2**n`` (capped) in between."""

    attempts: int = 4
    base_delay_s: float = 0.1
    max_delay_s: float = 2.0

    def delay_s(self, attempt: int) -> float:
        return float(min(self.max_delay_s, self.base_delay_s * 2**attempt))


@dataclass(slots=True)
class WriteReceipt:
    """How the rows of one :meth:`GroupCommitWriter.write` became durable."""

    committed: int = 0
    spooled: int = 0
    recovered: int = 0  # already stored (or spooled) before this writer restarted
    logged: int = 0  # ack="wal": fsync'd to the write-ahead log, the insert follows


@dataclass(slots=True)
class _Buffer:
    tables: list[pa.Table] = field(default_factory=list)
    rows: int = 0
    bytes: int = 0
    waiters: list[asyncio.Future[str]] = field(default_factory=list)
    timer: asyncio.TimerHandle | None = None
    segment: WalSegment | None = None  # ack="wal": this flush's write-ahead file


class _GroupSync:
    """fsync many requests' appends at once: requests arriving during a round share the next."""

    def __init__(self) -> None:
        self._dirty: set[WalSegment] = set()
        self._waiters: list[asyncio.Future[None]] = []
        self._task: asyncio.Task[None] | None = None

    async def sync(self, segments: list[WalSegment]) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._dirty.update(segments)
        self._waiters.append(future)
        if self._task is None:
            self._task = asyncio.create_task(self._rounds())
        await future

    async def _rounds(self) -> None:
        try:
            while self._waiters:
                dirty, self._dirty = list(self._dirty), set()
                waiters, self._waiters = self._waiters, []
                try:
                    await asyncio.to_thread(_sync_all, dirty)
                except Exception as exc:
                    for waiter in waiters:
                        if not waiter.done():
                            waiter.set_exception(exc)
                    continue
                for waiter in waiters:
                    if not waiter.done():
                        waiter.set_result(None)
        finally:
            self._task = None


def _sync_all(segments: list[WalSegment]) -> None:
    for segment in segments:
        segment.sync()


class GroupCommitWriter:
    """Accumulates Arrow rows per table and commits them in groups (see the module docstring)."""

    def __init__(
        self,
        insert: InsertFn,
        spool: Spool,
        flush: FlushPolicy | None = None,
        retry: RetryPolicy | None = None,
        max_inflight_rows: int = 200_000,
        on_durable: DurableFn | None = None,
        keep_done_s: float = 300.0,
        replay_interval_s: float = 1.0,
        ack: Literal["insert", "wal"] = "insert",
        reinsert: InsertFn | None = None,
    ) -> None:
        if ack not in ("insert", "wal"):
            raise ValueError(f"ack must be 'insert' or 'wal', not {ack!r}")
        self.ack = ack
        self._sync = _GroupSync()
        self._insert = insert
        self._reinsert = reinsert or insert  # a token sent again: a retry, a replay
        self.spool = spool
        self.flush_policy = flush or FlushPolicy()
        self.retry = retry or RetryPolicy()
        self.max_inflight_rows = max_inflight_rows
        self._on_durable = on_durable
        self.keep_done_s = keep_done_s
        self.replay_interval_s = replay_interval_s
        self._buffers: dict[str, _Buffer] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._active: set[str] = set()  # tokens of flushes this writer is still handling
        self._recovered: set[str] = set()
        self._replayer: asyncio.Task[Any] | None = None
        self.inflight_rows = 0
        self.stats: dict[str, float] = dict.fromkeys(
            (
                "flushes",
                "rows_committed",
                "rows_spooled",
                "rows_replayed",
                "rows_recovered",
                "insert_failures",
            ),
            0,
        )
        self.commit_latency: list[int] = [0] * (len(_LATENCY_BUCKETS_S) + 1)
        self.commit_latency_sum_s = 0.0

    async def start(self) -> None:
        """Remember recent spooled request_ids and start the replay loop."""
        self._recovered = await asyncio.to_thread(self.spool.request_ids, self.keep_done_s)
        if self._recovered:
            log.warning("writer restarted with %d spooled request_ids", len(self._recovered))
        self._replayer = asyncio.create_task(self._replay_loop())

    async def write(self, tables: Mapping[str, pa.Table]) -> WriteReceipt:
        """Buffer the rows; return once they are committed or spooled."""
        receipt = WriteReceipt()
        kept: dict[str, pa.Table] = {}
        for name, table in tables.items():
            kept[name], dropped = self._drop_recovered(table, receipt)
            if dropped is not None:  # stored before the restart: make sure dedupe knows
                await self._durable(name, dropped)
        tables = kept
        rows = sum(t.num_rows for t in tables.values())
        if rows and self.inflight_rows + rows > self.max_inflight_rows and self.inflight_rows:
            raise BackpressureError(
                f"writer holds {self.inflight_rows} rows in flight (limit {self.max_inflight_rows})",
                retry_after_s=max(1.0, self.flush_policy.age_s * 4),
            )
        if self.ack == "wal":
            receipt.logged = await self._log(tables, rows)
            return receipt
        self.inflight_rows += rows
        try:
            waits = [self._add(name, t) for name, t in tables.items() if t.num_rows]
            for name, outcome in zip(
                [n for n, t in tables.items() if t.num_rows],
                await asyncio.gather(*waits),
                strict=True,
            ):
                n = tables[name].num_rows
                if outcome == "committed":
                    receipt.committed += n
                else:
                    receipt.spooled += n
        finally:
            self.inflight_rows -= rows
        return receipt

    async def _log(self, tables: Mapping[str, pa.Table], rows: int) -> int:
        """ack="wal": append every table to its flush's segment, then wait for the fsync.

        The appends come first and together (no await between them, so no flush can close a
        segment meanwhile): if one fails (a full disk), the others are cut back and the
        request is refused whole, so a refused request leaves no row to be stored.
        """
        appended: list[tuple[WalSegment, int]] = []
        try:
            for name, table in tables.items():
                if table.num_rows:
                    segment = self._segment(name)
                    appended.append((segment, segment.append(table)))
        except BaseException:
            for segment, before in appended:
                segment.truncate(before)
            raise
        self.inflight_rows += rows
        for name, table in tables.items():
            if table.num_rows:
                self._add(name, table, wait=False)
        await self._sync.sync([segment for segment, _ in appended])
        return rows

    def _segment(self, name: str) -> WalSegment:
        buf = self._buffers.setdefault(name, _Buffer())
        if buf.segment is None:
            token = uuid.uuid4().hex
            buf.segment = self.spool.open_segment(name, token)
            self._active.add(token)
        return buf.segment

    def _drop_recovered(
        self, table: pa.Table, receipt: WriteReceipt
    ) -> tuple[pa.Table, pa.Table | None]:
        """Split off rows whose request_id this writer stored before it restarted."""
        if not self._recovered or table.num_rows == 0:
            return table, None
        known = pa.array(list(self._recovered), pa.string())
        seen = pc.is_in(table.column("request_id"), value_set=known)
        dropped = pc.sum(seen).as_py() or 0
        if not dropped:
            return table, None
        receipt.recovered += dropped
        self.stats["rows_recovered"] += dropped
        return table.filter(pc.invert(seen)), table.filter(seen)

    def _add(self, name: str, table: pa.Table, wait: bool = True) -> asyncio.Future[str]:
        loop = asyncio.get_running_loop()
        buf = self._buffers.setdefault(name, _Buffer())
        buf.tables.append(table)
        buf.rows += table.num_rows
        buf.bytes += table.nbytes
        waiter: asyncio.Future[str] = loop.create_future()
        if wait:
            buf.waiters.append(waiter)
        policy = self.flush_policy
        if buf.rows >= policy.rows or buf.bytes >= policy.bytes:
            self._flush(name)
        elif buf.timer is None:
            buf.timer = loop.call_later(policy.age_s, self._flush, name)
        return waiter

    def _flush(self, name: str) -> None:
        buf = self._buffers.pop(name, None)
        if buf is None:
            return
        if buf.timer is not None:
            buf.timer.cancel()
        if not buf.tables:
            if buf.segment is not None:  # opened by a request that was then refused
                self._discard(buf.segment)
            return
        commit = self._commit_logged if buf.segment is not None else self._commit
        task = asyncio.create_task(commit(name, buf))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _commit(self, name: str, buf: _Buffer) -> None:
        started = time.monotonic()
        token = uuid.uuid4().hex
        self._active.add(token)
        try:
            data = pa.concat_tables(buf.tables).combine_chunks()
            entry = await asyncio.to_thread(self.spool.write, name, data, token)
            outcome = "committed" if await self._insert_with_retries(entry, data) else "spooled"
        except BaseException as exc:
            for waiter in buf.waiters:
                if not waiter.done():
                    waiter.set_exception(
                        exc if isinstance(exc, Exception) else RuntimeError("cancelled")
                    )
            raise
        finally:
            self._active.discard(token)
        self.stats["flushes"] += 1
        self.stats["rows_committed" if outcome == "committed" else "rows_spooled"] += data.num_rows
        self._observe(time.monotonic() - started)
        for waiter in buf.waiters:
            if not waiter.done():
                waiter.set_result(outcome)
        # Marked after the answer, off the ack path: until the marks land (one round trip), a
        # resent copy finds this request's pending claim and waits for them; if this writer
        # dies first, the claims expire and its restart drops the stored ids it finds in the
        # spool (``done`` files), so a resent event is still stored once.
        await self._durable(name, data)

    def _discard(self, segment: WalSegment) -> None:
        segment.close()
        segment.path.unlink(missing_ok=True)
        self._active.discard(segment.token)

    async def _commit_logged(self, name: str, buf: _Buffer) -> None:
        """ack="wal": the requests were answered; close the segment, mark, insert."""
        assert buf.segment is not None
        started = time.monotonic()
        rows = buf.rows
        try:
            entry = await asyncio.to_thread(buf.segment.close)
            data = pa.concat_tables(buf.tables).combine_chunks()  # the segment's rows, in order
            await self._durable(name, data)  # durable since their appends were fsync'd
            outcome = "committed" if await self._insert_with_retries(entry, data) else "spooled"
        finally:
            self.inflight_rows -= rows
            self._active.discard(buf.segment.token)  # a failure leaves it to the replay loop
        self.stats["flushes"] += 1
        self.stats["rows_committed" if outcome == "committed" else "rows_spooled"] += rows
        self._observe(time.monotonic() - started)

    async def _insert_with_retries(self, entry: SpoolEntry, data: pa.Table) -> bool:
        for attempt in range(self.retry.attempts):
            insert = self._insert if attempt == 0 else self._reinsert
            try:
                await insert(entry.table, data, entry.token)
            except Exception as exc:
                self.stats["insert_failures"] += 1
                log.warning("insert into %s failed (attempt %d): %s", entry.table, attempt + 1, exc)
                if attempt + 1 < self.retry.attempts:
                    await asyncio.sleep(self.retry.delay_s(attempt))
                continue
            await asyncio.to_thread(self.spool.mark_done, entry)
            return True
        log.error(
            "spooled %d rows of %s to %s after %d attempts",
            data.num_rows,
            entry.table,
            entry.path,
            self.retry.attempts,
        )
        return False

    async def _durable(self, name: str, data: pa.Table) -> None:
        if self._on_durable is None:
            return
        try:
            await self._on_durable(name, data)
        except Exception as exc:  # marking is an optimisation; the rows are durable
            log.warning("on_durable failed: %s", exc)

    def _observe(self, seconds: float) -> None:
        self.commit_latency_sum_s += seconds
        for pos, bound in enumerate(_LATENCY_BUCKETS_S):
            if seconds <= bound:
                self.commit_latency[pos] += 1
                return
        self.commit_latency[-1] += 1

    async def replay(self) -> int:
        """Insert the dead-letter files not being handled right now; returns rows replayed."""
        loop = asyncio.get_running_loop()

        def insert(table: str, data: pa.Table, token: str) -> None:
            asyncio.run_coroutine_threadsafe(self._reinsert(table, data, token), loop).result()
            asyncio.run_coroutine_threadsafe(self._durable(table, data), loop).result()

        report = await asyncio.to_thread(
            replay_spool, self.spool, insert, lambda e: e.token in self._active
        )
        self.stats["rows_replayed"] += report.rows
        return report.rows

    async def _replay_loop(self) -> None:
        while True:
            try:
                if self.spool.entries():
                    await self.replay()
                await asyncio.to_thread(self.spool.prune_done, self.keep_done_s)
            except Exception as exc:  # keep looping: the next round retries
                log.warning("replay failed: %s", exc)
            await asyncio.sleep(self.replay_interval_s)

    def spool_depth(self) -> tuple[int, int]:
        """(files, bytes) in the dead-letter queue (not this writer's in-flight flushes)."""
        return self.spool.depth(lambda e: e.token in self._active)

    def latency_buckets(self) -> list[tuple[float, int]]:
        """Cumulative commit-latency histogram: (upper bound seconds, count)."""
        out, total = [], 0
        for bound, n in zip((*_LATENCY_BUCKETS_S, float("inf")), self.commit_latency, strict=True):
            total += n
            out.append((bound, total))
        return out

    async def close(self) -> None:
        """Flush every buffer, wait for the commits, stop the replay loop."""
        for name in list(self._buffers):
            self._flush(name)
        if self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        if self._replayer is not None:
            self._replayer.cancel()
