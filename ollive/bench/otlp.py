"""``ollive bench otlp``: one OpenTelemetry SDK app exporting GenAI spans to ``/v1/traces``.

The app is what users run: a ``TracerProvider`` with a ``BatchSpanProcessor`` and the
OTLP/HTTP protobuf exporter. It creates ``spans`` GenAI ``chat`` spans as fast as it can
(attributes from :func:`ollive.bench._workload.genai_span_attributes`), then
``force_flush()``; every span carries the run's unique ``service.name``, so the warehouse
rows are counted exactly. Delivered spans/s is stored spans over the wall time from the
first span to the last one stored.

The processor drops spans when its queue (``max_queue_size``, 2048 by default) is full:
they are reported as ``dropped``, and the check is that every span handed to the exporter
(``sent``) is stored once.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ollive.bench._workload import (
    await_stored,
    bench_warehouse,
    genai_span_attributes,
    stored_events,
)
from ollive.bench.ingest import bench_ingest

__all__ = ["run_otlp_bench"]

#: the BatchSpanProcessor's own defaults (OTEL_BSP_*), restated to report them
DEFAULT_MAX_EXPORT_BATCH_SIZE = 512
DEFAULT_SCHEDULE_DELAY_MS = 5000
DEFAULT_MAX_QUEUE_SIZE = 2048


@dataclass
class ExportTally:
    """What the exporter was handed and how its exports ended."""

    batches: int = 0
    sent: int = 0
    failed: int = 0
    export_s: float = 0.0


def _counting(exporter: Any, tally: ExportTally) -> Any:
    """``exporter`` wrapped so that every export is counted in ``tally``."""
    from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

    class CountingExporter(SpanExporter):
        def export(self, spans: Sequence[Any]) -> SpanExportResult:
            started = time.perf_counter()
            result = exporter.export(spans)
            tally.export_s += time.perf_counter() - started
            tally.batches += 1
            tally.sent += len(spans)
            if result is not SpanExportResult.SUCCESS:
                tally.failed += len(spans)
            return result  # type: ignore[no-any-return]

        def shutdown(self) -> None:
            exporter.shutdown()

        def force_flush(self, timeout_millis: int = 30_000) -> bool:
            return bool(exporter.force_flush(timeout_millis))

    return CountingExporter()


def _tracer_provider(
    endpoint: str,
    api_key: str,
    service: str,
    tally: ExportTally,
    max_export_batch_size: int,
    schedule_delay_ms: float,
    max_queue_size: int,
) -> Any:
    """The app's TracerProvider: BatchSpanProcessor -> OTLP/HTTP protobuf -> ``endpoint``."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    exporter = OTLPSpanExporter(endpoint=endpoint, headers={"Authorization": f"Bearer {api_key}"})
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(
        BatchSpanProcessor(
            _counting(exporter, tally),
            max_queue_size=max_queue_size,
            schedule_delay_millis=schedule_delay_ms,
            max_export_batch_size=max_export_batch_size,
        )
    )
    return provider


def _emit_spans(provider: Any, attributes: list[dict[str, Any]]) -> None:
    """One GenAI client span per attribute set, each ended at once (the app's hot loop)."""
    from opentelemetry.trace import SpanKind

    tracer = provider.get_tracer("ollive.bench.otlp")
    for attrs in attributes:
        name = f"chat {attrs['gen_ai.request.model']}"
        tracer.start_span(name, kind=SpanKind.CLIENT, attributes=attrs).end()


def run_otlp_bench(
    settings: Any,
    url: str | None = None,
    spans: int = 10_000,
    api_key: str | None = None,
    max_export_batch_size: int = DEFAULT_MAX_EXPORT_BATCH_SIZE,
    schedule_delay_ms: float = DEFAULT_SCHEDULE_DELAY_MS,
    max_queue_size: int = DEFAULT_MAX_QUEUE_SIZE,
    count_timeout_s: float = 120.0,
    replicas: int = 2,
) -> dict[str, Any]:
    """The whole benchmark; returns its figures. Raises RuntimeError when the warehouse does
    not hold exactly the spans the exporter sent, or when an export failed."""
    from ollive.config import DEMO_API_KEY

    service = f"bench-otlp-{uuid.uuid4().hex[:10]}"
    attributes = genai_span_attributes(spans)
    tally = ExportTally()
    with bench_ingest(settings, url, replicas, app_name="ingest-bench-otlp") as ingest:
        warehouse = bench_warehouse()
        provider = _tracer_provider(
            f"{ingest.url}/v1/traces",
            api_key or DEMO_API_KEY,
            service,
            tally,
            max_export_batch_size,
            schedule_delay_ms,
            max_queue_size,
        )
        started = time.perf_counter()
        _emit_spans(provider, attributes)
        created_s = time.perf_counter() - started
        flushed = provider.force_flush(timeout_millis=int(count_timeout_s * 1000))
        flushed_s = time.perf_counter() - started
        counts, _ = await_stored(warehouse, service, tally.sent, count_timeout_s)
        delivered_s = time.perf_counter() - started
        provider.shutdown()
    stored = stored_events(counts)
    figures = {
        "bench": "otlp",
        "spans": spans,
        "sent": tally.sent,
        "stored": stored,
        "stored_equals_sent": stored == tally.sent,
        "dropped": spans - tally.sent,
        "export_failures": tally.failed,
        "export_batches": tally.batches,
        "flushed": flushed,
        "app_spans_per_s": round(spans / created_s),
        "delivered_spans_per_s": round(stored / delivered_s),
        "create_s": round(created_s, 3),
        "flush_s": round(flushed_s, 3),
        "delivered_s": round(delivered_s, 3),
        "export_s": round(tally.export_s, 3),
        "exporter": {
            "protocol": "http/protobuf",
            "max_export_batch_size": max_export_batch_size,
            "schedule_delay_ms": schedule_delay_ms,
            "max_queue_size": max_queue_size,
        },
        "replicas": replicas if ingest.local else None,
    }
    if stored != tally.sent or tally.failed:
        raise RuntimeError(f"warehouse holds {stored} rows for {tally.sent} spans sent: {figures}")
    return figures
