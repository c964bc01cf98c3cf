"""Conversations and sessions: the most expensive/slow/failing ones, and one's timeline."""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from ollive.errors import ConfigError
from ollive.insights import _sources as s
from ollive.insights.filters import Filters

__all__ = [
    "TIMELINE_COLUMNS",
    "timeline",
    "timeline_expr",
    "top_conversations",
    "top_conversations_expr",
]

_RANKINGS = {
    "cost": "cost_usd",
    "tokens": "total_tokens",
    "latency": "latency_p95_ms",
    "errors": "errors",
    "requests": "requests",
}

#: columns of :func:`timeline`, in order
TIMELINE_COLUMNS = (
    "timestamp",
    "kind",
    "request_id",
    "parent_request_id",
    "span_id",
    "parent_span_id",
    "name",
    "status",
    "latency_ms",
    "total_tokens",
    "cost_usd",
    "value",
    "text",
    "conversation_id",
    "session_id",
)


def top_conversations_expr(
    con: Any, filters: Filters | None = None, *, by: str = "cost", limit: int = 20, **kw: Any
) -> ir.Table:
    """Conversations ranked by ``by`` (cost, tokens, latency, errors or requests)."""
    if by not in _RANKINGS:
        raise ConfigError(f"rank conversations by one of {sorted(_RANKINGS)}, not {by!r}")
    f = Filters.of(filters, **kw)
    t = s.inference_source(con, f, None, ("conversation",), force_raw=True).table
    t = t.filter(t.conversation_id != "")
    expr = t.group_by("conversation_id").aggregate(
        user_id=t.user_id.arbitrary(),
        session_id=t.session_id.arbitrary(),
        service=t.service.arbitrary(),
        models=t.model.collect(distinct=True),
        started_at=t.started_at.min(),
        ended_at=t.finished_at.max(),
        requests=t.count(),
        errors=t.count(where=t.status.isin(s.ERROR_STATUSES)),
        total_tokens=t.total_tokens.cast("int64").sum(),
        cost_usd=t.cost_usd.sum(),
        latency_p95_ms=t.latency_ms.quantile(0.95),
        latency_total_ms=t.latency_ms.sum(),
    )
    return expr.order_by([ibis.desc(_RANKINGS[by]), "conversation_id"]).limit(limit)


def top_conversations(
    con: Any, filters: Filters | None = None, *, by: str = "cost", limit: int = 20, **kw: Any
) -> pd.DataFrame:
    """The ``limit`` conversations with the highest cost, tokens, p95 latency, errors or
    requests in the window (raw table), with their user, models and time span."""
    return top_conversations_expr(con, filters, by=by, limit=limit, **kw).to_pandas()


_TIMELINE_TYPES = {
    "timestamp": "timestamp('UTC', 3)",
    "latency_ms": "float64",
    "total_tokens": "int64",
    "cost_usd": "float64",
    "value": "float64",
}


def _part(t: ir.Table, **columns: Any) -> ir.Table:
    """A timeline part with every column of :data:`TIMELINE_COLUMNS`, typed alike."""
    return s.typed_select(t, TIMELINE_COLUMNS, _TIMELINE_TYPES, **columns)


def timeline_expr(
    con: Any,
    conversation_id: str | None = None,
    *,
    session_id: str | None = None,
    project: str | None = None,
) -> ir.Table:
    """One conversation's (or session's) inferences, tool executions, application logs and
    scores as rows of :data:`TIMELINE_COLUMNS`, in time order."""
    if (conversation_id is None) == (session_id is None):
        raise ConfigError("give exactly one of conversation_id or session_id")
    column, key = (
        ("conversation_id", conversation_id)
        if conversation_id is not None
        else ("session_id", session_id)
    )
    project = project or con.project

    inf, tools, logs, scores = (
        s.rows_with(con, n, column, str(key), project)
        for n in ("inference_logs", "tool_executions", "application_logs", "scores")
    )
    parts = [
        _part(inf, timestamp=inf.started_at, kind="inference", request_id=inf.request_id, span_id=inf.span_id,
              parent_span_id=inf.parent_span_id, name=inf.model, status=inf.status, latency_ms=inf.latency_ms,
              total_tokens=inf.total_tokens, cost_usd=inf.cost_usd, text=inf.output_preview,
              conversation_id=inf.conversation_id, session_id=inf.session_id),
        _part(tools, timestamp=tools.started_at, kind="tool", request_id=tools.request_id,
              parent_request_id=tools.parent_request_id, span_id=tools.span_id, parent_span_id=tools.parent_span_id,
              name=tools.tool_name, status=tools.status, latency_ms=tools.latency_ms, text=tools.result_preview,
              conversation_id=tools.conversation_id, session_id=tools.session_id),
        _part(logs, timestamp=logs.timestamp, kind="log", request_id=logs.request_id, span_id=logs.span_id,
              parent_span_id=logs.parent_span_id, name=logs.logger, status=logs.level, text=logs.message,
              conversation_id=logs.conversation_id, session_id=logs.session_id),
        _part(scores, timestamp=scores.timestamp, kind="score", request_id=scores.request_id,
              parent_request_id=scores.target_request_id, span_id=scores.span_id,
              parent_span_id=scores.parent_span_id, name=scores.name, status=scores.source, value=scores.value,
              text=scores.comment, conversation_id=scores.conversation_id, session_id=scores.session_id),
    ]  # fmt: skip
    return ibis.union(*parts).order_by(["timestamp", "kind", "request_id"])


def timeline(
    con: Any,
    conversation_id: str | None = None,
    *,
    session_id: str | None = None,
    project: str | None = None,
) -> pd.DataFrame:
    """The timeline of one conversation (or ``session_id=``): every inference, tool
    execution, application log and score in time order. ``parent_request_id`` links a
    tool to the inference that called it and a score to the event it scores;
    ``span_id``/``parent_span_id`` give the trace tree. ``name`` is the model, tool,
    logger or score name; ``status`` the status, log level or score source."""
    return timeline_expr(con, conversation_id, session_id=session_id, project=project).to_pandas()
