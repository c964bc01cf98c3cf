"""Search: inference, tool and application events by text and filters, newest first.

>>> import ollive
>>> con = ollive.connect()                                                   # doctest: +SKIP
>>> ollive.insights.search(con, "refund", status="error", window="7d")       # doctest: +SKIP
>>> ollive.insights.search(con, min_latency_ms=5000, order_by="latency")     # doctest: +SKIP
>>> ollive.insights.search(con, score=("thumbs_up", "<", 1))                 # doctest: +SKIP

``text`` is a case-insensitive substring of an event's searchable text: an inference's
input, output and error message; a tool's arguments, result and error message; a log's
message. Each raw table has an n-gram skip index on exactly that expression
(``sql/004_explore.sql``), so a rare text skips the granules that cannot hold it instead of
scanning the window. Every value (text included) is bound as a literal, never pasted into SQL.
"""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
import pandas as pd

from ollive.errors import ConfigError
from ollive.insights import _sources as s
from ollive.insights.filters import Filters
from ollive.store.tables import TIME_COLUMNS

__all__ = ["KINDS", "ORDERS", "SEARCH_COLUMNS", "SCORE_OPS", "search", "search_expr"]

#: columns of :func:`search`, in order
SEARCH_COLUMNS = (
    "timestamp",
    "kind",
    "request_id",
    "trace_id",
    "span_id",
    "conversation_id",
    "session_id",
    "user_id",
    "service",
    "name",
    "status",
    "latency_ms",
    "total_tokens",
    "cost_usd",
    "input",
    "output",
    "error_message",
)
#: event kinds searched, and the raw table of each
KINDS = {"inference": "inference_logs", "tool": "tool_executions", "log": "application_logs"}
#: ``order_by`` values and the column each sorts by (descending)
ORDERS = {
    "timestamp": "timestamp",
    "latency": "latency_ms",
    "cost": "cost_usd",
    "tokens": "total_tokens",
}
SCORE_OPS = ("<", "<=", "=", "==", "!=", ">=", ">")
MAX_LIMIT = 10_000

# The searchable text of each table: the same expression as its skip index in
# sql/004_explore.sql (ClickHouse uses an index only for the very expression it was built on).
_TEXT_COLUMNS = {
    "inference_logs": ("input_preview", "output_preview", "error_message"),
    "tool_executions": ("args_preview", "result_preview", "error_message"),
    "application_logs": ("message",),
}


@ibis.udf.scalar.builtin(name="concat")
def _concat3(a: str, s1: str, b: str, s2: str, c: str) -> dt.string:  # type: ignore[empty-body]
    """concat(a, ' ', b, ' ', c), spelled exactly as the skip index."""


def searchable_text(t: ir.Table, table: str) -> ir.StringValue:
    """``lower(<the table's searchable columns joined by spaces>)``, as indexed."""
    columns = _TEXT_COLUMNS[table]
    if len(columns) == 1:
        return t[columns[0]].lower()
    a, b, c = (t[name] for name in columns)
    return _concat3(a, " ", b, " ", c).lower()


