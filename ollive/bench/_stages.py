"""The ingest path cut into stages, each timed on its own (for ``ollive bench capacity``).

:class:`StageClock` adds up CPU seconds (``time.process_time``: every thread of this
process) and wall seconds per stage. :class:`ReplicaStages` runs one body the way an
IngestAPI replica does; :class:`WriterStages` buffers what one EventWriter shard receives
and flushes it the way :class:`ollive.store.writer.GroupCommitWriter` does. Both take their
parts (pipeline, deduper, spool, warehouse) ready-made; :mod:`ollive.bench.capacity` builds
them.
"""

from __future__ import annotations

import functools
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import orjson
import pyarrow as pa

from ollive.ingest import Deduper, IngestPipeline, decode_body, parse_body
from ollive.pricing import fill_costs
from ollive.store.base import Warehouse
from ollive.store.spool import Spool, WalSegment

__all__ = [
    "REPLICA_STAGES",
    "STAGES",
    "WAREHOUSE_STAGES",
    "WRITER_STAGES",
    "ReplicaStages",
    "StageClock",
    "ValkeyCpu",
    "WriterStages",
]

#: the stages in the order an event meets them, and where each one runs
REPLICA_STAGES = ("decode", "validate", "price", "redact", "claim", "arrow", "handoff")
WRITER_STAGES = ("writer", "wal_fsync", "marking")
WAREHOUSE_STAGES = ("insert",)
STAGES = (*REPLICA_STAGES, "writer", "wal_fsync", "insert", "marking")

T = TypeVar("T")


@dataclass(slots=True)
class StageClock:
    """CPU and wall seconds per stage, summed over every body and flush."""

    cpu_s: dict[str, float] = field(default_factory=lambda: dict.fromkeys(STAGES, 0.0))
    wall_s: dict[str, float] = field(default_factory=lambda: dict.fromkeys(STAGES, 0.0))

    def add(self, stage: str, cpu_s: float, wall_s: float) -> None:
        self.cpu_s[stage] += cpu_s
        self.wall_s[stage] += wall_s

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Count the block's CPU and wall time (an ``await`` inside it counts too)."""
        cpu, wall = time.process_time(), time.perf_counter()
        try:
            yield
        finally:
            self.add(name, time.process_time() - cpu, time.perf_counter() - wall)

    def time(self, name: str, work: Callable[[], T]) -> T:
        with self.stage(name):
            return work()

    def us_per_event(
        self, events: int, stages: Sequence[str] = STAGES, wall: bool = False
    ) -> dict[str, float]:
        """Stage -> microseconds per event (CPU, or wall with ``wall=True``), 2 decimals."""
        seconds = self.wall_s if wall else self.cpu_s
        return {s: round(seconds[s] / events * 1e6, 2) for s in stages}


def _timed(work: Callable[[], T]) -> tuple[T, float, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    out = work()
    return out, time.process_time() - cpu, time.perf_counter() - wall


@dataclass(slots=True)
class ValkeyCpu:
    """The Valkey server's own CPU seconds (``INFO cpu``), per stage."""

    client: Any
    cpu_s: dict[str, float] = field(default_factory=dict)

    async def used_s(self) -> float:
        info = await self.client.info("cpu")
        return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])

    def add(self, stage: str, seconds: float) -> None:
        self.cpu_s[stage] = self.cpu_s.get(stage, 0.0) + seconds

    def us_per_event(self, events: int) -> dict[str, float]:
        return {s: round(v / events * 1e6, 2) for s, v in self.cpu_s.items()}


