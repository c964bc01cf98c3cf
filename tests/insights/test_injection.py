"""Hostile filter values (quotes, SQL fragments, Unicode) are data, never SQL.

Each value reaches the compiled ClickHouse SQL only as one escaped string literal (checked by
parsing the SQL back with sqlglot), insight results are exact (empty for unknown values, only
the matching rows for a stored hostile value), and the dashboard's FilterBar offers stored
values verbatim and refuses values it does not offer.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import ibis
import pytest
import sqlglot
from sqlglot import exp

import ollive.insights as oi

from .conftest import END

HOSTILE = [
    "'",
    "x' OR '1'='1",
    "'; DROP TABLE inference_logs; --",
    "\\' OR 1=1 --",
    "svc`) UNION ALL SELECT * FROM system.tables --",
    "ʼ OR ʼ1ʼ=ʼ1",  # modifier letter apostrophes
    "ｓｅｒｖｉｃｅ\u202e\u200b😀",  # full-width, RTL override, zero-width space, emoji
    "a\x00b",
    "%_*",
]
F = oi.Filters(start=END - timedelta(hours=2), end=END + timedelta(minutes=1))

EXPRS: dict[str, Callable[[Any, oi.Filters], Any]] = {
    "summary": lambda con, f: oi.summary_expr(con, f),
    "latency_raw": lambda con, f: oi.latency_expr(con, f, bucket="1m"),
    "latency_mv": lambda con, f: oi.latency_expr(con, f, bucket="5m"),
    "throughput": lambda con, f: oi.throughput_expr(con, f, bucket="5m"),
    "errors": lambda con, f: oi.errors_expr(con, f),
    "usage": lambda con, f: oi.usage_expr(con, f, by="model"),
    "top_conversations": lambda con, f: oi.top_conversations_expr(con, f),
    "tools": lambda con, f: oi.tool_stats_expr(con, f),
}


def _string_literals(sql: str) -> list[str]:
    """The string literals of ``sql`` after parsing it as one ClickHouse statement."""
    statements = sqlglot.parse(sql, read="clickhouse")
    assert len(statements) == 1, "a filter value split the SQL into several statements"
    return [lit.this for lit in statements[0].find_all(exp.Literal) if lit.is_string]


@pytest.fixture
def stored(insert: Callable[..., None]) -> None:
    """Two normal rows and one row per hostile service name (the data can be hostile too)."""
    rows = [{"service": "normal", "started_at": END - timedelta(minutes=m)} for m in (5, 15)]
    rows += [{"service": v, "started_at": END - timedelta(minutes=30)} for v in HOSTILE]
    insert("inference_logs", rows)
    insert("tool_executions", [{"service": "normal", "tool_name": "t", "started_at": END}])


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize("field", ["service", "model"])
def test_hostile_filter_is_one_escaped_literal_and_matches_nothing(
    con: Any, stored: None, field: str, value: str
) -> None:
    probe = value + "-not-stored"
    filters = oi.Filters.of(F, **{field: probe})
    for name, build in EXPRS.items():
        if name == "tools" and field != "service":
            continue  # tool tables have no model column: the filter does not apply there
        expr = build(con, filters)
        assert probe in _string_literals(ibis.to_sql(expr, dialect="clickhouse")), name
        assert len(con.execute(expr)) == 0 or _all_zero(con.execute(expr)), name


def _requests(con: Any, filters: oi.Filters, **kw: Any) -> int:
    frame = oi.summary(con, filters, **kw).set_index("metric")
    return int(frame.at["requests", "value"])


def _all_zero(frame: Any) -> bool:
    numbers = frame.select_dtypes("number").fillna(0)
    return bool((numbers == 0).all().all())


@pytest.mark.parametrize("value", HOSTILE)
def test_stored_hostile_value_selects_exactly_its_rows(con: Any, stored: None, value: str) -> None:
    assert _requests(con, F, service=value) == 1
    usage = oi.usage(con, F, by="service")
    assert value in set(usage["service"]) and len(usage) == len(HOSTILE) + 1


def test_hostile_project_on_the_connection_sees_nothing(warehouse: Any, stored: None) -> None:
    from ollive.store._ibis import Connection

    for value in HOSTILE:
        con = Connection.from_warehouse(warehouse, project=value)
        assert _requests(con, F) == 0
        assert value in _string_literals(ibis.to_sql(oi.summary_expr(con, F), dialect="clickhouse"))


def test_connection_project_scopes_insights(
    warehouse: Any, con: Any, stored: None, project: str
) -> None:
    from ollive.store._ibis import Connection

    other = Connection.from_warehouse(warehouse, project=project + "-other")
    assert _requests(con, F) == len(HOSTILE) + 2
    assert _requests(other, F) == 0
    assert oi.usage(other, F, by="service").empty or _all_zero(oi.usage(other, F, by="service"))


def test_filter_bar_offers_stored_values_verbatim_and_refuses_others(
    con: Any, stored: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ollive.ui.filters import ALL, FilterBar

    bar = FilterBar(con)
    assert set(HOSTILE) <= set(bar.param["service"].objects)
    for value in HOSTILE:
        bar.service = value
        assert bar.filters.service == value
        assert _requests(con, oi.Filters.of(bar.filters, start=F.start, end=F.end)) == 1
    bar.service = ALL
    for value in ("x' OR '1'='1-typed", "'; DROP TABLE scores; --"):
        with pytest.raises(ValueError):
            bar.service = value
    assert bar.service == ALL
