"""``ollive bench soak --minutes M``: steady ingest load, memory of every process, spool depth.

Starts the embedded ingest (local Ray, Valkey, the chDB warehouse actor, 2 replicas) in a
fresh home, sends ``rate`` events/s in gzip batches for ``minutes``, samples the RSS of
every process of the platform (by role and pid) and of this driver every ``sample_s``, and
the writers' dead-letter queue depth. At the end it checks acknowledged == stored and
reports, per process, the RSS after warm-up (the first fifth of the run) and at the end:
``flat`` is true when no process grew by more than 15 % and 64 MiB over that span;
``growth_last_half_mib`` (end minus the sample at half time) and ``trend_last_half_mib``
(a least-squares line through every sample of the second half, its rise over that half)
tell a plateau from a climb; the trend is the one to read for a process whose memory
swings between allocator purges.

To tell a leak from caches filling up, it also samples the warehouse engine's own
accounting (``system.metrics``: ``MemoryTracking``, the bytes held by each cache) and the
number of active data parts, and reports them the same way (``engine``).
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, cast

__all__ = ["SoakReport", "run_soak"]

_ROLES = ("IngestAPI", "EventWriter", "WarehouseActor", "ProxyActor", "ServeController",
          "raylet", "gcs_server", "valkey-server")  # fmt: skip
_GROWTH_SHARE, _GROWTH_MIB = 0.15, 64.0


@dataclass
class SoakReport:
    """RSS samples per process (MiB), spool depth samples, driver totals."""

    samples: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    spool: list[int] = field(default_factory=list)
    engine: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    unique: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    actor: dict[str, list[tuple[float, float]]] = field(default_factory=dict)

    def growth(
        self, series: dict[str, list[tuple[float, float]]] | None = None, unit: str = "_mib"
    ) -> dict[str, dict[str, float]]:
        """Per process (or engine figure): value after warm-up, at the end, and the change."""
        out = {}
        for name, points in (self.samples if series is None else series).items():
            if len(points) < 3 or not any(value for _, value in points):
                continue
            span = points[-1][0] - points[0][0]
            warm = next((rss for t, rss in points if t - points[0][0] >= span / 5), points[0][1])
            end = points[-1][1]
            half = next(value for t, value in points if t - points[0][0] >= span / 2)
            out[name] = {f"warm{unit}": round(warm, 1), f"end{unit}": round(end, 1),
                         f"growth{unit}": round(end - warm, 1),
                         f"growth_last_half{unit}": round(end - half, 1),
                         f"trend_last_half{unit}": round(_trend(points, span / 2), 1)}  # fmt: skip
        return out

    def flat(self) -> bool:
        return all(
            g["growth_mib"] <= max(_GROWTH_MIB, _GROWTH_SHARE * g["warm_mib"])
            for g in self.growth().values()
        )


def _trend(points: list[tuple[float, float]], since: float) -> float:
    """Growth over the points after ``since`` by a least-squares line (its slope times that
    span): two single samples of a process whose memory swings by tens of MiB between
    allocator purges say little; the line through every sample says whether it climbs."""
    t0 = points[0][0]
    tail = [(t, v) for t, v in points if t - t0 >= since]
    if len(tail) < 3:
        return 0.0
    n = len(tail)
    mean_t = sum(t for t, _ in tail) / n
    mean_v = sum(v for _, v in tail) / n
    var = sum((t - mean_t) ** 2 for t, _ in tail)
    if var == 0:
        return 0.0
    slope = sum((t - mean_t) * (v - mean_v) for t, v in tail) / var
    return slope * (tail[-1][0] - tail[0][0])


_ENGINE_SQL = (
    "SELECT metric, value FROM system.metrics WHERE metric = 'MemoryTracking' "
    "OR (metric LIKE '%CacheBytes' AND metric NOT LIKE 'Filesystem%') "
    "UNION ALL SELECT 'ActiveParts', toInt64(count()) FROM system.parts WHERE active"
)


_JEMALLOC = re.compile(
    r"Allocated: (\d+), active: (\d+), metadata: (\d+).*?resident: (\d+), mapped: (\d+), "
    r"retained: (\d+)"
)


def _sample_jemalloc(report: SoakReport, warehouse: Any, now: float) -> None:
    """chDB's jemalloc totals (MiB): what the engine's allocator holds beyond its tracking."""
    try:
        text = "\n".join(
            str(v) for row in warehouse.query_arrow("SELECT * FROM system.jemalloc_stats")
            .to_pylist() for v in row.values()
        )  # fmt: skip
    except Exception:
        return
    found = _JEMALLOC.search(text)
    if found is None:
        return
    for name, value in zip(
        ("allocated", "active", "metadata", "resident", "mapped", "retained"),
        found.groups(),
        strict=True,
    ):
        report.engine.setdefault(f"jemalloc_{name}", []).append((now, int(value) / 2**20))


def _sample_engine(report: SoakReport, warehouse: Any, now: float) -> None:
    """The engine's own memory accounting (MiB) and its active parts (a count)."""
    _sample_jemalloc(report, warehouse, now)
    try:
        rows = warehouse.query_arrow(_ENGINE_SQL).to_pylist()
    except Exception:
        return
    for row in rows:
        value = float(row["value"])
        name = str(row["metric"])
        report.engine.setdefault(name, []).append(
            (now, value if name == "ActiveParts" else value / 2**20)
        )


