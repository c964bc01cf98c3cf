"""A terminal summary of what a warehouse holds (printed by ``ollive seed`` and ``ollive demo``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ollive.store.maintenance import counts
from ollive.store.quoting import sql_literal

if TYPE_CHECKING:  # pragma: no cover
    from ollive.demo.synth import SeedReport
    from ollive.store.base import Warehouse

__all__ = ["print_summary", "summary_figures"]


def summary_figures(warehouse: Warehouse, project: str = "demo") -> dict[str, Any]:
    """Headline figures of a project, from the 5-minute aggregates and the raw tables."""
    p = sql_literal(project)
    row = warehouse.query_arrow(
        "SELECT countMerge(requests) AS requests, countMerge(errors) AS errors, "
        "quantilesMerge(0.5, 0.9, 0.95, 0.99)(latency_ms_q)[3] AS p95_ms, "
        "sumMerge(total_tokens) AS tokens, sumMerge(cost_usd) AS cost_usd, "
        "toDateTime64(min(bucket), 0, 'UTC') AS first, toDateTime64(max(bucket), 0, 'UTC') AS last "
        f"FROM inference_stats_5m WHERE project = {p}"
    ).to_pylist()[0]
    models = warehouse.query_arrow(
        "SELECT model, countMerge(requests) AS requests, sumMerge(cost_usd) AS cost_usd, "
        "quantilesMerge(0.5, 0.9, 0.95, 0.99)(latency_ms_q)[3] AS p95_ms "
        f"FROM inference_stats_5m WHERE project = {p} GROUP BY model ORDER BY cost_usd DESC"
    ).to_pylist()
    requests = int(row["requests"] or 0)
    return {
        "project": project,
        "requests": requests,
        "error_rate": (int(row["errors"] or 0) / requests) if requests else 0.0,
        "p95_ms": float(row["p95_ms"] or 0.0),
        "tokens": int(row["tokens"] or 0),
        "cost_usd": float(row["cost_usd"] or 0.0),
        "first": row["first"],
        "last": row["last"],
        "models": models,
        "rows": counts(warehouse, final=False),
    }


def print_summary(
    warehouse: Warehouse, project: str = "demo", report: SeedReport | None = None
) -> None:
    """Print rows per table, headline KPIs, cost by model and the injected incidents."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    figures = summary_figures(warehouse, project)
    rows = Table(title=f"Warehouse {warehouse.url}", show_header=True)
    rows.add_column("table")
    rows.add_column("rows", justify="right")
    for name, count in figures["rows"].items():
        rows.add_row(name, f"{count:,}")
    console.print(rows)
    console.print(
        f"[bold]project {project}[/]: {figures['requests']:,} model calls from {figures['first']} to "
        f"{figures['last']} UTC, error rate {figures['error_rate']:.1%}, p95 latency "
        f"{figures['p95_ms']:,.0f} ms, {figures['tokens']:,} tokens, ${figures['cost_usd']:,.2f}"
    )
    models = Table(title="By model (from the 5-minute materialized view)")
    for column in ("model", "calls", "p95 ms", "cost USD"):
        models.add_column(column, justify="left" if column == "model" else "right")
    for m in figures["models"]:
        models.add_row(
            m["model"], f"{m['requests']:,}", f"{m['p95_ms']:,.0f}", f"{m['cost_usd']:,.2f}"
        )
    console.print(models)
    if report is not None and report.incidents:
        incidents = Table(title="Injected incidents (for the anomaly detectors)")
        for column in ("kind", "where", "from", "to"):
            incidents.add_column(column)
        for inc in report.incidents:
            until = "now" if inc.kind == "cost_jump" else f"{inc.end:%Y-%m-%d %H:%M}"
            incidents.add_row(
                inc.kind, f"{inc.dimension}={inc.value}", f"{inc.start:%Y-%m-%d %H:%M}", until
            )
        console.print(incidents)
