"""sql/005_prompt_versions.sql on a warehouse that already holds events (the upgrade path),
and on the cluster rendering (the Distributed table gets the columns too)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ollive.config import Settings
from ollive.store.migrations import render_migrations

PROMPT_COLUMNS = ("prompt_name", "prompt_version", "prompt_hash")

# in a process of its own: chDB opens one warehouse directory per process
_UPGRADE = """
import ollive.store.migrations as m
from ollive.config import Settings
from ollive.store.chdb import ChdbWarehouse
from ollive.store.tables import RAW_TABLES
from tests.store._suite import inference_rows

real = m.load_migrations
wh = ChdbWarehouse({path!r})
m.load_migrations = lambda: tuple(x for x in real() if x.version < 5)  # as it stood before
m.migrate(wh, Settings())
m.load_migrations = real
wh.insert_arrow("inference_logs", inference_rows("upgrade", 3))
print("applied", m.migrate(wh, Settings()))
names = wh.query_arrow(
    "SELECT name FROM system.columns WHERE database = currentDatabase() "
    "AND table = 'inference_logs' ORDER BY position"
).column(0).to_pylist()
print("order", names == RAW_TABLES["inference_logs"].names)
print("old", wh.query_arrow(
    "SELECT DISTINCT prompt_name, prompt_version, prompt_hash FROM inference_logs"
).to_pylist())
new = inference_rows("upgrade", 1).append_column("prompt_name", [["support-answer"]])
wh.insert_arrow("inference_logs", new)
print("new", wh.scalar("SELECT count() FROM inference_logs WHERE prompt_name = 'support-answer'"))
wh.close()
"""


def test_an_existing_warehouse_gains_the_columns_and_keeps_its_rows(tmp_path: Path) -> None:
    code = _UPGRADE.format(path=str(tmp_path / "wh"))
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=root
    )
    assert out.returncode == 0, out.stderr
    lines = dict(line.split(" ", 1) for line in out.stdout.splitlines())
    assert "'005_prompt_versions'" in lines["applied"]
    assert lines["order"] == "True"  # in the order the writers send them
    assert lines["old"] == str([dict.fromkeys(PROMPT_COLUMNS, "")])
    assert lines["new"] == "1"


def test_the_cluster_rendering_alters_local_and_distributed_tables(warehouse: object) -> None:
    statements = render_migrations(Settings(), cluster="ollive_cluster")
    alters = [s for s in statements if s.startswith("ALTER") and "prompt_name" in s]
    assert [s.split()[2] for s in alters] == ["inference_logs", "inference_logs_all"]
    for stmt in alters:
        assert "ON CLUSTER 'ollive_cluster'" in stmt
        assert all(f"ADD COLUMN IF NOT EXISTS {c}" in stmt for c in PROMPT_COLUMNS)
        ast = warehouse.query_arrow(f"EXPLAIN AST {stmt}")  # type: ignore[attr-defined]
        assert ast.num_rows > 0
    # a fresh cluster creates the Distributed table AS the local one after 005: it has them
    create_all = next(
        i
        for i, s in enumerate(statements)
        if s.startswith("CREATE TABLE IF NOT EXISTS inference_logs_all")
    )
    assert statements.index(alters[0]) < create_all < statements.index(alters[1])
