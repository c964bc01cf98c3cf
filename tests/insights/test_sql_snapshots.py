"""The ClickHouse SQL of the important insight expressions, pinned in snapshots/*.sql.

Regenerate after an intended change with ``OLLIVE_UPDATE_SNAPSHOTS=1 pytest tests/insights``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import ibis
import pytest

import ollive.insights as oi
from ollive.store._ibis import Connection

SNAPSHOTS = Path(__file__).parent / "snapshots"
F = oi.Filters(
    start=datetime(2026, 11, 1, tzinfo=UTC), end=datetime(2026, 11, 2, tzinfo=UTC), project="acme"
)

CASES: dict[str, Callable[[Any], Any]] = {
    "summary": lambda con: oi.summary_expr(con, F),
    "latency_mv_by_model": lambda con: oi.latency_expr(con, F, bucket="1h", by="model"),
    "latency_raw_1m": lambda con: oi.latency_expr(con, F, bucket="1m"),
    "throughput_mv": lambda con: oi.throughput_expr(con, F, bucket="5m", service="support-bot"),
    "errors_by_code": lambda con: oi.errors_expr(con, F),
    "usage_by_user": lambda con: oi.usage_expr(con, F, by="user"),
    "top_conversations_cost": lambda con: oi.top_conversations_expr(con, F, by="cost"),
    "timeline": lambda con: oi.timeline_expr(con, "conv-1", project="acme"),
    "tool_stats_mv": lambda con: oi.tool_stats_expr(con, F),
    "anomalies_series": lambda con: oi.anomalies_expr(con, F, by="service"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_sql_snapshot(warehouse: Any, name: str) -> None:
    con = Connection.from_warehouse(warehouse)
    expr = CASES[name](con)
    sql = ibis.to_sql(expr, dialect="clickhouse").strip() + "\n"
    path = SNAPSHOTS / f"{name}.sql"
    if os.environ.get("OLLIVE_UPDATE_SNAPSHOTS") == "1" or not path.exists():
        path.write_text(sql)
    assert sql == path.read_text(), (
        f"SQL of {name} changed; regenerate with OLLIVE_UPDATE_SNAPSHOTS=1"
    )
    con.execute(expr)  # and chDB runs it
