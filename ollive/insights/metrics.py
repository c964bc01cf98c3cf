"""KPIs and time series of inference traffic: summary, latency, throughput, errors, usage.

Every function has an ``*_expr`` twin returning the Ibis expression it runs, for users who
want to go further (``latency_expr(con).filter(...).to_pandas()``); the plain function
executes it and returns a pandas DataFrame. Time series read the 5-minute aggregates when
the bucket is a multiple of 5 minutes and no user filter is set, else the raw table.
"""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from ollive.insights import _sources as s
from ollive.insights.filters import Filters

__all__ = [
    "errors",
    "errors_expr",
    "latency",
    "latency_expr",
    "summary",
    "summary_expr",
    "throughput",
    "throughput_expr",
    "usage",
    "usage_expr",
]

_KPIS = (
    "requests",
    "errors",
    "error_rate",
    "latency_p95_ms",
    "total_tokens",
    "cost_usd",
    "users",
    "conversations",
)


def _dims(by: str | tuple[str, ...] | list[str] | None) -> tuple[str, ...]:
    if by is None:
        return ()
    return (by,) if isinstance(by, str) else tuple(by)


def summary_expr(con: Any, filters: Filters | None = None, **kw: Any) -> ir.Table:
    """One row per ``period`` ("current", "previous") with the KPI columns."""
    f = Filters.of(filters, **kw)
    start, end = f.range()
    both = Filters.of(f, start=start - (end - start), end=end)
    src = s.inference_source(con, both, s.MV_BUCKET_S, ())
    ts = src.table[src.time_column]
    names = (
        "requests",
        "errors",
        "latency_q",
        "total_tokens",
        "cost_usd",
        "users",
        "conversations",
    )
    period = ibis.ifelse(ts >= ibis.literal(start), "current", "previous")
    measures = s.split_quantiles(s.inference_measures(src, names), "latency_q", "latency", ("p95",))
    measures["error_rate"] = s.ratio(measures["errors"], measures["requests"])
    return src.table.group_by(period=period).aggregate(**measures).select("period", *_KPIS)


def summary(con: Any, filters: Filters | None = None, **kw: Any) -> pd.DataFrame:
    """KPIs of the window against the previous window of the same length.

    Columns: ``metric``, ``value``, ``previous``, ``change`` (relative, NaN when the
    previous value is 0). Rows: requests, errors, error_rate, latency_p95_ms,
    total_tokens, cost_usd, users, conversations (all 0 on an empty warehouse).
    """
    df = summary_expr(con, filters, **kw).to_pandas().set_index("period")
    rows = []
    for kpi in _KPIS:
        value = float(df.at["current", kpi]) if "current" in df.index else 0.0
        previous = float(df.at["previous", kpi]) if "previous" in df.index else 0.0
        value = 0.0 if pd.isna(value) else value
        previous = 0.0 if pd.isna(previous) else previous
        change = (value - previous) / previous if previous else float("nan")
        rows.append({"metric": kpi, "value": value, "previous": previous, "change": change})
    return pd.DataFrame(rows, columns=["metric", "value", "previous", "change"])


def latency_expr(
    con: Any,
    filters: Filters | None = None,
    *,
    bucket: str | None = "5m",
    by: Any = None,
    **kw: Any,
) -> ir.Table:
    """Per bucket (and ``by``): requests, latency_p50/p95/p99_ms, ttft_p50/p95/p99_ms."""
    f = Filters.of(filters, **kw)
    bucket_s, dims = s.bucket_seconds(bucket), _dims(by)
    src = s.inference_source(con, f, bucket_s, dims)
    keys = src.keys(bucket_s, dims)
    measures = s.inference_measures(src, ("requests", "latency_q", "ttft_q"))
    measures = s.split_quantiles(
        s.split_quantiles(measures, "latency_q", "latency"), "ttft_q", "ttft"
    )
    return src.table.group_by(**keys).aggregate(**measures).order_by(list(keys))


