"""``quantiles_merge``: Ibis expressions over quantile states, compiled by the connection."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import ibis
import pytest

from ollive.demo.synth import seed_warehouse
from ollive.store._ibis import Connection
from ollive.store.state_merges import quantiles_merge

LEVELS = (0.5, 0.9, 0.95, 0.99)
_END = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


@pytest.fixture(scope="module")
def seeded(warehouse: Any) -> tuple[Connection, str]:
    project = "state-merges"
    seed_warehouse(warehouse, events=2_000, project=project, days=1, users=10, end=_END, seed=5)
    return Connection.from_warehouse(warehouse, project), project


def _raw(warehouse: Any, project: str, select: str) -> list[float]:
    """The same quantiles straight from the raw rows (under 8,192 values: exact)."""
    return list(
        warehouse.scalar(f"SELECT {select} FROM inference_logs FINAL WHERE project = '{project}'")
    )


def test_compiles_to_the_parametric_merge(seeded: tuple[Connection, str]) -> None:
    con, _ = seeded
    t = con.table("inference_stats_5m")
    expr = t.aggregate(
        p=quantiles_merge(t.latency_ms_q, LEVELS), q=quantiles_merge(t.ttft_ms_q, LEVELS, True)
    )
    sql = ibis.to_sql(expr, dialect="clickhouse")  # the stock compiler knows the operation too
    assert 'quantilesMerge(0.5, 0.9, 0.95, 0.99)("t0"."latency_ms_q")' in sql
    assert 'quantilesIfMerge(0.5, 0.9, 0.95, 0.99)("t0"."ttft_ms_q")' in sql
    assert "arrayReduce" not in sql and "groupArray" not in sql


def test_merged_states_give_the_raw_quantiles(seeded: tuple[Connection, str]) -> None:
    con, project = seeded
    t = con.table("inference_stats_5m")
    t = t.filter(t.project == project)
    row = t.aggregate(
        latency=quantiles_merge(t.latency_ms_q, LEVELS),
        ttft=quantiles_merge(t.ttft_ms_q, LEVELS, conditional=True),
    ).to_pyarrow()
    levels = ", ".join(map(str, LEVELS))
    latency = _raw(con.warehouse, project, f"quantiles({levels})(latency_ms)")
    ttft = _raw(
        con.warehouse, project, f"quantilesIf({levels})(ifNull(ttft_ms, 0.), isNotNull(ttft_ms))"
    )
    assert row["latency"][0].as_py() == pytest.approx(latency)
    assert row["ttft"][0].as_py() == pytest.approx(ttft)


def test_a_filtered_merge_reads_only_matching_states(seeded: tuple[Connection, str]) -> None:
    con, project = seeded
    t = con.table("inference_stats_5m")
    t = t.filter(t.project == project)
    model = str(t.select("model").limit(1).to_pyarrow()["model"][0])
    merged = t.aggregate(q=quantiles_merge(t.latency_ms_q, LEVELS, where=t.model == model))
    levels = ", ".join(map(str, LEVELS))
    raw = _raw(con.warehouse, project, f"quantilesIf({levels})(latency_ms, model = '{model}')")
    assert merged.to_pyarrow()["q"][0].as_py() == pytest.approx(raw)
