"""Group commit into the real chDB warehouse: durability, the spool, replay, restart, backpressure."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from ollive.errors import BackpressureError, WarehouseUnavailableError
from ollive.store import FlushPolicy, GroupCommitWriter, RetryPolicy, Spool, replay_spool

from ._suite import inference_rows


def _tables(project: str, n: int) -> dict[str, pa.Table]:
    """One request's rows: ``n`` inference rows, fresh request_ids."""
    return {"inference_logs": inference_rows(project, n)}


class _Sink:
    """Inserts into the session warehouse; ``down`` makes it fail like an unreachable server."""

    def __init__(self, warehouse: Any) -> None:
        self.warehouse = warehouse
        self.down = False
        self.tokens: list[str] = []

    async def insert(self, table: str, data: pa.Table, token: str) -> None:
        if self.down:
            raise WarehouseUnavailableError("down for the test")
        self.tokens.append(token)
        await asyncio.to_thread(self.warehouse.insert_arrow, table, data, token)


async def _replayed(writer: GroupCommitWriter) -> None:
    """Wait (up to 5 s) until the replay loop has emptied the dead-letter queue."""
    for _ in range(100):
        if writer.spool_depth()[0] == 0:
            return
        await asyncio.sleep(0.05)


def _count(warehouse: Any, project: str, final: bool = False) -> int:
    keyword = " FINAL" if final else ""
    return int(
        warehouse.scalar(f"SELECT count() FROM inference_logs{keyword} WHERE project = '{project}'")
    )


def _writer(sink: _Sink, spool_dir: Path, **kw: Any) -> GroupCommitWriter:
    retry = RetryPolicy(attempts=2, base_delay_s=0.01)
    return GroupCommitWriter(
        sink.insert, Spool(spool_dir), FlushPolicy(rows=1000, age_s=0.05), retry, **kw
    )


def test_concurrent_writes_are_grouped_and_committed(
    warehouse: Any, project: str, tmp_path: Path
) -> None:
    sink = _Sink(warehouse)

    async def run() -> None:
        writer = _writer(sink, tmp_path)
        await writer.start()
        receipts = await asyncio.gather(*(writer.write(_tables(project, 10)) for _ in range(20)))
        assert sum(r.committed for r in receipts) == 200
        await writer.close()

    asyncio.run(run())
    assert _count(warehouse, project) == 200
    assert len(sink.tokens) < 20  # grouped


def test_failed_inserts_are_spooled_then_replayed_once(
    warehouse: Any, project: str, tmp_path: Path
) -> None:
    sink = _Sink(warehouse)
    sink.down = True

    async def run() -> None:
        writer = _writer(sink, tmp_path, replay_interval_s=0.05)
        await writer.start()
        receipt = await writer.write(_tables(project, 30))
        assert receipt.spooled == 30 and writer.spool_depth()[0] == 1
        sink.down = False
        await _replayed(writer)
        await writer.close()

    asyncio.run(run())
    assert _count(warehouse, project) == 30
    # replaying the same file again (as `ollive dlq replay` might) stores nothing new
    spool = Spool(tmp_path)
    for entry in spool.entries("done"):
        entry.path.rename(entry.path.with_name(entry.path.name.replace("done.", "wal.", 1)))
    report = replay_spool(spool, lambda t, d, tok: warehouse.insert_arrow(t, d, tok))
    assert report.files == 1 and _count(warehouse, project) == 30


def test_a_restarted_writer_skips_rows_it_already_stored(
    warehouse: Any, project: str, tmp_path: Path
) -> None:
    sink = _Sink(warehouse)
    tables = _tables(project, 25)

    async def run() -> None:
        first = _writer(sink, tmp_path)
        await first.start()
        await first.write(tables)  # stored; imagine the actor died before answering
        second = _writer(sink, tmp_path)
        await second.start()
        receipt = await second.write(tables)  # the replica retries the same rows
        assert receipt.recovered == 25 and receipt.committed == 0
        await second.close()

    asyncio.run(run())
    assert _count(warehouse, project) == 25


class _DiesMidInsert(_Sink):
    """The first insert dies inside the engine after the token was recorded (the state a
    warehouse killed mid-insert leaves: made here with a DELETE, since the kill cannot be
    timed); every later call works."""

    def __init__(self, warehouse: Any, project: str) -> None:
        super().__init__(warehouse)
        self.project = project
        self.died = False
        self.verified: list[str] = []

    async def insert(self, table: str, data: pa.Table, token: str) -> None:
        await super().insert(table, data, token)
        if not self.died:
            self.died = True
            where = f"project = '{self.project}'"
            await asyncio.to_thread(self.warehouse.command, f"DELETE FROM {table} WHERE {where}")
            raise WarehouseUnavailableError("the warehouse died mid-insert")

    async def reinsert(self, table: str, data: pa.Table, token: str) -> None:
        self.verified.append(token)
        await asyncio.to_thread(self.warehouse.insert_arrow, table, data, token, verify=True)


