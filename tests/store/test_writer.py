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
        for _ in range(100):
            if writer.spool_depth()[0] == 0:
                break
            await asyncio.sleep(0.05)
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
