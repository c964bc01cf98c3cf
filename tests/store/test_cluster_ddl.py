"""The ClickHouse cluster variant of the DDL (`ollive migrate --cluster NAME`).

No ClickHouse server runs here: the rendered statements are checked as text and parsed by
ClickHouse's own parser (chDB, ``EXPLAIN AST``); chDB still runs the plain rendering.
"""

from __future__ import annotations

import re

import pytest

from ollive.config import Settings
from ollive.store import maintenance
from ollive.store.migrations import (
    CLUSTER_VERSION_OFFSET,
    applied_versions,
    load_cluster_migrations,
    migrate,
    render_migrations,
)

RAW = ("inference_logs", "tool_executions", "application_logs", "scores")
AGGREGATES = ("inference_stats_5m", "tool_stats_5m")


@pytest.fixture(scope="module")
def cluster_sql() -> list[str]:
    return render_migrations(Settings(), cluster="ollive_cluster")


def _creates(statements: list[str], kind: str = "TABLE") -> dict[str, str]:
    found = {}
    for stmt in statements:
        match = re.match(rf"CREATE {kind} IF NOT EXISTS (\w+)", stmt)
        if match:
            found[match[1]] = stmt
    return found


def test_every_create_runs_on_the_cluster(cluster_sql: list[str]) -> None:
    creates = [s for s in cluster_sql if s.startswith("CREATE")]
    assert creates
    for stmt in creates:
        assert "ON CLUSTER 'ollive_cluster'" in stmt, stmt[:120]
    assert not [s for s in cluster_sql if "${" in s]


def test_local_tables_use_replicated_engines(cluster_sql: list[str]) -> None:
    tables = _creates(cluster_sql)
    for name in RAW:
        assert "ENGINE = ReplicatedReplacingMergeTree(ingested_at)" in tables[name]
    for name in AGGREGATES:
        assert "ENGINE = ReplicatedAggregatingMergeTree" in tables[name]
    assert "ENGINE = ReplicatedMergeTree" in tables["_ollive_migrations"]


def test_distributed_tables_cover_raw_and_aggregates(cluster_sql: list[str]) -> None:
    tables = _creates(cluster_sql)
    for name in RAW:
        ddl = tables[f"{name}_all"]
        assert f"AS {name}" in ddl
        assert (
            f"Distributed('ollive_cluster', currentDatabase(), {name}, "
            "cityHash64(project, request_id))" in ddl
        )
    for name in AGGREGATES:
        assert f"Distributed('ollive_cluster', currentDatabase(), {name})" in tables[f"{name}_all"]


def test_distributed_tables_come_after_their_local_tables(cluster_sql: list[str]) -> None:
    order = list(_creates(cluster_sql))
    for name in RAW + AGGREGATES:
        assert order.index(name) < order.index(f"{name}_all")


def test_cluster_files_are_versioned_apart() -> None:
    versions = [m.version for m in load_cluster_migrations()]
    assert versions and all(v > CLUSTER_VERSION_OFFSET for v in versions)


def test_plain_rendering_has_no_cluster_parts() -> None:
    plain = render_migrations(Settings())
    text = "\n".join(plain)
    assert "ON CLUSTER" not in text
    assert "Replicated" not in text
    assert "Distributed" not in text
    assert not [name for name in _creates(plain) if name.endswith("_all")]


def test_clickhouse_parses_every_cluster_statement(
    warehouse: object, cluster_sql: list[str]
) -> None:
    for stmt in cluster_sql:
        if stmt.startswith("CREATE"):
            ast = warehouse.query_arrow(f"EXPLAIN AST {stmt}")  # type: ignore[attr-defined]
            assert ast.num_rows > 0, stmt[:120]


def test_chdb_applies_the_plain_rendering_without_cluster_files(warehouse: object) -> None:
    assert migrate(warehouse, Settings()) == []  # type: ignore[arg-type]
    versions = applied_versions(warehouse)  # type: ignore[arg-type]
    assert versions and max(versions) < CLUSTER_VERSION_OFFSET
    tables = set(maintenance.tables(warehouse))  # type: ignore[arg-type]
    assert set(RAW + AGGREGATES) <= tables
    assert not {f"{name}_all" for name in RAW + AGGREGATES} & tables