@pytest.mark.parametrize("attempts", [2, 1], ids=["retried", "replayed"])
def test_a_token_resent_after_a_death_in_the_engine_is_verified(
    warehouse: Any, project: str, tmp_path: Path, attempts: int
) -> None:
    """A retry and a replay of the dead-letter queue go through ``reinsert`` (verify): the
    rows that the dead attempt's token would dedupe away are stored, once."""
    sink = _DiesMidInsert(warehouse, project)

    async def run() -> None:
        writer = GroupCommitWriter(
            sink.insert, Spool(tmp_path), FlushPolicy(age_s=0.05),
            RetryPolicy(attempts=attempts, base_delay_s=0.01), replay_interval_s=0.05,
            reinsert=sink.reinsert,
        )  # fmt: skip
        await writer.start()
        receipt = await writer.write(_tables(project, 20))
        assert (receipt.committed, receipt.spooled) == ((20, 0) if attempts == 2 else (0, 20))
        await _replayed(writer)
        await writer.close()

    asyncio.run(run())
    assert sink.verified == sink.tokens[:1]  # the dead attempt's token, sent again verified
    assert _count(warehouse, project) == 20


def test_backpressure_past_the_inflight_bound(warehouse: Any, project: str, tmp_path: Path) -> None:
    sink = _Sink(warehouse)

    async def run() -> None:
        writer = GroupCommitWriter(
            sink.insert, Spool(tmp_path), FlushPolicy(age_s=0.5), max_inflight_rows=15
        )
        await writer.start()
        first = asyncio.ensure_future(writer.write(_tables(project, 10)))
        await asyncio.sleep(0.01)
        with pytest.raises(BackpressureError) as info:
            await writer.write(_tables(project, 10))
        assert info.value.retry_after_s >= 1
        assert (await first).committed == 10
        await writer.close()

    asyncio.run(run())


def test_request_ids_identify_spooled_rows(tmp_path: Path, project: str) -> None:
    spool = Spool(tmp_path)
    table = _tables(project, 3)["inference_logs"]
    spool.write("inference_logs", table, uuid.uuid4().hex)
    assert spool.request_ids(60) == set(table.column("request_id").to_pylist())


def test_a_full_disk_refuses_writes_clearly_and_recovers_by_itself(
    warehouse: Any, project: str, tmp_path: Path
) -> None:
    """The write-ahead log on a real 256 KiB filesystem: writes are refused with
    SpoolFullError (no row of a refused write is stored), what was acknowledged is stored,
    and writes succeed again once there is space, with no restart."""
    from ollive.errors import SpoolFullError
    from tests._tmpfs import resize, small_filesystem

    sink = _Sink(warehouse)
    with small_filesystem(tmp_path / "spool", "256k") as spool_dir:

        async def run() -> tuple[int, int]:
            writer = _writer(sink, spool_dir, keep_done_s=3600)
            await writer.start()
            acked = refused = 0
            for _ in range(200):  # done files are kept: the disk fills up
                try:
                    acked += (await writer.write(_tables(project, 50))).committed
                except SpoolFullError as exc:
                    assert "no space left for the write-ahead log" in str(exc)
                    refused += 1
                    break
            assert refused == 1, "the filesystem never filled up"
            assert not list(spool_dir.glob("*.tmp")), "a half-written file holds the space"
            resize(spool_dir, "16m")  # space returns
            acked += (await writer.write(_tables(project, 50))).committed
            await writer.close()
            return acked, refused

        acked, _ = asyncio.run(run())
    assert acked > 0 and _count(warehouse, project, final=True) == acked


# --- ack="wal": answered once fsync'd to the write-ahead log, the insert follows ---


def _wal_writer(sink: _Sink, spool_dir: Path, **kw: Any) -> GroupCommitWriter:
    kw.setdefault("flush", FlushPolicy(rows=1000, age_s=0.05))
    return GroupCommitWriter(
        sink.insert, Spool(spool_dir), retry=RetryPolicy(attempts=2, base_delay_s=0.01),
        ack="wal", **kw,
    )  # fmt: skip


def test_wal_ack_answers_once_logged_and_the_insert_follows(
    warehouse: Any, project: str, tmp_path: Path
) -> None:
    sink = _Sink(warehouse)
    marked: list[int] = []

    async def mark(table: str, data: pa.Table) -> None:
        marked.append(data.num_rows)

    async def run() -> None:
        writer = _wal_writer(sink, tmp_path, flush=FlushPolicy(age_s=0.3), on_durable=mark)
        await writer.start()
        receipts = await asyncio.gather(*(writer.write(_tables(project, 10)) for _ in range(20)))
        assert sum(r.logged for r in receipts) == 200
        assert sum(r.committed for r in receipts) == 0
        # answered before the flush: the rows are in one open segment, not yet inserted
        assert _count(warehouse, project) == 0 and writer.inflight_rows == 200
        (segment,) = Spool(tmp_path).entries("wal")
        assert Spool.read(segment).num_rows == 200  # every answered row is on the log
        await writer.close()
        assert writer.inflight_rows == 0 and writer.stats["rows_committed"] == 200

    asyncio.run(run())
    assert _count(warehouse, project) == 200
    assert len(sink.tokens) == 1 and marked == [200]  # one insert, one marking round trip


