"""Multi-node ingest: node loss mid-stream and Serve autoscaling, on a ``Cluster`` of 3 nodes.

The cluster cannot share a process with the session's Ray, so ``cluster_run.py`` runs in a
subprocess and prints what it saw as one JSON line; these tests assert on it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.own_platform]

SCRIPT = Path(__file__).with_name("cluster_run.py")
EVENTS = 6_000


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    # the environment of a user's shell: no Ray address, no auth mode that this session's
    # own local cluster put into the environment when it started
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("RAY_ADDRESS", "OLLIVE_RAY_ADDRESS") and not k.startswith("RAY_AUTH_")
    }
    env.update(RAY_USAGE_STATS_ENABLED="0")
    env["OLLIVE_TEST_HOME"] = str(tmp_path_factory.mktemp("scaleout"))
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--events", str(EVENTS)],
        capture_output=True,
        text=True,
        timeout=900,
        env=env,
        cwd=SCRIPT.parents[2],
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    assert lines, f"no result (exit {proc.returncode}): {proc.stderr[-3000:]}"
    result: dict[str, Any] = json.loads(lines[-1])
    assert "error" not in result, result.get("traceback", result["error"])
    return result


def test_replicas_and_writers_are_spread_over_the_worker_nodes(run: dict[str, Any]) -> None:
    workers = set(run["nodes"]["workers"])
    assert len(set(run["replica_nodes"])) == 2 and set(run["replica_nodes"]) <= workers
    # one writer per worker (soft affinity, so a lost node's writer can restart elsewhere)
    assert set(run["writer_nodes"]) == workers


def test_losing_a_worker_mid_stream_loses_nothing_and_counts_nothing_twice(
    run: dict[str, Any],
) -> None:
    failover = run["failover"]
    assert failover["killed"] and failover["killed_at_ack"] < failover["bodies"]
    assert failover["rejected"] == 0
    # every body got one final 202; an event stored by a request whose answer was lost with
    # the node comes back as a duplicate on the retry, never stored again
    assert failover["accepted"] + failover["duplicates"] == EVENTS
    assert failover["rows_raw"] == EVENTS  # stored once (no FINAL needed)
    assert failover["rows_final"] == EVENTS
    assert failover["mv_count"] == failover["expected_mv"]  # the 5-minute MVs count once too
    # the writer of the lost node came back on a surviving node
    assert len(run["writer_nodes_after"]) == 2
    assert run["nodes"]["workers"][1] not in run["writer_nodes_after"]


def test_autoscaling_rises_under_load_and_returns_to_the_minimum(run: dict[str, Any]) -> None:
    scaling = run["autoscaling"]
    assert scaling["start_replicas"] == scaling["min_replicas"]
    assert scaling["peak_replicas"] > scaling["min_replicas"]
    assert scaling["peak_replicas"] <= scaling["max_replicas"]
    assert scaling["final_replicas"] == scaling["min_replicas"]
