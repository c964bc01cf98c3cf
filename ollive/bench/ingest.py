"""``ollive bench ingest``: realistic gzip batches over HTTP, acknowledged then counted.

The workload is :mod:`ollive.bench._workload`'s (30% of the events carry PII). With
``rate`` the bodies are paced open-loop (each has its scheduled send time) and the ack
latency is measured from that time, so a client that falls behind shows in the figures.
"""

from __future__ import annotations

import resource
import tempfile
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ollive.bench._workload import (
    BenchResult,
    await_stored,
    bench_warehouse,
    drive,
    free_port,
    make_batches,
    make_events,
    open_loop_due_s,
    quantile_ms,
    stored_events,
)

__all__ = ["BenchIngest", "PeakMemory", "bench_ingest", "run_ingest_bench"]


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


@dataclass
class BenchIngest:
    """The ingest a benchmark sends to: its base URL, and whether the benchmark started it."""

    url: str
    local: bool


@contextmanager
def bench_ingest(
    settings: Any, url: str | None = None, replicas: int = 2, app_name: str = "ingest-bench"
) -> Iterator[BenchIngest]:
    """``url`` when given, else a fresh embedded ingest (local Ray, Valkey, a chDB warehouse in
    a temp dir) that is stopped, Ray included, on exit."""
    if url is not None:
        yield BenchIngest(url.rstrip("/"), local=False)
        return
    from serve.local import start_local_ingest

    home = Path(tempfile.mkdtemp(prefix="ollive-bench-"))
    bench_settings = settings.model_copy(
        update={"home": home, "warehouse_url": None, "redis_url": None}
    )
    local = start_local_ingest(bench_settings, free_port(), app_name, num_cpus=2, replicas=replicas)
    try:
        yield BenchIngest(local.url, local=True)
    finally:
        local.stop(shutdown_ray=True)


def run_ingest_bench(
    settings: Any,
    url: str | None = None,
    events: int = 200_000,
    concurrency: int = 8,
    batch_size: int = 1000,
    api_key: str | None = None,
    count_timeout_s: float = 120.0,
    replicas: int = 2,
    rate: float | None = None,
) -> dict[str, Any]:
    """The whole benchmark; returns its figures. ``rate`` (events/s) paces the bodies
    open-loop across the ``concurrency`` senders; None sends as fast as they go. Raises
    RuntimeError when the warehouse does not hold exactly the acknowledged events."""
    from ollive.config import DEMO_API_KEY

    service = f"bench-{uuid.uuid4().hex[:10]}"
    bodies = make_batches(make_events(events, service), batch_size)
    body_events = [min(batch_size, events - i) for i in range(0, events, batch_size)]
    due_s = open_loop_due_s(body_events, rate) if rate is not None else None
    with bench_ingest(settings, url, replicas) as ingest:
        warehouse = bench_warehouse()
        with PeakMemory() as memory:
            result = drive(ingest.url, api_key or DEMO_API_KEY, bodies, concurrency, due_s=due_s)
            counts, counted_s = await_stored(warehouse, service, events, count_timeout_s)
    stored = stored_events(counts)
    figures = {
        "bench": "ingest",
        "events": events,
        "batch_size": batch_size,
        "concurrency": concurrency,
        "replicas": replicas if ingest.local else None,
        "acknowledged": result.accepted + result.duplicates,
        "stored": stored,
        "duplicates": result.duplicates,
        "retries_429_503": result.retries,
        "ack_events_per_s": round(events / result.wall_s),
        "end_to_end_events_per_s": round(events / (result.wall_s + counted_s)),
        "ack_p50_ms": result.quantile_ms(0.5),
        "ack_p99_ms": result.quantile_ms(0.99),
        "peak_rss_mib": memory.peaks,
        "redaction": True,
        "dedupe": True,
        **_rate_figures(result, body_events, rate),
    }
    # no event is sent twice, so every acknowledged event (accepted, or a duplicate of a part of
    # a body refused with 429 that was stored before the refusal) must be stored exactly once
    if stored != result.accepted + result.duplicates or stored != events or result.failures:
        raise RuntimeError(
            f"warehouse holds {stored} rows for {result.accepted} acknowledged events: {figures}"
        )
    return figures


def _rate_figures(
    result: BenchResult, body_events: list[int], rate: float | None
) -> dict[str, Any]:
    """Offered vs achieved send rate, and ack latency per body: from its scheduled send time
    (``ack_ms``, only when paced) and from its first attempt (``ack_ms_from_send``)."""

    def quantiles(values_s: list[float]) -> dict[str, float]:
        return {f"p{q}": quantile_ms(values_s, q / 100) for q in (50, 95, 99)}

    # the events of every body but the last went out between the first and the last send
    first, last = result.sent_at_s.get(0), result.sent_at_s.get(len(body_events) - 1)
    spread_s = (last - first) if first is not None and last is not None else 0.0
    achieved = sum(body_events[:-1]) / spread_s if spread_s > 0 else None
    return {
        "rate_target": rate,
        "rate_achieved": round(achieved, 1) if achieved is not None else None,
        "ack_ms": quantiles(result.ack_from_due_s) if rate is not None else None,
        "ack_ms_from_send": quantiles(result.ack_from_send_s),
    }
