"""Where an insight reads from: the 5-minute aggregates (merge combinators) or the raw tables.

The aggregates (``inference_stats_5m``, ``tool_stats_5m``) hold ClickHouse aggregate
states; Ibis has no operation for ``-Merge`` combinators, so they are declared here as
builtin UDFs; parametric merges (``quantilesMerge(0.5, ...)(state)``) are the
:func:`~ollive.store.state_merges.quantiles_merge` operation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from ollive.errors import ConfigError
from ollive.insights.filters import DIMENSIONS, Filters, parse_duration
from ollive.store.state_merges import quantiles_merge

LEVELS = (0.5, 0.9, 0.95, 0.99)
#: index of each percentile in the quantiles arrays
P = {"p50": 0, "p90": 1, "p95": 2, "p99": 3}
ERROR_STATUSES = ("error", "timeout")
MV_BUCKET_S = 300


@ibis.udf.agg.builtin(name="countMerge")
def _count_merge(state) -> dt.int64:  # type: ignore[empty-body]
    """Merge count states."""


@ibis.udf.agg.builtin(name="countIfMerge")
def _count_if_merge(state) -> dt.int64:  # type: ignore[empty-body]
    """Merge countIf states."""


@ibis.udf.agg.builtin(name="sumMerge")
def _sum_merge_int(state) -> dt.int64:  # type: ignore[empty-body]
    """Merge sum states of integers."""


@ibis.udf.agg.builtin(name="sumMerge")
def _sum_merge_float(state) -> dt.float64:  # type: ignore[empty-body]
    """Merge sum states of floats."""


@ibis.udf.agg.builtin(name="uniqIfMerge")
def _uniq_if_merge(state) -> dt.int64:  # type: ignore[empty-body]
    """Merge uniqIf states."""


def _quantiles_merge(column: ir.Column, conditional: bool = False) -> ir.ArrayValue:
    return quantiles_merge(column, LEVELS, conditional)


def bucket_seconds(bucket: str | timedelta | None) -> int | None:
    """A bucket size in whole seconds (None: no time bucketing)."""
    if bucket is None:
        return None
    seconds = parse_duration(bucket).total_seconds()
    if seconds < 1 or seconds != int(seconds):
        raise ConfigError(f"bucket {bucket!r} must be a whole number of seconds >= 1s")
    return int(seconds)


def truncate(ts: ir.TimestampValue, seconds: int) -> ir.TimestampValue:
    """``ts`` rounded down to a bucket of ``seconds`` (toStartOfInterval)."""
    bucketed = ts.bucket(seconds=seconds)
    for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds % size == 0:
            bucketed = ts.bucket(**{unit: seconds // size})
            break
    return bucketed.cast(dt.Timestamp(timezone="UTC"))


def cached_table(con: Any, name: str) -> ir.Table:
    """``con.table(name)``, cached on the connection (saves a schema query per insight).

    Kept in the connection's own ``__dict__``: Ibis backends compare equal by database
    identity, so a dictionary keyed by connection could mix two warehouses up.
    """
    cached: dict[str, ir.Table] = con.__dict__.setdefault("_ollive_tables", {})
    if name not in cached:
        cached[name] = con.table(name)
    return cached[name]


def can_use_aggregates(
    bucket_s: int | None, filters: Filters, dims: tuple[str, ...], mv_dims: tuple[str, ...]
) -> bool:
    """True when the 5-minute aggregates answer exactly: coarse buckets, no user filter,
    grouping only by columns the aggregate keeps."""
    if bucket_s is not None and (bucket_s < MV_BUCKET_S or bucket_s % MV_BUCKET_S):
        return False
    return filters.user is None and all(d in mv_dims for d in dims)


@dataclass(frozen=True)
class Source:
    """A filtered table, its time column, and whether it holds 5-minute aggregate states."""

    table: ir.Table
    time_column: str
    aggregated: bool

    def keys(self, bucket_s: int | None, dims: tuple[str, ...]) -> dict[str, ir.Value]:
        """Group keys: ``bucket`` (when bucketing) and each dimension, named as asked."""
        keys: dict[str, ir.Value] = {}
        if bucket_s is not None:
            ts = self.table[self.time_column]
            keys["bucket"] = (
                ts if self.aggregated and bucket_s == MV_BUCKET_S else truncate(ts, bucket_s)
            )
        for dim in dims:
            keys[dim] = self.table[DIMENSIONS.get(dim, dim)]
        return keys


_INFERENCE_MV_DIMS = ("project", "service", "provider", "model")
_TOOL_MV_DIMS = ("project", "service", "tool_name")


def inference_source(
    con: Any, filters: Filters, bucket_s: int | None, dims: tuple[str, ...], force_raw: bool = False
) -> Source:
    """Inference rows (raw) or 5-minute states, filtered."""
    for dim in dims:
        if dim not in DIMENSIONS:
            raise ConfigError(f"cannot group by {dim!r}; dimensions are {sorted(DIMENSIONS)}")
    if not force_raw and can_use_aggregates(bucket_s, filters, dims, _INFERENCE_MV_DIMS):
        table = filters.apply(cached_table(con, "inference_stats_5m"), "bucket", con.project)
        return Source(table, "bucket", True)
    table = filters.apply(cached_table(con, "inference_logs"), "started_at", con.project)
    return Source(table, "started_at", False)


def tool_source(con: Any, filters: Filters, bucket_s: int | None, dims: tuple[str, ...]) -> Source:
    """Tool executions (raw) or their 5-minute states; provider/model filters do not apply."""
    if can_use_aggregates(bucket_s, filters, dims, _TOOL_MV_DIMS):
        table = filters.apply(
            cached_table(con, "tool_stats_5m"),
            "bucket",
            con.project,
            ignore=("provider", "model", "user_id"),
        )
        return Source(table, "bucket", True)
    table = filters.apply(
        cached_table(con, "tool_executions"),
        "started_at",
        con.project,
        ignore=("provider", "model"),
    )
    return Source(table, "started_at", False)


def inference_measures(src: Source, names: tuple[str, ...]) -> dict[str, ir.Scalar]:
    """Aggregate expressions by name over either source. Quantile names (``latency_q``,
    ``ttft_q``) are arrays at :data:`LEVELS`; split them with :func:`split_quantiles`."""
    t = src.table
    if src.aggregated:
        build = {
            "requests": lambda: _count_merge(t.requests),
            "errors": lambda: _count_if_merge(t.errors),
            "latency_q": lambda: _quantiles_merge(t.latency_ms_q),
            "ttft_q": lambda: _quantiles_merge(t.ttft_ms_q, conditional=True),
            "prompt_tokens": lambda: _sum_merge_int(t.prompt_tokens),
            "completion_tokens": lambda: _sum_merge_int(t.completion_tokens),
            "total_tokens": lambda: _sum_merge_int(t.total_tokens),
            "cost_usd": lambda: _sum_merge_float(t.cost_usd),
            "users": lambda: _uniq_if_merge(t.users),
            "conversations": lambda: _uniq_if_merge(t.conversations),
        }
    else:
        build = {
            "requests": lambda: t.count(),
            "errors": lambda: t.count(where=t.status.isin(ERROR_STATUSES)),
            "latency_q": lambda: t.latency_ms.quantile(list(LEVELS)),
            "ttft_q": lambda: t.ttft_ms.quantile(list(LEVELS)),
            "prompt_tokens": lambda: t.prompt_tokens.cast("int64").sum(),
            "completion_tokens": lambda: t.completion_tokens.cast("int64").sum(),
            "total_tokens": lambda: t.total_tokens.cast("int64").sum(),
            "cost_usd": lambda: t.cost_usd.sum(),
            "users": lambda: t.user_id.nunique(where=t.user_id != ""),
            "conversations": lambda: t.conversation_id.nunique(where=t.conversation_id != ""),
        }
    return {name: build[name]() for name in names}


def tool_measures(src: Source) -> dict[str, ir.Scalar]:
    """calls, errors and ``latency_q`` over either tool source."""
    t = src.table
    if src.aggregated:
        return {
            "calls": _count_merge(t.calls),
            "errors": _count_if_merge(t.errors),
            "latency_q": _quantiles_merge(t.latency_ms_q),
        }
    return {
        "calls": t.count(),
        "errors": t.count(where=t.status.isin(ERROR_STATUSES)),
        "latency_q": t.latency_ms.quantile(list(LEVELS)),
    }


def split_quantiles(
    measures: dict[str, Any],
    name: str,
    prefix: str,
    which: tuple[str, ...] = ("p50", "p95", "p99"),
    suffix: str = "_ms",
) -> dict[str, Any]:
    """``measures`` with the array-of-quantiles measure ``name`` replaced by one scalar
    measure per level (``<prefix>_p50<suffix>`` ...), computed in the same aggregation."""
    out = {k: v for k, v in measures.items() if k != name}
    out.update({f"{prefix}_{p}{suffix}": measures[name][P[p]].cast("float64") for p in which})
    return out


def rows_with(con: Any, table: str, column: str, key: str, project: str | None) -> ir.Table:
    """The rows of ``table`` whose ``column`` is ``key`` (and of ``project`` when given)."""
    t = cached_table(con, table)
    t = t.filter(t[column] == ibis.literal(str(key)))
    return t.filter(t.project == ibis.literal(project)) if project else t


def typed_select(
    t: ir.Table, names: tuple[str, ...], types: dict[str, str], **columns: Any
) -> ir.Table:
    """``t`` projected to ``names`` in order: each from ``columns`` (a string is a literal,
    a missing one NULL), cast to ``types[name]`` (default string), so parts of a union agree."""
    out = {}
    for name in names:
        value = columns.get(name, ibis.null())
        value = ibis.literal(value) if isinstance(value, str) else value
        out[name] = value.cast(types.get(name, "string"))
    return t.select(**out)


def ratio(numerator: ir.NumericValue, denominator: ir.NumericValue) -> ir.FloatingValue:
    """numerator / denominator, 0 when the denominator is 0."""
    return ibis.ifelse(denominator > 0, numerator.cast("float64") / denominator, 0.0)
