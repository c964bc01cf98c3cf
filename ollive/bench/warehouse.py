"""``ollive bench warehouse``: insert throughput and MV vs raw query latency on chDB."""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

__all__ = ["run_warehouse_bench"]

QUERIES = {
    "p95_by_model_24h_mv": (
        "SELECT model, quantilesMerge(0.5, 0.9, 0.95, 0.99)(latency_ms_q)[3] AS p95 "
        "FROM inference_stats_5m WHERE project = 'demo' AND bucket >= now() - INTERVAL 24 HOUR "
        "GROUP BY model ORDER BY model"
    ),
    "p95_by_model_24h_raw": (
        "SELECT model, quantile(0.95)(latency_ms) AS p95 FROM inference_logs "
        "WHERE project = 'demo' AND started_at >= now() - INTERVAL 24 HOUR "
        "GROUP BY model ORDER BY model"
    ),
    "cost_by_model_7d_mv": (
        "SELECT model, sumMerge(cost_usd) AS cost FROM inference_stats_5m "
        "WHERE project = 'demo' AND bucket >= now() - INTERVAL 7 DAY GROUP BY model ORDER BY model"
    ),
    "cost_by_model_7d_raw": (
        "SELECT model, sum(cost_usd) AS cost FROM inference_logs "
        "WHERE project = 'demo' AND started_at >= now() - INTERVAL 7 DAY GROUP BY model ORDER BY model"
    ),
}


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95


def run_warehouse_bench(
    sizes: list[int], repeats: int = 30, directory: Path | None = None, echo: Any = print
) -> dict[str, Any]:
    """Seed a fresh chDB directory per size, then time the queries; returns the figures."""
    from ollive.demo.synth import seed_warehouse
    from ollive.store.chdb import ChdbWarehouse
    from ollive.store.migrations import migrate

    figures: dict[str, Any] = {"bench": "warehouse", "engine": "chdb"}
    for size in sizes:
        root = Path(tempfile.mkdtemp(prefix="ollive-bench-", dir=directory))
        try:
            warehouse = ChdbWarehouse(root / "warehouse")
            migrate(warehouse)
            report = seed_warehouse(warehouse, events=size, progress=True)
            label = f"{size // 1_000_000}M" if size >= 1_000_000 else f"{size // 1000}k"
            rows = report.total
            figures[f"seed_{label}_events"] = rows
            figures[f"seed_{label}_s"] = round(report.seconds, 2)
            figures[f"seed_{label}_rows_per_s"] = round(rows / report.seconds)
            # raw insert throughput: the same Arrow chunk inserted again under new tokens
            figures[f"insert_{label}_rows_per_s"] = round(_insert_rate(warehouse))
            warehouse.command("OPTIMIZE TABLE inference_stats_5m FINAL")
            for name, sql in QUERIES.items():
                warehouse.query_arrow(sql)  # warm
                samples = []
                for _ in range(repeats):
                    began = time.perf_counter()
                    warehouse.query_arrow(sql)
                    samples.append((time.perf_counter() - began) * 1000)
                p50, p95 = _percentiles(samples)
                figures[f"{name}_{label}_p50_ms"] = round(p50, 2)
                figures[f"{name}_{label}_p95_ms"] = round(p95, 2)
            echo(f"{label}: seeded {rows:,} rows in {report.seconds:.1f} s")
            warehouse.close()
        finally:
            shutil.rmtree(root, ignore_errors=True)
    return figures


def _insert_rate(warehouse: Any) -> float:
    """Rows/s of inserting pre-built Arrow inference rows (no generation in the timing)."""
    from ollive.demo.synth import SynthConfig, generate

    config = SynthConfig(
        events=1_730_000, project="bench-insert", seed=99, chunk_inferences=250_000
    )
    chunks = [tables["inference_logs"] for tables in generate(config)]
    began = time.perf_counter()
    rows = sum(
        warehouse.insert_arrow("inference_logs", chunk, token=f"bench-{i}")
        for i, chunk in enumerate(chunks)
    )
    return rows / (time.perf_counter() - began)
