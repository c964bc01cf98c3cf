"""A second process reaches the running platform with the environment a user has.

The test session's own local Ray runs in token-auth mode (Ray's default for a new local
cluster). A run file like the one ``ollive up`` writes points at it; a separate Python
process with no ``RAY_*`` variables calls ``ollive.connect()`` and queries the warehouse
actor, as a notebook does. A run file that does not say how the cluster authenticates is
the control: Ray refuses the join, and the error says what to do.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]

QUERY = """
import json, sys
if sys.argv[1] == "ray-first":
    import ray  # a notebook that imported Ray before Ollive: Ray has cached its config
import ollive
con = ollive.connect()
print(json.dumps({"tables": int(con.warehouse.scalar("SELECT count() FROM system.tables"))}))
"""


@pytest.fixture(scope="module")
def platform_home(ray_session: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """An OLLIVE_HOME whose run file describes the test session's cluster (token mode) and
    its warehouse actor (the one other modules started, or a new one)."""
    from ollive.config.runfile import ray_auth_record, write_run_file
    from ollive.store.actor import NAMESPACE, WAREHOUSE_ACTOR
    from serve.warehouse import ensure_warehouse_actor

    home = tmp_path_factory.mktemp("join-home")
    try:
        ray_session.get_actor(WAREHOUSE_ACTOR, namespace=NAMESPACE)
        started = None
    except ValueError:
        started = ensure_warehouse_actor(f"chdb://{home / 'warehouse'}")
    record = ray_auth_record()
    assert record["ray_auth_mode"] == "token", "the session's Ray is not in token mode"
    run = {
        "pid": os.getpid(),
        "ray_address": ray_session.get_runtime_context().gcs_address,
        "warehouse_url": f"ray://{WAREHOUSE_ACTOR}",
    }
    write_run_file(home / "run.json", {**run, **record})
    yield home
    if started is not None:
        ray_session.kill(started)


def _user_process(
    home: Path, *args: str, timeout_s: float = 120
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OLLIVE_", "RAY_"))}
    env["OLLIVE_HOME"] = str(home)
    return subprocess.run(
        [sys.executable, "-c", QUERY, *args], env=env, cwd=ROOT, capture_output=True,
        text=True, timeout=timeout_s,
    )  # fmt: skip


@pytest.mark.parametrize("order", ["ollive-only", "ray-first"])
def test_a_notebook_process_joins_the_token_mode_cluster(platform_home: Path, order: str) -> None:
    out = _user_process(platform_home, order)
    assert out.returncode == 0, out.stderr[-3000:]
    assert json.loads(out.stdout.splitlines()[-1])["tables"] > 0


def test_without_the_auth_record_the_join_fails_and_says_what_to_do(
    platform_home: Path, tmp_path: Path
) -> None:
    from ollive.config.runfile import read_run_file, write_run_file

    run = read_run_file(platform_home / "run.json")
    assert run is not None
    write_run_file(tmp_path / "run.json", {k: v for k, v in run.items() if k != "ray_auth_mode"})
    out = _user_process(tmp_path, "ollive-only", timeout_s=300)
    assert out.returncode != 0
    assert "WarehouseUnavailableError" in out.stderr and "RAY_AUTH_MODE=token" in out.stderr