def like_pattern(text: str) -> str:
    """``%text%`` for LIKE, lower-cased, with ``\\``, ``%`` and ``_`` escaped."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


_TYPES = {
    "timestamp": "timestamp('UTC', 3)",
    "latency_ms": "float64",
    "total_tokens": "int64",
    "cost_usd": "float64",
}


def _typed(t: ir.Table, **columns: Any) -> ir.Table:
    return s.typed_select(t, SEARCH_COLUMNS, _TYPES, **columns)


def _rows(t: ir.Table, kind: str) -> ir.Table:
    common = {
        "kind": kind,
        "request_id": t.request_id,
        "trace_id": t.trace_id,
        "span_id": t.span_id,
        "conversation_id": t.conversation_id,
        "session_id": t.session_id,
        "user_id": t.user_id,
        "service": t.service,
    }
    if kind == "inference":
        return _typed(t, timestamp=t.started_at, name=t.model, status=t.status,
                      latency_ms=t.latency_ms, total_tokens=t.total_tokens, cost_usd=t.cost_usd,
                      input=t.input_preview, output=t.output_preview,
                      error_message=t.error_message, **common)  # fmt: skip
    if kind == "tool":
        return _typed(t, timestamp=t.started_at, name=t.tool_name, status=t.status,
                      latency_ms=t.latency_ms, input=t.args_preview, output=t.result_preview,
                      error_message=t.error_message, **common)  # fmt: skip
    return _typed(t, timestamp=t.timestamp, name=t.logger, status=t.level, output=t.message,
                  **common)  # fmt: skip


def _score_filter(con: Any, score: tuple[str, str, float], project: str | None) -> ir.Table:
    name, op, value = score
    if op not in SCORE_OPS:
        raise ConfigError(f"score operator {op!r} is not one of {list(SCORE_OPS)}")
    t = s.cached_table(con, "scores")
    v = ibis.literal(float(value))
    compare = {
        "<": t.value < v,
        "<=": t.value <= v,
        "=": t.value == v,
        "==": t.value == v,
        "!=": t.value != v,
        ">=": t.value >= v,
        ">": t.value > v,
    }[op]
    t = t.filter(t.name == ibis.literal(str(name)), compare)
    if project:
        t = t.filter(t.project == ibis.literal(project))
    return t.select(target=t.target_request_id.cast("string"))


def _sort_keys(order_by: str) -> list[Any]:
    column = ORDERS[order_by]
    keys = (
        [ibis.desc(column)]
        if column == "timestamp"
        else [ibis.desc(column), ibis.desc("timestamp")]
    )
    return [*keys, "request_id"]


def search_expr(
    con: Any,
    text: str | None = None,
    filters: Filters | None = None,
    *,
    kinds: tuple[str, ...] | list[str] | None = None,
    status: str | None = None,
    conversation: str | None = None,
    session: str | None = None,
    trace: str | None = None,
    min_latency_ms: float | None = None,
    min_cost_usd: float | None = None,
    score: tuple[str, str, float] | None = None,
    order_by: str = "timestamp",
    limit: int = 50,
    offset: int = 0,
    **kw: Any,
) -> ir.Table:
    """The Ibis expression of :func:`search` (same arguments)."""
    if order_by not in ORDERS:
        raise ConfigError(f"order search results by one of {sorted(ORDERS)}, not {order_by!r}")
    if not 1 <= limit <= MAX_LIMIT or offset < 0:
        raise ConfigError(f"limit must be 1..{MAX_LIMIT} and offset >= 0 (page with offset)")
    f = Filters.of(filters, **kw)
    chosen = tuple(kinds) if kinds else tuple(KINDS)
    unknown = set(chosen) - set(KINDS)
    if unknown:
        raise ConfigError(f"unknown kind(s) {sorted(unknown)}; kinds are {sorted(KINDS)}")
    # filters that only some kinds carry narrow the search to those kinds
    if f.model or f.provider or min_cost_usd is not None:
        chosen = tuple(k for k in chosen if k == "inference")
    if min_latency_ms is not None or score is not None:
        chosen = tuple(k for k in chosen if k != "log")
    if not chosen:
        raise ConfigError("no event kind carries every filter given (model/cost: inference only)")
    scored = _score_filter(con, score, f.project or con.project) if score is not None else None
    keys = _sort_keys(order_by)
    parts = []
    for kind in chosen:
        table = KINDS[kind]
        ignore = ("provider", "model") if kind != "inference" else ()
        t = f.apply(s.cached_table(con, table), TIME_COLUMNS[table], con.project, ignore=ignore)
        predicates = []
        if text:
            predicates.append(searchable_text(t, table).like(like_pattern(text)))
        if status is not None:
            column = t.level if kind == "log" else t.status
            predicates.append(column == ibis.literal(str(status)))
        for column, value in (
            ("conversation_id", conversation),
            ("session_id", session),
            ("trace_id", trace),
        ):
            if value is not None:
                predicates.append(t[column] == ibis.literal(str(value)))
        if min_latency_ms is not None:
            predicates.append(t.latency_ms >= ibis.literal(float(min_latency_ms)))
        if min_cost_usd is not None:
            predicates.append(t.cost_usd >= ibis.literal(float(min_cost_usd)))
        if scored is not None:
            predicates.append(t.request_id.cast("string").isin(scored.target))
        if predicates:
            t = t.filter(*predicates)
        part = _rows(t, kind)
        # each part sorted and cut first: the union then merges at most limit+offset rows each
        parts.append(part.order_by(keys).limit(limit + offset))
    expr = parts[0] if len(parts) == 1 else ibis.union(*parts)
    return expr.order_by(keys).limit(limit, offset=offset)


def search(
    con: Any,
    text: str | None = None,
    filters: Filters | None = None,
    *,
    kinds: tuple[str, ...] | list[str] | None = None,
    status: str | None = None,
    conversation: str | None = None,
    session: str | None = None,
    trace: str | None = None,
    min_latency_ms: float | None = None,
    min_cost_usd: float | None = None,
    score: tuple[str, str, float] | None = None,
    order_by: str = "timestamp",
    limit: int = 50,
    offset: int = 0,
    **kw: Any,
) -> pd.DataFrame:
    """Events matching ``text`` and the filters, as rows of :data:`SEARCH_COLUMNS`.

    ``kinds``: any of ``inference``, ``tool``, ``log`` (default all; a model, provider or
    cost filter keeps inferences only, a latency or score filter drops logs). ``status`` is
    an event's status (``ok``, ``error``, ``timeout`` ...) or a log's level. ``score=(name,
    op, value)`` keeps events with a score of that name compared so (e.g. ``("thumbs_up",
    "<", 1)``). ``order_by``: ``timestamp`` (default), ``latency``, ``cost`` or ``tokens``,
    highest first; page with ``limit``/``offset``. The window and the equality filters
    (``window``, ``start``/``end``, ``project``, ``service``, ``provider``, ``model``,
    ``user``) are the usual :class:`Filters`. Open a result with :func:`trace`.
    """
    return search_expr(
        con, text, filters, kinds=kinds, status=status, conversation=conversation,
        session=session, trace=trace, min_latency_ms=min_latency_ms, min_cost_usd=min_cost_usd,
        score=score, order_by=order_by, limit=limit, offset=offset, **kw,
    ).to_pandas()  # fmt: skip
