"""Erasure: ``plan_deletion``/``execute_deletion`` and ``ollive delete`` on the session chDB."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from typer.testing import CliRunner

from ollive.demo.synth import seed_warehouse
from ollive.errors import ConfigError
from ollive.store import RAW_TABLES
from ollive.store.deletion import apply_retention, execute_deletion, plan_deletion

#: the end of the seeded day: today's midnight, so the rows stay inside every table's TTL
#: (a fixed date would age out of the 30-day application-log TTL, then the 90-day ones)
_END = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def _seed(warehouse: Any, project: str) -> None:
    seed_warehouse(warehouse, events=3_000, project=project, days=1, users=15, end=_END, seed=3)


def _count(warehouse: Any, table: str, where: str) -> int:
    return int(warehouse.scalar(f"SELECT count() FROM {table} FINAL WHERE {where}") or 0)


def _aggregates_match_raw(warehouse: Any, project: str) -> None:
    """The MV targets hold exactly what the remaining raw rows add up to."""
    p = f"project = '{project}'"
    mv = warehouse.query_arrow(
        "SELECT countMerge(requests) AS n, sumMerge(total_tokens) AS tokens "
        f"FROM inference_stats_5m WHERE {p}"
    ).to_pylist()[0]
    raw = warehouse.query_arrow(
        f"SELECT count() AS n, sum(total_tokens) AS tokens FROM inference_logs FINAL WHERE {p}"
    ).to_pylist()[0]
    assert (mv["n"], mv["tokens"]) == (raw["n"], raw["tokens"])
    tools_mv = warehouse.scalar(f"SELECT countMerge(calls) FROM tool_stats_5m WHERE {p}")
    assert tools_mv == _count(warehouse, "tool_executions", p)


def _busiest(warehouse: Any, project: str, column: str) -> str:
    return str(
        warehouse.scalar(
            f"SELECT {column} FROM inference_logs WHERE project = '{project}' AND {column} != '' "
            f"GROUP BY {column} ORDER BY count() DESC LIMIT 1"
        )
    )


def test_delete_a_user_removes_rows_everywhere_and_their_aggregate_share(
    warehouse: Any, project: str
) -> None:
    _seed(warehouse, project)
    user = _busiest(warehouse, project, "user_id")
    before = {t: _count(warehouse, t, f"project = '{project}'") for t in RAW_TABLES}
    plan = plan_deletion(warehouse, user=user, project=project)
    assert plan.counts["inference_logs"] > 0 and plan.buckets[project]
    assert execute_deletion(warehouse, plan) == plan.counts
    for table in RAW_TABLES:
        assert _count(warehouse, table, f"project = '{project}' AND user_id = '{user}'") == 0
        left = _count(warehouse, table, f"project = '{project}'")
        assert left == before[table] - plan.counts[table]
    _aggregates_match_raw(warehouse, project)


def test_delete_a_conversation_and_before_a_date(warehouse: Any, project: str) -> None:
    _seed(warehouse, project)
    conversation = _busiest(warehouse, project, "conversation_id")
    plan = plan_deletion(warehouse, conversation=conversation, project=project)
    execute_deletion(warehouse, plan)
    where = f"project = '{project}' AND conversation_id = '{conversation}'"
    assert all(_count(warehouse, t, where) == 0 for t in RAW_TABLES)
    _aggregates_match_raw(warehouse, project)

    cutoff = _END - timedelta(hours=12)
    plan = plan_deletion(warehouse, before=cutoff.isoformat(), project=project)
    assert plan.total > 0
    execute_deletion(warehouse, plan)
    assert _count(warehouse, "inference_logs", f"project = '{project}' AND started_at < '{cutoff:%Y-%m-%d %H:%M:%S}'") == 0  # fmt: skip
    assert _count(warehouse, "inference_logs", f"project = '{project}'") > 0
    _aggregates_match_raw(warehouse, project)


def test_deletion_is_scoped_to_the_project_and_values_are_quoted(
    warehouse: Any, project: str
) -> None:
    _seed(warehouse, project)
    other = project + "-other"
    _seed(warehouse, other)
    user = _busiest(warehouse, project, "user_id")
    execute_deletion(warehouse, plan_deletion(warehouse, user=user, project=project))
    assert _count(warehouse, "inference_logs", f"project = '{other}' AND user_id = '{user}'") > 0
    hostile = plan_deletion(warehouse, user="x' OR '1'='1", project=project)
    assert hostile.total == 0
    with pytest.raises(ConfigError):
        plan_deletion(warehouse, project=project)
    with pytest.raises(ConfigError):
        plan_deletion(warehouse, before="not a date", project=project)


def test_cli_dry_run_confirmation_and_yes(
    warehouse: Any, project: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ollive.cli import admin, app

    _seed(warehouse, project)
    # chDB holds one directory per process: the command must use the session's warehouse
    # object rather than open the same directory a second time
    monkeypatch.setattr(admin, "open_resolved", lambda url: warehouse)
    user = _busiest(warehouse, project, "user_id")
    args = ["delete", "--user", user, "--project", project]
    runner = CliRunner()
    dry = runner.invoke(app, [*args, "--dry-run"])
    assert dry.exit_code == 0 and "inference_logs" in dry.output and "dry run" in dry.output
    refused = runner.invoke(app, args, input="n\n")
    assert refused.exit_code == 1 and "nothing deleted" in refused.output
    where = f"project = '{project}' AND user_id = '{user}'"
    assert _count(warehouse, "inference_logs", where) > 0
    done = runner.invoke(app, [*args, "--yes"])
    assert done.exit_code == 0, done.output
    assert _count(warehouse, "inference_logs", where) == 0
    _aggregates_match_raw(warehouse, project)


def test_retention_applies_the_ttl_settings(warehouse: Any) -> None:
    from ollive.config import Settings

    applied = apply_retention(warehouse, Settings(ttl_application_days=7))
    assert applied["application_logs"] == 7 and applied["inference_logs"] == 90
    ddl = warehouse.scalar(
        "SELECT create_table_query FROM system.tables WHERE name = 'application_logs'"
    )
    assert "toIntervalDay(7)" in ddl
    apply_retention(warehouse, Settings())  # back to the defaults for the other tests
