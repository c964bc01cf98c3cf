"""``ollive bench capacity``: CPU cost of each ingest stage, for sizing a cluster.

Runs the stages in this process, without Ray or HTTP, and measures **CPU seconds**
(``time.process_time``), so the figures hold on a busy machine too: events per CPU-second of

- ``replica_pipeline``: what an IngestAPI replica does per body: gunzip, validate, price,
  redact (Presidio, as deployed) and split into Arrow tables per writer shard;
- ``replica_pipeline_no_redaction``: the same with redaction off (the redaction share);
- ``otlp_convert``: decoding an OTLP protobuf export and mapping its spans (``/v1/traces``);
- ``warehouse_insert``: what the warehouse does per writer flush: an Arrow insert into the
  raw tables and their 5-minute materialized views, one flush per table (chDB, the
  ClickHouse engine).

A replica also spends time in the Serve proxy and in Valkey round trips; ``ollive bench
ingest`` measures the whole path in wall time. See docs/scaling.md for how to use both.
"""

from __future__ import annotations

import gzip
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa

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
    events: int = 20_000, batch_size: int = 1000, shards: int = 2, repeats: int = 3
) -> dict[str, Any]:
    """Events per CPU-second of each stage (see the module docstring)."""
    from ollive.bench._workload import make_events
    from ollive.ingest import IngestPipeline
    from ollive.ingest.otlp import OTLP_PROTOBUF, convert_spans, decode_trace_request
    from ollive.redact import Redactor
    from ollive.store.chdb import ChdbWarehouse
    from ollive.store.migrations import migrate

    data = make_events(events, "capacity")
    bodies = [
        gzip.compress(orjson.dumps({"events": data[i : i + batch_size]}), 1)
        for i in range(0, len(data), batch_size)
    ]
    redactor = Redactor()
    redactor.warm()
    with_redaction = IngestPipeline(redactor, max_events=batch_size)
    without = IngestPipeline(None, max_events=batch_size)

    def pipeline(p: IngestPipeline) -> Callable[[], object]:
        return lambda: [p.prepare(b, "bench", "gzip").to_arrow(shards) for b in bodies]

    figures: dict[str, Any] = {"bench": "capacity", "events": events, "batch_size": batch_size}
    figures["replica_pipeline_events_per_cpu_s"] = round(
        _cpu_rate(events, pipeline(with_redaction), 1)
    )
    figures["replica_pipeline_no_redaction_events_per_cpu_s"] = round(
        _cpu_rate(events, pipeline(without), repeats)
    )
    otlp = _otlp_body(batch_size)
    figures["otlp_convert_spans_per_cpu_s"] = round(
        _cpu_rate(
            batch_size,
            lambda: convert_spans(decode_trace_request(otlp, OTLP_PROTOBUF)),
            repeats * 5,
        )
    )
    # one writer flush per table: the bodies' rows concatenated (writer_flush_rows is 20k)
    parts: dict[str, list[Any]] = {}
    for body in bodies:
        for table, arrow in without.prepare(body, "bench", "gzip").to_arrow(1)[0].items():
            parts.setdefault(table, []).append(arrow)
    flushes = {table: pa.concat_tables(arrows) for table, arrows in parts.items()}
    with tempfile.TemporaryDirectory(prefix="ollive-capacity-") as tmp:
        warehouse = ChdbWarehouse(Path(tmp) / "wh")
        migrate(warehouse)

        def insert() -> None:
            for table, arrow in flushes.items():
                warehouse.insert_arrow(table, arrow, uuid.uuid4().hex)

        figures["warehouse_insert_events_per_cpu_s"] = round(_cpu_rate(events, insert, repeats))
        warehouse.close()
    return figures