def _sample(
    report: SoakReport, writers: list[Any], warehouse: Any, stop: threading.Event, every_s: float
) -> None:
    import psutil
    import ray

    me = psutil.Process()
    began = time.monotonic()
    while not stop.is_set():
        now = time.monotonic() - began
        for proc in [me, *me.children(recursive=True)]:
            try:
                cmd = " ".join(proc.cmdline())
                memory = proc.memory_full_info()
            except psutil.Error:
                continue
            role = "driver" if proc.pid == me.pid else next((r for r in _ROLES if r in cmd), None)
            if role:
                key = f"{role}[{proc.pid}]"
                report.samples.setdefault(key, []).append((now, memory.rss / 2**20))
                # unique set: the process's own pages (RSS also counts shared object-store pages)
                report.unique.setdefault(key, []).append((now, memory.uss / 2**20))
        try:
            stats = ray.get([w.stats.remote() for w in writers], timeout=10)
            report.spool.append(sum(int(s["spool_files"]) for s in stats))
        except Exception:
            report.spool.append(-1)
        _sample_engine(report, warehouse, now)
        _sample_actor(report, now)
        stop.wait(every_s)


def _sample_actor(report: SoakReport, now: float) -> None:
    """The warehouse actor's allocator, Arrow pool and Python heap (MiB; objects a count)."""
    import ray

    from ollive.store.actor import NAMESPACE, WAREHOUSE_ACTOR

    try:
        actor = ray.get_actor(WAREHOUSE_ACTOR, namespace=NAMESPACE)
        stats = cast(dict[str, float], ray.get(actor.process_memory.remote(), timeout=10))
    except Exception:
        return
    for name, value in stats.items():
        report.actor.setdefault(name, []).append((now, float(value)))


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

    import ray

    from ollive.bench._workload import (
        bench_warehouse,
        count_service_rows,
        drive,
        free_port,
        make_batches,
        make_events,
    )
    from ollive.config import DEMO_API_KEY
    from serve.local import start_local_ingest

    home = Path(tempfile.mkdtemp(prefix="ollive-soak-"))
    local_settings = settings.model_copy(
        update={"home": home, "warehouse_url": None, "redis_url": None}
    )
    local = start_local_ingest(local_settings, free_port(), "ingest-soak", num_cpus=2, replicas=2)
    service = f"soak-{uuid.uuid4().hex[:8]}"
    report, stop = SoakReport(), threading.Event()
    warehouse = bench_warehouse()
    sampler = threading.Thread(
        target=_sample, args=(report, local.writers, warehouse, stop, sample_s), daemon=True
    )
    acknowledged = sent = 0
    seconds = 0.0
    writer_stats: list[dict[str, Any]] = []
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
        writer_stats = ray.get([w.stats.remote() for w in local.writers], timeout=60)
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
        "uss": report.growth(report.unique),
        # chDB's own accounting (MiB) and its active parts (a count)
        "engine": report.growth({k: v for k, v in report.engine.items() if k != "ActiveParts"}),
        "active_parts": report.growth(
            {"ActiveParts": report.engine.get("ActiveParts", [])}, ""
        ).get("ActiveParts"),
        # dead-letter queue depth (files) sampled, and rows that went through it
        # the warehouse actor's own view: malloc in use / kept free, Arrow pool, Python heap
        "warehouse_actor": report.growth(report.actor, ""),
        "spool_max": max(report.spool, default=0),
        "rows_spooled": sum(int(s["rows_spooled"]) for s in writer_stats),
        "insert_failures": sum(int(s["insert_failures"]) for s in writer_stats),
        "spool_end": report.spool[-1] if report.spool else None,
    }
