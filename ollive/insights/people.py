"""Users and sessions: what each one did in the window, heaviest first.

>>> import ollive
>>> con = ollive.connect()                                        # doctest: +SKIP
>>> ollive.insights.users(con, window="7d", order_by="cost")       # doctest: +SKIP
>>> ollive.insights.sessions(con, user="user-0042")                # doctest: +SKIP

Both read the raw inference table (users and sessions are not in the 5-minute aggregates);
a user or session filter uses its bloom-filter index.
"""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from ollive.errors import ConfigError
from ollive.insights import _sources as s
from ollive.insights.filters import Filters

__all__ = ["PEOPLE_ORDERS", "sessions", "sessions_expr", "users", "users_expr"]

#: ``order_by`` values of :func:`users` and :func:`sessions` and the column each sorts by
PEOPLE_ORDERS = {
    "requests": "requests",
    "cost": "cost_usd",
    "tokens": "total_tokens",
    "errors": "errors",
    "latency": "latency_p95_ms",
    "last_seen": "last_seen",
}


def _measures(t: ir.Table) -> dict[str, Any]:
    return {
        "requests": t.count(),
        "errors": t.count(where=t.status.isin(s.ERROR_STATUSES)),
        "total_tokens": t.total_tokens.cast("int64").sum(),
        "cost_usd": t.cost_usd.sum(),
        "latency_p50_ms": t.latency_ms.quantile(0.5),
        "latency_p95_ms": t.latency_ms.quantile(0.95),
        "first_seen": t.started_at.min(),
        "last_seen": t.finished_at.max(),
    }


def _ranked(expr: ir.Table, order_by: str, key: str, limit: int, offset: int) -> ir.Table:
    if order_by not in PEOPLE_ORDERS:
        raise ConfigError(f"order by one of {sorted(PEOPLE_ORDERS)}, not {order_by!r}")
    if limit < 1 or offset < 0:
        raise ConfigError("limit must be >= 1 and offset >= 0")
    expr = expr.mutate(error_rate=s.ratio(expr.errors, expr.requests))
    return expr.order_by([ibis.desc(PEOPLE_ORDERS[order_by]), key]).limit(limit, offset=offset)


def _rows(
    con: Any, filters: Filters | None, column: str, session: str | None, **kw: Any
) -> ir.Table:
    f = Filters.of(filters, **kw)
    t = s.inference_source(con, f, None, (), force_raw=True).table
    t = t.filter(t[column] != "")
    if session is not None:
        t = t.filter(t.session_id == ibis.literal(str(session)))
    return t


def users_expr(
    con: Any,
    filters: Filters | None = None,
    *,
    order_by: str = "requests",
    limit: int = 100,
    offset: int = 0,
    **kw: Any,
) -> ir.Table:
    """The Ibis expression of :func:`users` (same arguments)."""
    t = _rows(con, filters, "user_id", None, **kw)
    expr = t.group_by("user_id").aggregate(
        conversations=t.conversation_id.nunique(where=t.conversation_id != ""),
        sessions=t.session_id.nunique(where=t.session_id != ""),
        models=t.model.collect(distinct=True),
        **_measures(t),
    )
    return _ranked(expr, order_by, "user_id", limit, offset)


def users(
    con: Any,
    filters: Filters | None = None,
    *,
    order_by: str = "requests",
    limit: int = 100,
    offset: int = 0,
    **kw: Any,
) -> pd.DataFrame:
    """Per user (``user_id``) in the window: requests, conversations, sessions, models,
    errors and error rate, tokens, cost, p50/p95 latency, first and last seen. Ordered by
    ``order_by`` (requests, cost, tokens, errors, latency or last_seen), highest first;
    page with ``limit``/``offset``. Events without a user are left out."""
    return users_expr(con, filters, order_by=order_by, limit=limit, offset=offset, **kw).to_pandas()


def sessions_expr(
    con: Any,
    filters: Filters | None = None,
    *,
    session: str | None = None,
    order_by: str = "last_seen",
    limit: int = 100,
    offset: int = 0,
    **kw: Any,
) -> ir.Table:
    """The Ibis expression of :func:`sessions` (same arguments)."""
    t = _rows(con, filters, "session_id", session, **kw)
    expr = t.group_by("session_id").aggregate(
        user_id=t.user_id.arbitrary(),
        service=t.service.arbitrary(),
        conversations=t.conversation_id.nunique(where=t.conversation_id != ""),
        **_measures(t),
    )
    expr = expr.mutate(
        duration_s=(expr.last_seen.epoch_seconds() - expr.first_seen.epoch_seconds()).cast(
            "float64"
        )
    )
    return _ranked(expr, order_by, "session_id", limit, offset)


def sessions(
    con: Any,
    filters: Filters | None = None,
    *,
    session: str | None = None,
    order_by: str = "last_seen",
    limit: int = 100,
    offset: int = 0,
    **kw: Any,
) -> pd.DataFrame:
    """Per session (``session_id``) in the window: its user and service, conversations,
    requests, errors and error rate, tokens, cost, p50/p95 latency, first and last seen
    and duration. Most recent first by default (``order_by`` as for :func:`users`);
    ``session=`` for one. A session's events in order: ``timeline(con, session_id=...)``."""
    return sessions_expr(
        con, filters, session=session, order_by=order_by, limit=limit, offset=offset, **kw
    ).to_pandas()
