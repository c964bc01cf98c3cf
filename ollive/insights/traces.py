"""One trace as a span tree: every inference, tool call, log and score, ready for a waterfall.

>>> import ollive
>>> con = ollive.connect()                                        # doctest: +SKIP
>>> spans = ollive.insights.trace(con, "4bf92f3577b34da6a3ce929d0e0e4736")  # doctest: +SKIP
>>> spans[["depth", "kind", "name", "start_offset_ms", "duration_ms"]]       # doctest: +SKIP

Rows come in tree order (a parent before its children, siblings by start time), with
``depth`` (0 for a root), ``start_offset_ms`` from the trace's first start and
``duration_ms``. A span's parent is its ``parent_span_id``; a tool without one hangs under
the inference that called it (``parent_request_id``), a score under the event it scores; a
span whose parent is not in the trace is a root. The SQL reads the four raw tables by their
``trace_id`` (or ``conversation_id``) bloom-filter indexes; the tree is built in pandas
(linear in the number of spans).
"""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from ollive.errors import ConfigError
from ollive.insights import _sources as s

__all__ = ["TRACE_COLUMNS", "trace", "trace_expr"]

#: columns of :func:`trace_expr` (``trace`` adds depth, start_offset_ms and duration_ms)
TRACE_COLUMNS = (
    "kind",
    "trace_id",
    "span_id",
    "parent_span_id",
    "request_id",
    "parent_request_id",
    "name",
    "status",
    "started_at",
    "finished_at",
    "latency_ms",
    "total_tokens",
    "cost_usd",
    "value",
    "input",
    "output",
    "error_message",
    "model",
    "service",
    "conversation_id",
    "session_id",
    "user_id",
)
_TYPES = {
    "started_at": "timestamp('UTC', 3)",
    "finished_at": "timestamp('UTC', 3)",
    "latency_ms": "float64",
    "total_tokens": "int64",
    "cost_usd": "float64",
    "value": "float64",
}
_KIND_ORDER = {"inference": 0, "tool": 1, "log": 2, "score": 3}


def _part(t: ir.Table, **columns: Any) -> ir.Table:
    """A part with every column of :data:`TRACE_COLUMNS` (the table's own where it has one)."""
    own = {name: t[name] for name in TRACE_COLUMNS if name in t.columns}
    return s.typed_select(t, TRACE_COLUMNS, _TYPES, **{**own, **columns})


def trace_expr(
    con: Any,
    trace_id: str | None = None,
    conversation_id: str | None = None,
    *,
    project: str | None = None,
) -> ir.Table:
    """The spans of one trace (or every trace of ``conversation_id``) as rows of
    :data:`TRACE_COLUMNS`, unordered (``trace`` orders them as a tree)."""
    if (trace_id is None) == (conversation_id is None):
        raise ConfigError("give exactly one of trace_id or conversation_id")
    column, key = (
        ("trace_id", trace_id) if trace_id is not None else ("conversation_id", conversation_id)
    )
    project = project or con.project

    inf, tools, logs, scores = (
        s.rows_with(con, n, column, str(key), project)
        for n in ("inference_logs", "tool_executions", "application_logs", "scores")
    )
    parts = [
        _part(inf, kind="inference", name=inf.model, input=inf.input_preview,
              output=inf.output_preview),
        _part(tools, kind="tool", name=tools.tool_name, input=tools.args_preview,
              output=tools.result_preview),
        _part(logs, kind="log", name=logs.logger, status=logs.level, started_at=logs.timestamp,
              finished_at=logs.timestamp, output=logs.message),
        _part(scores, kind="score", name=scores.name, status=scores.source,
              parent_request_id=scores.target_request_id, started_at=scores.timestamp,
              finished_at=scores.timestamp, value=scores.value, output=scores.comment),
    ]  # fmt: skip
    return ibis.union(*parts)


def trace(
    con: Any,
    trace_id: str | None = None,
    conversation_id: str | None = None,
    *,
    project: str | None = None,
) -> pd.DataFrame:
    """The span tree of ``trace_id`` (or of every trace in ``conversation_id``): the columns
    of :data:`TRACE_COLUMNS` plus ``depth``, ``start_offset_ms`` and ``duration_ms``, in tree
    order. Empty (with those columns) when nothing has that id."""
    df = trace_expr(con, trace_id, conversation_id, project=project).to_pandas()
    return span_tree(df)


def span_tree(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` (rows of :data:`TRACE_COLUMNS`) in tree order with depth and offsets."""
    if df.empty:
        out = df.reindex(columns=[*TRACE_COLUMNS, "depth", "start_offset_ms", "duration_ms"])
        return out.astype(
            {"depth": "int64", "start_offset_ms": "float64", "duration_ms": "float64"}
        )
    df = df.reset_index(drop=True)
    df["_kind"] = df["kind"].map(_KIND_ORDER)
    df = df.sort_values(["started_at", "_kind", "request_id"], kind="stable", ignore_index=True)
    parents = _parents(df)
    children: dict[int, list[int]] = {}
    roots: list[int] = []
    for i, parent in enumerate(parents):
        (roots if parent < 0 else children.setdefault(parent, [])).append(i)
    order: list[int] = []
    depth = np.zeros(len(df), dtype=np.int64)
    seen = np.zeros(len(df), dtype=bool)
    stack = [(i, 0) for i in reversed(roots)]
    while stack:  # depth-first; siblings are in start order already
        i, d = stack.pop()
        if seen[i]:
            continue
        seen[i] = True
        depth[i] = d
        order.append(i)
        stack.extend((c, d + 1) for c in reversed(children.get(i, [])))
    order.extend(np.flatnonzero(~seen).tolist())  # a parent cycle: listed at the end, depth 0
    out = df.drop(columns="_kind").assign(depth=depth).iloc[order].reset_index(drop=True)
    start = out["started_at"].min()
    out["start_offset_ms"] = (out["started_at"] - start).dt.total_seconds() * 1000.0
    measured = (out["finished_at"] - out["started_at"]).dt.total_seconds() * 1000.0
    out["duration_ms"] = out["latency_ms"].where(out["latency_ms"].notna(), measured)
    return out


def _parents(df: pd.DataFrame) -> list[int]:
    """The row index of each row's parent (-1 for a root)."""
    by_span: dict[str, int] = {}
    by_request: dict[str, int] = {}
    for i, (kind, span, request) in enumerate(
        zip(df["kind"], df["span_id"], df["request_id"], strict=True)
    ):
        if span and kind != "score":
            by_span.setdefault(span, i)
        if request:
            by_request.setdefault(request, i)
    parents = []
    for i, (span_parent, request_parent) in enumerate(
        zip(df["parent_span_id"], df["parent_request_id"], strict=True)
    ):
        parent = by_span.get(span_parent, -1) if span_parent else -1
        if parent < 0 and request_parent:
            parent = by_request.get(request_parent, -1)
        parents.append(parent if parent != i else -1)
    return parents
