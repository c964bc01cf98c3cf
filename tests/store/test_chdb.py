"""The warehouse suite on chDB, plus what only the embedded engine does."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ollive.errors import StorageError, WarehouseLockedError
from ollive.store.chdb import ChdbWarehouse

from ._suite import WarehouseSuite, inference_rows


class TestChdb(WarehouseSuite):
    @pytest.fixture
    def wh(self, warehouse):  # type: ignore[no-untyped-def]
        return warehouse


def test_migrations_are_recorded_and_idempotent(warehouse) -> None:  # type: ignore[no-untyped-def]
    from ollive.store import maintenance
    from ollive.store.migrations import applied_versions, load_migrations, migrate

    assert applied_versions(warehouse) == {m.version for m in load_migrations()}
    assert migrate(warehouse) == []
    tables = set(maintenance.tables(warehouse))
    assert {"inference_logs", "tool_executions", "application_logs", "scores"} <= tables
    assert {"inference_stats_5m", "tool_stats_5m", "mv_inference_5m", "mv_tool_5m"} <= tables


def test_ttl_follows_settings(warehouse) -> None:  # type: ignore[no-untyped-def]
    ddl = warehouse.scalar(
        "SELECT create_table_query FROM system.tables WHERE name = 'application_logs'"
    )
    assert "toIntervalDay(30)" in ddl


def test_sql_errors_are_storage_errors_with_code(warehouse) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(StorageError) as info:
        warehouse.query_arrow("SELECT * FROM no_such_table")
    assert info.value.code == 60


def test_second_directory_in_one_process_is_refused(warehouse, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(StorageError, match="one directory per process"):
        ChdbWarehouse(tmp_path / "other")


def test_locked_directory_names_the_way_through(warehouse) -> None:  # type: ignore[no-untyped-def]
    """Another process opening the session's directory is told to use the actor."""
    code = (
        "from ollive.store.chdb import ChdbWarehouse\n"
        "from ollive.errors import WarehouseLockedError\n"
        f"try:\n    ChdbWarehouse({str(warehouse.path)!r})\n"
        "except WarehouseLockedError as e:\n    print('LOCKED', e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "LOCKED" in out.stdout, out.stderr
    assert "ollive.connect()" in out.stdout and "pid" in out.stdout
    assert WarehouseLockedError.__mro__[1] is StorageError


def test_bad_token_is_refused(warehouse, project) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(StorageError, match="token"):
        warehouse.insert_arrow(
            "inference_logs", inference_rows(project, 1), token="bad token'; DROP"
        )


def test_migration_resumes_after_half_way_failure(tmp_path: Path) -> None:
    """A file that failed at statement k is re-applied from the start on the next run."""
    code = f"""
import ollive.store.migrations as m
from ollive.store.maintenance import tables
from ollive.store.chdb import ChdbWarehouse
from ollive.errors import MigrationError
wh = ChdbWarehouse({str(tmp_path / "wh")!r})
real = wh.command
calls = []
def flaky(sql):
    calls.append(sql)
    if sql.startswith('CREATE TABLE IF NOT EXISTS tool_executions'):
        raise m.StorageError('disk full (injected)')
    real(sql)
wh.command = flaky
try:
    m.migrate(wh)
except MigrationError as e:
    print('FAILED', 'resumes' in str(e))
print('versions', sorted(m.applied_versions(wh)))
wh.command = real
print('applied', m.migrate(wh))
print('tables', 'tool_executions' in tables(wh), 'inference_stats_5m' in tables(wh))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "FAILED True" in out.stdout, out.stderr
    assert "versions []" in out.stdout
    from ollive.store.migrations import load_migrations

    everything = [f"{m.version:03d}_{m.name}" for m in load_migrations()]
    assert f"applied {everything}" in out.stdout
    assert "tables True True" in out.stdout
