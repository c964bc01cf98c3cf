"""``ollive bench ingest``: realistic gzip batches over HTTP, acknowledged then counted.

The workload is :mod:`ollive.bench._workload`'s (30% of the events carry PII).
"""

from __future__ import annotations

import resource
import threading
import time
import uuid
from typing import Any

from ollive.bench._workload import (
    bench_warehouse,
    count_service_rows,
    drive,
    free_port,
    make_batches,
    make_events,
)

__all__ = ["PeakMemory", "run_ingest_bench"]


class PeakMemory:
    """Samples the RSS of this process's children (Ray's processes by role, Valkey) and of
    this process, keeping the peak (MiB). With ``--url`` the server is not a child: only
    the client is reported."""

    def __init__(self, interval_s: float = 0.5) -> None:
        self.peaks: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(interval_s,), daemon=True)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peaks["bench_client"] = round(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
        )

    def _run(self, interval_s: float) -> None:
        import psutil

        me = psutil.Process()
        while not self._stop.is_set():
            # this process's descendants: the local Ray cluster it started, Valkey
            for proc in me.children(recursive=True):
                try:
                    cmd = " ".join(proc.cmdline())
                    rss = proc.memory_info().rss / 2**20
                    role = _role(cmd, proc.name())
                except psutil.Error:
                    continue
                if role:
                    key = f"{role}[{proc.pid}]"
                    self.peaks[key] = round(max(self.peaks.get(key, 0.0), rss), 1)
            self._stop.wait(interval_s)


def _role(cmd: str, name: str) -> str | None:
    for role in (
        "IngestAPI",
        "EventWriter",
        "WarehouseActor",
        "ProxyActor",
        "ServeController",
        "raylet",
        "gcs_server",
        "valkey-server",
    ):
        if role in cmd or role in name:
            return role
    return None


def run_ingest_bench(
    settings: Any,
    url: str | None = None,
    events: int = 200_000,
    concurrency: int = 8,
    batch_size: int = 1000,
    api_key: str | None = None,
    count_timeout_s: float = 120.0,
    replicas: int = 2,
) -> dict[str, Any]:
    """The whole benchmark; returns its figures. Raises RuntimeError when the warehouse does
    not hold exactly the acknowledged events."""
    import tempfile
    from pathlib import Path

    from ollive.config import DEMO_API_KEY

    service = f"bench-{uuid.uuid4().hex[:10]}"
    data = make_events(events, service)
    bodies = make_batches(data, batch_size)
    local = None
    if url is None:
        from serve.local import start_local_ingest

        home = Path(tempfile.mkdtemp(prefix="ollive-bench-"))
        bench_settings = settings.model_copy(
            update={"home": home, "warehouse_url": None, "redis_url": None}
        )
        local = start_local_ingest(
            bench_settings, free_port(), "ingest-bench", num_cpus=2, replicas=replicas
        )
        url = local.url
    try:
        warehouse = bench_warehouse()
        with PeakMemory() as memory:
            result = drive(url, api_key or DEMO_API_KEY, bodies, concurrency)
            counts, counted_s = _await_counts(warehouse, service, events, count_timeout_s)
        end_to_end_s = result.wall_s + counted_s
    finally:
        if local is not None:
            local.stop(shutdown_ray=True)
    stored = sum(
        counts[t] for t in ("inference_logs", "tool_executions", "application_logs", "scores")
    )
    figures = {
        "bench": "ingest",
        "events": events,
        "batch_size": batch_size,
        "concurrency": concurrency,
        "replicas": replicas if local is not None else None,
        "acknowledged": result.accepted + result.duplicates,
        "stored": stored,
        "duplicates": result.duplicates,
        "retries_429_503": result.retries,
        "ack_events_per_s": round(events / result.wall_s),
        "end_to_end_events_per_s": round(events / end_to_end_s),
        "ack_p50_ms": result.quantile_ms(0.5),
        "ack_p99_ms": result.quantile_ms(0.99),
        "peak_rss_mib": memory.peaks,
        "redaction": True,
        "dedupe": True,
    }
    # no event is sent twice, so every acknowledged event (accepted, or a duplicate of a part of
    # a body refused with 429 that was stored before the refusal) must be stored exactly once
    if stored != result.accepted + result.duplicates or stored != events or result.failures:
        raise RuntimeError(
            f"warehouse holds {stored} rows for {result.accepted} acknowledged events: {figures}"
        )
    return figures


def _await_counts(
    warehouse: Any, service: str, expected: int, timeout_s: float
) -> tuple[dict[str, int], float]:
    started = time.perf_counter()
    while True:
        counts = count_service_rows(warehouse, service)
        stored = sum(
            counts[t] for t in ("inference_logs", "tool_executions", "application_logs", "scores")
        )
        if stored >= expected or time.perf_counter() - started > timeout_s:
            return counts, time.perf_counter() - started
        time.sleep(0.2)
