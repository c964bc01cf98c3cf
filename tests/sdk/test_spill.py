"""A burst past the in-memory queue goes to the disk buffer, in order, and nothing is lost;
only past both bounds are events dropped (counted, one warning)."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import pytest

import ollive
from ollive.sdk._spill import DiskBuffer
from tests.sdk.conftest import IngestServer


def _emit(n: int, start: int = 0, size: int = 0) -> None:
    for i in range(start, start + n):
        with ollive.inference("openai", "m", input=f"prompt {i} " + "x" * size) as span:
            span.set_usage(10, 5)


def _order(ingest: IngestServer) -> list[int]:
    """The prompt numbers in the order ingest received the events."""
    with ingest.lock:
        return [int(e["input_preview"].split()[1]) for e in ingest.events.values()]


def test_a_burst_past_the_queue_is_spilled_and_sent_in_order(
    ingest: IngestServer, tmp_path: Path
) -> None:
    ingest.block = threading.Event()  # ingest stalls: the whole burst backs up
    ollive.init(
        endpoint=ingest.endpoint,
        max_queue_size=50,
        max_batch_events=20,
        flush_interval_s=0.05,
        spill_dir=str(tmp_path),
    )
    _emit(2_000)
    stats = ollive.stats()
    assert stats["spilled"] >= 1_900 and stats["dropped"] == 0
    assert stats["enqueued"] == 2_000
    assert any(tmp_path.rglob("*.jsonl")), "nothing on disk"
    ingest.block.set()
    assert ollive.flush(60)
    stats = ollive.stats()
    assert (stats["sent"], stats["dropped"], stats["queued"]) == (2_000, 0, 0)
    assert _order(ingest) == list(range(2_000))
    # once the disk is empty, new events take the in-memory queue again
    _emit(10, start=2_000)
    assert ollive.flush(10)
    assert ollive.stats()["spilled"] == stats["spilled"]
    assert _order(ingest) == list(range(2_010))
    assert ollive.shutdown(5)
    assert not any(tmp_path.rglob("*.jsonl")), "segments left behind"


def test_the_memory_bound_is_in_bytes_too(ingest: IngestServer, tmp_path: Path) -> None:
    ingest.block = threading.Event()
    ollive.init(
        endpoint=ingest.endpoint,
        max_queue_size=10_000,
        max_queue_bytes=64 * 1024,
        flush_interval_s=0.05,
        spill_dir=str(tmp_path),
    )
    _emit(60, size=0)  # the worker learns the size of an event from the first batch
    ingest.block.set()
    assert ollive.flush(10)
    ingest.block.clear()
    _emit(1_000, start=60, size=400)  # ~1 KB each, far below 10,000 events but past 64 KiB
    assert ollive.stats()["spilled"] > 0
    ingest.block.set()
    assert ollive.flush(60)
    assert ollive.stats()["sent"] == 1_060 and _order(ingest) == list(range(1_060))


def test_past_both_bounds_events_are_dropped_counted_and_warned_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ingest = IngestServer()
    ingest.block = threading.Event()
    try:
        ollive.init(
            endpoint=ingest.endpoint,
            max_queue_size=20,
            max_spill_bytes=20_000,
            flush_interval_s=0.05,
            spill_dir=str(tmp_path),
        )
        with caplog.at_level(logging.WARNING, logger="ollive.sdk"):
            _emit(1_000)
        stats = ollive.stats()
        assert stats["dropped"] > 0 and stats["spilled"] > 0
        assert stats["enqueued"] + stats["dropped"] == 1_000
        warnings = [r for r in caplog.records if "dropping events" in r.getMessage()]
        assert len(warnings) == 1 and "disk buffer" in warnings[0].getMessage()
        ingest.block.set()
        assert ollive.flush(30)
        assert ollive.stats()["sent"] == stats["enqueued"]
    finally:
        ingest.close()


def test_flush_waits_for_what_is_on_disk(ingest: IngestServer, tmp_path: Path) -> None:
    ollive.init(
        endpoint=ingest.endpoint,
        max_queue_size=5,
        flush_interval_s=30,  # only flush() wakes the worker for a partial batch
        max_batch_events=1_000,
        spill_dir=str(tmp_path),
    )
    _emit(300)
    assert ollive.stats()["spilled"] > 0
    assert ollive.flush(30)
    assert len(ingest.events) == 300


def test_disk_buffer_is_fifo_across_segments_and_bounded(tmp_path: Path) -> None:
    buffer = DiskBuffer(tmp_path, max_bytes=1_000, segment_bytes=100)
    lines = [f'{{"n": {i}}}'.encode() for i in range(200)]
    written = [line for line in lines if buffer.append(line)]
    assert 0 < len(written) < len(lines)  # bounded: 1,000 bytes hold ~100 of them
    assert buffer.bytes <= 1_000 and buffer.events == len(written)
    taken: list[bytes] = []
    while True:
        segment, lost = buffer.take_segment()
        assert lost == 0
        if not segment:
            break
        taken += segment
    assert taken == written and buffer.events == 0 and buffer.bytes == 0
    assert buffer.append(b'{"n": "again"}')  # room again once read
    assert buffer.clear() == 1
    assert list(tmp_path.iterdir()) == []