@dataclass(slots=True)
class ReplicaStages:
    """One IngestAPI replica's work on a body: decode ▸ validate ▸ price ▸ redact ▸ claim ▸
    Arrow per shard ▸ hand-off to the writers (serialised and read back as Ray would)."""

    pipeline: IngestPipeline  # with the deployed redactor
    deduper: Deduper
    shards: int
    serialise: Callable[[Any], bytes]
    deserialise: Callable[[bytes], Any]
    valkey: ValkeyCpu | None = None

    async def run(self, body: bytes, project: str, clock: StageClock) -> list[dict[str, pa.Table]]:
        """The tables each writer shard receives (empty dicts for shards with no event)."""
        batch = self._prepare(body, project, clock)
        before = await self.valkey.used_s() if self.valkey else 0.0
        with clock.stage("claim"):
            outcome = await self.deduper.claim(batch.project, batch.request_ids, uuid.uuid4().hex)
        if self.valkey:
            self.valkey.add("claim", await self.valkey.used_s() - before)
        batch.keep(outcome.keep)
        shards = clock.time("arrow", lambda: batch.to_arrow(self.shards))
        return clock.time(
            "handoff", lambda: [self.deserialise(self.serialise(t)) if t else {} for t in shards]
        )

    def _prepare(self, body: bytes, project: str, clock: StageClock) -> Any:
        """``IngestPipeline.prepare`` cut in four: its stages are timed alone first (gunzip and
        a JSON parse; ``parse_body`` less that parse; pricing), then ``prepare`` runs as
        deployed and what it costs beyond them is redaction (with the pipeline's glue)."""
        limit = self.pipeline.max_body_bytes
        raw, gunzip_cpu, gunzip_wall = _timed(lambda: decode_body(body, "gzip", limit))
        _, json_cpu, json_wall = _timed(lambda: orjson.loads(raw))
        clock.add("decode", gunzip_cpu + json_cpu, gunzip_wall + json_wall)
        parsed, parse_cpu, parse_wall = _timed(lambda: parse_body(raw, self.pipeline.max_events))
        clock.add("validate", parse_cpu - json_cpu, parse_wall - json_wall)
        _, price_cpu, price_wall = _timed(lambda: fill_costs(parsed.events, self.pipeline.prices))
        clock.add("price", price_cpu, price_wall)
        batch, cpu, wall = _timed(lambda: self.pipeline.prepare(body, project, "gzip"))
        clock.add(
            "redact",
            cpu - gunzip_cpu - parse_cpu - price_cpu,
            wall - gunzip_wall - parse_wall - price_wall,
        )
        return batch


def _log(segment: WalSegment, table: pa.Table) -> None:
    """One body's append to its flush's segment, made durable (what the ack waits for)."""
    segment.append(table)
    segment.sync()


@dataclass(slots=True)
class WriterStages:
    """One EventWriter shard as deployed (``OLLIVE_WRITER_ACK=wal``): each body's tables are
    appended to their flush's write-ahead segment and fsync'd (one fsync per body here; the
    writer groups the fsyncs of concurrent bodies, so this is the upper bound); each table
    flushes at ``flush_rows`` rows: concatenate, close the segment, insert, mark done, mark
    committed in Valkey."""

    spool: Spool
    warehouse: Warehouse
    deduper: Deduper
    flush_rows: int
    valkey: ValkeyCpu | None = None
    flushes: int = 0
    _buffers: dict[str, list[pa.Table]] = field(default_factory=dict)
    _segments: dict[str, WalSegment] = field(default_factory=dict)

    async def add(self, tables: dict[str, pa.Table], clock: StageClock) -> None:
        for name, table in tables.items():
            if name not in self._segments:
                self._segments[name] = self.spool.open_segment(name, uuid.uuid4().hex)
            clock.time("wal_fsync", functools.partial(_log, self._segments[name], table))
            parts = self._buffers.setdefault(name, [])
            parts.append(table)
            if sum(t.num_rows for t in parts) >= self.flush_rows:
                await self.flush(name, clock)

    async def flush_all(self, clock: StageClock) -> None:
        for name in list(self._buffers):
            await self.flush(name, clock)

    async def flush(self, name: str, clock: StageClock) -> None:
        parts = self._buffers.pop(name, [])
        if not parts:
            return
        segment = self._segments.pop(name)
        data = clock.time("writer", lambda: pa.concat_tables(parts).combine_chunks())
        entry = clock.time("wal_fsync", segment.close)
        clock.time("insert", lambda: self.warehouse.insert_arrow(name, data, segment.token))
        clock.time("wal_fsync", lambda: self.spool.mark_done(entry))
        before = await self.valkey.used_s() if self.valkey else 0.0
        with clock.stage("marking"):
            projects = data.column("project").to_pylist()
            ids = data.column("request_id").to_pylist()
            await self.deduper.commit(list(zip(projects, ids, strict=True)))
        if self.valkey:
            self.valkey.add("marking", await self.valkey.used_s() - before)
        self.flushes += 1