def test_wal_ack_a_crash_before_the_insert_is_replayed_once(
    warehouse: Any, project: str, tmp_path: Path
) -> None:
    """The writer dies after answering, before its flush: the restarted writer finds the
    segment, inserts it with its token, and a retry of the same rows is not stored again."""
    sink = _Sink(warehouse)
    tables = _tables(project, 40)

    async def crash() -> None:
        writer = _wal_writer(sink, tmp_path, flush=FlushPolicy(age_s=3600))
        await writer.start()
        assert (await writer.write(tables)).logged == 40
        # no close(): the process is gone; its segment is left as it was

    asyncio.run(crash())
    (left,) = Spool(tmp_path).entries("wal")
    # a torn tail (the crash cut an append short) is not read back
    with open(left.path, "ab") as f:
        f.write(b"\x10\x00\x00\x00\x00\x00\x00\x00partial")

    async def restart() -> None:
        writer = _wal_writer(sink, tmp_path, replay_interval_s=0.05)
        await writer.start()
        for _ in range(200):
            if not Spool(tmp_path).entries("wal"):
                break
            await asyncio.sleep(0.05)
        receipt = await writer.write(tables)  # the replica retries the unanswered body
        assert receipt.recovered == 40 and receipt.logged == 0
        await writer.close()

    asyncio.run(restart())
    assert _count(warehouse, project) == 40
    # replayed again (an insert that landed before the crash): the token stores it once
    spool = Spool(tmp_path)
    for entry in spool.entries("done"):
        entry.path.rename(entry.path.with_name(entry.path.name.replace("done.", "wal.", 1)))
    report = replay_spool(spool, lambda t, d, tok: warehouse.insert_arrow(t, d, tok))
    assert report.rows == 40 and _count(warehouse, project) == 40


def test_wal_ack_a_full_disk_refuses_whole_requests_and_recovers(
    warehouse: Any, project: str, tmp_path: Path
) -> None:
    """On a real 256 KiB filesystem: a refused request leaves no row behind, everything
    answered is stored, and writes succeed again once there is space, with no restart."""
    from ollive.errors import SpoolFullError
    from tests._tmpfs import resize, small_filesystem

    sink = _Sink(warehouse)
    with small_filesystem(tmp_path / "spool", "256k") as spool_dir:

        async def run() -> int:
            writer = _wal_writer(sink, spool_dir, keep_done_s=3600)
            await writer.start()
            logged = refused = 0
            for _ in range(400):  # done files are kept: the disk fills up
                try:
                    logged += (await writer.write(_tables(project, 50))).logged
                except SpoolFullError as exc:
                    assert "no space left for the write-ahead log" in str(exc)
                    refused += 1
                    break
            assert refused == 1, "the filesystem never filled up"
            resize(spool_dir, "16m")  # space returns
            logged += (await writer.write(_tables(project, 50))).logged
            await writer.close()
            return logged

        logged = asyncio.run(run())
    assert logged > 0 and _count(warehouse, project, final=True) == logged


def test_wal_ack_a_request_refused_in_one_table_is_cut_back_in_all(tmp_path: Path) -> None:
    """A request spanning two tables whose second append hits the full disk: its first
    append is cut back too, so nothing of the refused request is ever inserted."""
    from ollive.errors import SpoolFullError
    from tests._tmpfs import small_filesystem

    inserted: dict[str, int] = {}

    async def insert(table: str, data: pa.Table, token: str) -> None:
        inserted[table] = inserted.get(table, 0) + data.num_rows

    def rows(n: int, width: int = 10) -> pa.Table:
        return pa.table(
            {"request_id": [uuid.uuid4().hex for _ in range(n)], "x": ["y" * width] * n}
        )

    with small_filesystem(tmp_path / "spool", "64k") as spool_dir:

        async def run() -> None:
            writer = GroupCommitWriter(insert, Spool(spool_dir), FlushPolicy(age_s=0.05), ack="wal")
            await writer.start()
            with pytest.raises(SpoolFullError):
                await writer.write({"a": rows(3), "b": rows(50, width=4000)})
            assert (await writer.write({"a": rows(5)})).logged == 5
            await writer.close()

        asyncio.run(run())
    assert inserted == {"a": 5}
