"""The pipeline's own health: ingest lag, volume, rejects, duplicates, dead letters, MV freshness.

>>> import ollive
>>> con = ollive.connect()                                        # doctest: +SKIP
>>> health = ollive.insights.data_health(con, window="1h")         # doctest: +SKIP
>>> health.summary                                                 # doctest: +SKIP
>>> health.lag                                                     # doctest: +SKIP

- **lag** (from the raw tables): per kind of event and service, events, events per minute,
  and the ingest lag = the time ingest received an event (``ingested_at``) minus the time
  it finished (``finished_at``; a log's or score's ``timestamp``): p50, p95 and max. A
  growing lag is telemetry arriving late (an SDK buffering, a spool replaying).
- **pipeline** (from ``pipeline_stats``, reported by the running platform's writers every
  ``OLLIVE_HEALTH_REPORT_S``): per ingest replica and writer, events accepted, rejected and
  answered as duplicates, rows committed and spooled, insert failures, and the current
  dead-letter queue (spooled flushes and bytes) and rows waiting for their commit.
  Empty when no platform reported in the window (a seeded or copied warehouse).
- **freshness**: per 5-minute aggregate, the newest raw event and the newest aggregate
  bucket; ``behind_s`` > 0 means the materialized view lags its raw table.
- **evaluations** (from ``evaluation_state``, written by the online evaluator): per rule,
  its watermark and how far it trails now (``lag_s``), the ``backlog`` of events waiting
  to be scored, and the totals scored, skipped and failed, judge calls and judge cost.
  Empty when no online evaluation ran (no ``OLLIVE_EVALUATIONS_FILE``); not narrowed by
  the filters (a rule's state is one row, whatever the window).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from ollive.insights import _sources as s
from ollive.insights.evaluations import evaluation_state
from ollive.insights.filters import Filters
from ollive.store.pipeline_stats import GAUGES, INGEST_COUNTERS, WRITER_COUNTERS
from ollive.store.tables import AGGREGATES, TIME_COLUMNS

__all__ = ["EVALUATION_COLUMNS", "DataHealth", "data_health", "data_health_expr"]

#: kind of event -> its raw table and the column saying when it finished
_KINDS = {
    "inference": ("inference_logs", "finished_at"),
    "tool": ("tool_executions", "finished_at"),
    "log": ("application_logs", "timestamp"),
    "score": ("scores", "timestamp"),
}
#: the columns of :attr:`DataHealth.evaluations`, one row per online-evaluation rule
EVALUATION_COLUMNS = ("rule", "watermark", "lag_s", "backlog", "scored", "skipped", "errors",
                      "judge_calls", "judge_cost_usd", "updated_at")  # fmt: skip


@dataclass(frozen=True)
class DataHealth:
    """What :func:`data_health` returns: ``summary`` (one row per headline figure),
    ``lag``, ``pipeline``, ``freshness`` and ``evaluations`` DataFrames (see the module
    docstring)."""

    summary: pd.DataFrame
    lag: pd.DataFrame
    pipeline: pd.DataFrame
    freshness: pd.DataFrame
    evaluations: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=list(EVALUATION_COLUMNS))
    )

    def _repr_html_(self) -> str:
        parts = [
            ("Summary", self.summary),
            ("Ingest lag and volume", self.lag),
            ("Pipeline", self.pipeline),
            ("Aggregate freshness", self.freshness),
            ("Online evaluation", self.evaluations),
        ]
        return "".join(f"<h4>{title}</h4>{df.to_html(index=False)}" for title, df in parts)


def data_health_expr(con: Any, filters: Filters | None = None, **kw: Any) -> ir.Table:
    """Events and ingest lag per kind and service (the ``lag`` part of :func:`data_health`)."""
    f = Filters.of(filters, **kw)
    start, end = f.range()
    minutes = (end - start) / timedelta(minutes=1)
    parts = []
    for kind, (table, finished) in _KINDS.items():
        t = f.apply(s.cached_table(con, table), TIME_COLUMNS[table], con.project,
                    ignore=("provider", "model") if kind != "inference" else ())  # fmt: skip
        lag_ms = t.ingested_at.delta(t[finished], unit="millisecond").cast("float64")
        parts.append(
            t.group_by(service=t.service)
            .aggregate(
                events=t.count(),
                lag_p50_ms=lag_ms.quantile(0.5),
                lag_p95_ms=lag_ms.quantile(0.95),
                lag_max_ms=lag_ms.max(),
                last_event_at=t[finished].max().cast("timestamp('UTC', 3)"),
                last_ingested_at=t.ingested_at.max().cast("timestamp('UTC', 3)"),
            )
            .mutate(kind=ibis.literal(kind))
        )
    expr = ibis.union(*parts)
    expr = expr.mutate(events_per_min=expr.events.cast("float64") / minutes)
    columns = ["kind", "service", "events", "events_per_min", "lag_p50_ms", "lag_p95_ms",
               "lag_max_ms", "last_event_at", "last_ingested_at"]  # fmt: skip
    return expr.select(*columns).order_by(["kind", "service"])


def _pipeline(con: Any, f: Filters) -> pd.DataFrame:
    start, end = f.range()
    t = s.cached_table(con, "pipeline_stats")
    t = t.filter(t.ts >= ibis.literal(start), t.ts < ibis.literal(end))
    expr = t.group_by(["component", "instance"]).aggregate(
        **{c: t[c].sum().cast("int64") for c in (*INGEST_COUNTERS, *WRITER_COUNTERS)},
        **{c: t[c].argmax(t.ts).cast("int64") for c in GAUGES},
        reports=t.count(),
        last_report=t.ts.max(),
    )
    return expr.order_by(["component", "instance"]).to_pandas()


def _freshness(con: Any, f: Filters) -> pd.DataFrame:
    project = f.project or con.project
    rows = []
    for aggregate, (_view, raw, time_column) in AGGREGATES.items():
        r = s.cached_table(con, raw)
        a = s.cached_table(con, aggregate)
        if project:
            r = r.filter(r.project == ibis.literal(project))
            a = a.filter(a.project == ibis.literal(project))
        newest_raw = r[time_column].max().to_pandas()
        newest_bucket = a.bucket.max().to_pandas()
        raw_bucket = (
            None if pd.isna(newest_raw) else pd.Timestamp(newest_raw).floor(f"{s.MV_BUCKET_S}s")
        )
        behind = (
            0.0
            if raw_bucket is None
            else (
                (raw_bucket - pd.Timestamp(newest_bucket)).total_seconds()
                if not pd.isna(newest_bucket)
                else float("inf")
            )
        )
        rows.append(
            {
                "aggregate": aggregate,
                "raw_table": raw,
                "newest_raw_event": newest_raw,
                "newest_bucket": newest_bucket,
                "behind_s": max(0.0, behind),
            }
        )
    return pd.DataFrame(rows)


def data_health(con: Any, filters: Filters | None = None, **kw: Any) -> DataHealth:
    """The pipeline's health over the window (default 24h): see the module docstring."""
    f = Filters.of(filters, **kw)
    lag = data_health_expr(con, f).to_pandas()
    pipeline = _pipeline(con, f)
    freshness = _freshness(con, f)

    def total(column: str) -> int:  # 0 for an empty window (pandas sums nothing to 0)
        return int(pipeline[column].sum())

    figures = {
        "events": int(lag["events"].sum()),
        "events_per_min": float(lag["events_per_min"].sum()),
        "lag_p95_ms_worst": float(lag["lag_p95_ms"].max()) if len(lag) else float("nan"),
        "accepted": total("accepted"),
        "rejected": total("rejected"),
        "duplicates": total("duplicates"),
        "dead_letter_files": total("spool_files"),
        "dead_letter_bytes": total("spool_bytes"),
        "inflight_rows": total("inflight_rows"),
        "insert_failures": total("insert_failures"),
        "aggregates_behind_s": float(freshness["behind_s"].max()),
        "platform_reports": total("reports"),
    }
    summary = pd.DataFrame({"metric": list(figures), "value": list(figures.values())})
    evaluations = evaluation_state(con)[list(EVALUATION_COLUMNS)].reset_index(drop=True)
    return DataHealth(summary=summary, lag=lag, pipeline=pipeline, freshness=freshness,
                      evaluations=evaluations)  # fmt: skip
