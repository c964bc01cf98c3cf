"""``ollive bench soak --minutes M``: steady ingest load, memory of every process, spool depth.

Starts the embedded ingest (local Ray, Valkey, the chDB warehouse actor, 2 replicas) in a
fresh home, sends ``rate`` events/s in gzip batches for ``minutes``, samples the RSS of
every process of the platform (by role and pid) and of this driver every ``sample_s``, and
the writers' dead-letter queue depth. At the end it checks acknowledged == stored and
reports, per process, the RSS after warm-up (the first fifth of the run) and at the end:
``flat`` is true when no process grew by more than 15 % and 64 MiB over that span.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

__all__ = ["SoakReport", "run_soak"]

_ROLES = ("IngestAPI", "EventWriter", "WarehouseActor", "ProxyActor", "ServeController",
          "raylet", "gcs_server", "valkey-server")  # fmt: skip
_GROWTH_SHARE, _GROWTH_MIB = 0.15, 64.0


@dataclass
class SoakReport:
    """RSS samples per process (MiB), spool depth samples, driver totals."""

    samples: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    spool: list[int] = field(default_factory=list)

    def growth(self) -> dict[str, dict[str, float]]:
        """Per process: RSS after warm-up, at the end, and the change (MiB)."""
        out = {}
        for name, points in self.samples.items():
            if len(points) < 3:
                continue
            span = points[-1][0] - points[0][0]
            warm = next((rss for t, rss in points if t - points[0][0] >= span / 5), points[0][1])
            end = points[-1][1]
            out[name] = {"warm_mib": round(warm, 1), "end_mib": round(end, 1),
                         "growth_mib": round(end - warm, 1)}  # fmt: skip
        return out

    def flat(self) -> bool:
        return all(
            g["growth_mib"] <= max(_GROWTH_MIB, _GROWTH_SHARE * g["warm_mib"])
            for g in self.growth().values()
        )


def _sample(report: SoakReport, writers: list[Any], stop: threading.Event, every_s: float) -> None:
    import psutil
    import ray

    me = psutil.Process()
    began = time.monotonic()
    while not stop.is_set():
        now = time.monotonic() - began
        for proc in [me, *me.children(recursive=True)]:
            try:
                cmd = " ".join(proc.cmdline())
                rss = proc.memory_info().rss / 2**20
            except psutil.Error:
                continue
            role = "driver" if proc.pid == me.pid else next((r for r in _ROLES if r in cmd), None)
            if role:
                report.samples.setdefault(f"{role}[{proc.pid}]", []).append((now, rss))
        try:
            stats = ray.get([w.stats.remote() for w in writers], timeout=10)
            report.spool.append(sum(int(s["spool_files"]) for s in stats))
        except Exception:
            report.spool.append(-1)
        stop.wait(every_s)


def run_soak(
    settings: Any,
    minutes: float,
    rate: float = 500.0,
    batch_size: int = 250,
    sample_s: float = 10.0,
) -> dict[str, Any]:
    """Run the soak; returns its figures (see the module docstring)."""
    import tempfile
    from pathlib import Path

    from ollive.config import DEMO_API_KEY
    from serve.bench import (
        _bench_warehouse,
        _free_port,
        count_service_rows,
        drive,
        make_batches,
        make_events,
    )
    from serve.local import start_local_ingest

    home = Path(tempfile.mkdtemp(prefix="ollive-soak-"))
    local_settings = settings.model_copy(
        update={"home": home, "warehouse_url": None, "redis_url": None}
    )
    local = start_local_ingest(local_settings, _free_port(), "ingest-soak", num_cpus=2, replicas=2)
    service = f"soak-{uuid.uuid4().hex[:8]}"
    report, stop = SoakReport(), threading.Event()
    sampler = threading.Thread(
        target=_sample, args=(report, local.writers, stop, sample_s), daemon=True
    )
    acknowledged = sent = 0
    seconds = 0.0
    try:
        sampler.start()
        deadline = time.monotonic() + minutes * 60
        tick = 0
        while time.monotonic() < deadline:
            started = time.monotonic()
            events = make_events(int(rate), service, seed=tick)
            result = drive(local.url, DEMO_API_KEY, make_batches(events, batch_size), concurrency=2)
            acknowledged += result.accepted + result.duplicates
            sent += len(events)
            tick += 1
            time.sleep(max(0.0, 1.0 - (time.monotonic() - started)))
        seconds = minutes * 60
        warehouse = _bench_warehouse()
        stored = 0
        for _ in range(120):
            counts = count_service_rows(warehouse, service)
            stored = sum(counts[f"{t}_final"] for t in
                         ("inference_logs", "tool_executions", "application_logs", "scores"))  # fmt: skip
            if stored >= acknowledged:
                break
            time.sleep(1)
    finally:
        stop.set()
        sampler.join(timeout=30)
        local.stop(shutdown_ray=True)
    return {
        "bench": "soak",
        "minutes": minutes,
        "target_events_per_s": rate,
        "achieved_events_per_s": round(sent / max(seconds, 1e-9)),
        "sent": sent,
        "acknowledged": acknowledged,
        "stored": stored,
        "memory_flat": report.flat(),
        "rss": report.growth(),
        "spool_max": max(report.spool, default=0),
        "spool_end": report.spool[-1] if report.spool else None,
    }