def latency(
    con: Any,
    filters: Filters | None = None,
    *,
    bucket: str | None = "5m",
    by: Any = None,
    **kw: Any,
) -> pd.DataFrame:
    """Latency and time-to-first-token percentiles (ms) over time, optionally by
    ``model``, ``provider`` or ``service`` (``bucket=None``: one row per group)."""
    return latency_expr(con, filters, bucket=bucket, by=by, **kw).to_pandas()


def throughput_expr(
    con: Any, filters: Filters | None = None, *, bucket: str = "5m", by: Any = None, **kw: Any
) -> ir.Table:
    """Per bucket (and ``by``): requests, errors, error_rate, requests_per_s."""
    f = Filters.of(filters, **kw)
    bucket_s, dims = s.bucket_seconds(bucket), _dims(by)
    assert bucket_s is not None
    src = s.inference_source(con, f, bucket_s, dims)
    keys = src.keys(bucket_s, dims)
    expr = src.table.group_by(**keys).aggregate(**s.inference_measures(src, ("requests", "errors")))
    expr = expr.mutate(
        error_rate=s.ratio(expr.errors, expr.requests),
        requests_per_s=expr.requests.cast("float64") / bucket_s,
    )
    return expr.order_by(list(keys))


def throughput(
    con: Any, filters: Filters | None = None, *, bucket: str = "5m", by: Any = None, **kw: Any
) -> pd.DataFrame:
    """Requests, errors, error rate and requests per second over time."""
    return throughput_expr(con, filters, bucket=bucket, by=by, **kw).to_pandas()


def errors_expr(
    con: Any, filters: Filters | None = None, *, by: Any = "error_code", limit: int = 50, **kw: Any
) -> ir.Table:
    """Failed inferences grouped by ``error_code`` (and e.g. ``model``), most frequent first."""
    f = Filters.of(filters, **kw)
    src = s.inference_source(con, f, None, (), force_raw=True)
    t = src.table
    total = t.count()
    failed = t.filter(t.status.isin(s.ERROR_STATUSES))
    keys = [k if k in ("error_code", "status") else s.DIMENSIONS.get(k, k) for k in _dims(by)]
    expr = failed.group_by(keys).aggregate(
        errors=failed.count(),
        last_seen=failed.started_at.max(),
        example=failed.error_message.arbitrary(),
    )
    expr = expr.mutate(share_of_requests=expr.errors.cast("float64") / total.as_scalar())
    return expr.order_by(ibis.desc("errors")).limit(limit)


def errors(
    con: Any, filters: Filters | None = None, *, by: Any = "error_code", limit: int = 50, **kw: Any
) -> pd.DataFrame:
    """Errors by code: count, share of all requests, last seen, an example message.
    (Errors over time: the ``errors``/``error_rate`` columns of :func:`throughput`.)"""
    return errors_expr(con, filters, by=by, limit=limit, **kw).to_pandas()


def usage_expr(
    con: Any,
    filters: Filters | None = None,
    *,
    by: Any = "model",
    bucket: str | None = None,
    **kw: Any,
) -> ir.Table:
    """Tokens and cost per ``by`` (model, provider, service, user, conversation ...)."""
    f = Filters.of(filters, **kw)
    bucket_s, dims = s.bucket_seconds(bucket), _dims(by)
    src = s.inference_source(con, f, bucket_s, dims)
    keys = src.keys(bucket_s, dims)
    names = ("requests", "prompt_tokens", "completion_tokens", "total_tokens", "cost_usd")
    expr = src.table.group_by(**keys).aggregate(**s.inference_measures(src, names))
    order = [*(["bucket"] if bucket_s else []), ibis.desc("cost_usd")]
    return expr.order_by(order)


def usage(
    con: Any,
    filters: Filters | None = None,
    *,
    by: Any = "model",
    bucket: str | None = None,
    **kw: Any,
) -> pd.DataFrame:
    """Requests, prompt/completion/total tokens and cost (USD) per group, most costly first;
    with ``bucket`` ("1h", "1d" ...) one row per bucket and group."""
    return usage_expr(con, filters, by=by, bucket=bucket, **kw).to_pandas()
