"""Tool executions: calls, error rate and latency percentiles per tool, slowest first."""

from __future__ import annotations

import json
import re
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from ollive.errors import ConfigError
from ollive.insights import _sources as s
from ollive.insights.filters import Filters

__all__ = ["decode_tool_calls", "tool_stats", "tool_stats_expr"]

_ORDER = {
    "latency": "latency_p95_ms",
    "calls": "calls",
    "errors": "errors",
    "error_rate": "error_rate",
}


def tool_stats_expr(
    con: Any,
    filters: Filters | None = None,
    *,
    by: Any = "tool_name",
    bucket: str | None = None,
    order: str = "latency",
    **kw: Any,
) -> ir.Table:
    """Per tool (``by``: tool_name and/or service) and optional bucket: calls, errors,
    error_rate, latency_p50/p95/p99_ms. Reads ``tool_stats_5m`` unless a user filter or a
    bucket finer than 5 minutes needs the raw table; model/provider filters do not apply."""
    if order not in _ORDER:
        raise ConfigError(f"order tools by one of {sorted(_ORDER)}, not {order!r}")
    f = Filters.of(filters, **kw)
    dims = (by,) if isinstance(by, str) else tuple(by)
    bucket_s = s.bucket_seconds(bucket)
    src = s.tool_source(con, f, bucket_s, dims)
    keys: dict[str, ir.Value] = {}
    if bucket_s is not None:
        keys["bucket"] = s.truncate(src.table[src.time_column], bucket_s)
    keys.update({d: src.table[d] for d in dims})
    measures = s.tool_measures(src)
    measures["error_rate"] = s.ratio(measures["errors"], measures["calls"])
    measures = s.split_quantiles(measures, "latency_q", "latency")
    expr = src.table.group_by(**keys).aggregate(**measures)
    order_by = [*(["bucket"] if bucket_s else []), ibis.desc(_ORDER[order]), *dims]
    return expr.order_by(order_by)


def tool_stats(
    con: Any,
    filters: Filters | None = None,
    *,
    by: Any = "tool_name",
    bucket: str | None = None,
    order: str = "latency",
    **kw: Any,
) -> pd.DataFrame:
    """Tool statistics, slowest (p95) first by default (``order``: latency, calls, errors,
    error_rate)."""
    return tool_stats_expr(con, filters, by=by, bucket=bucket, order=order, **kw).to_pandas()


_CALL = re.compile(r"^\s*([^()]+?)\((.*)\)\s*$", re.DOTALL)


def decode_tool_calls(summary: str | None) -> list[dict[str, Any]]:
    """``inference_logs.tool_calls_summary`` (JSON text) as the list of ``{"name",
    "args_preview"}`` dicts the app sent; ``[]`` when empty.

    Rows written by older SDKs hold free text (``name(args); name(args)``, or names joined
    by ``", "``): it is split into the same shape, ``args_preview`` None where unknown.

    >>> decode_tool_calls('[{"name":"get_current_time","args_preview":"{}"}]')
    [{'name': 'get_current_time', 'args_preview': '{}'}]
    >>> decode_tool_calls("lookup(42); ping()")
    [{'name': 'lookup', 'args_preview': '42'}, {'name': 'ping', 'args_preview': None}]
    """
    if not summary or not summary.strip():
        return []
    if summary.lstrip().startswith("["):
        try:
            calls = json.loads(summary)
        except ValueError:
            calls = None
        if isinstance(calls, list) and all(isinstance(c, dict) for c in calls):
            return [{"name": c.get("name"), "args_preview": c.get("args_preview")} for c in calls]
    parts = summary.split("; ") if "(" in summary else summary.split(", ")
    out: list[dict[str, Any]] = []
    for part in parts:
        match = _CALL.match(part)
        if match:
            out.append({"name": match[1], "args_preview": match[2] or None})
        elif part.strip():
            out.append({"name": part.strip(), "args_preview": None})
    return out
