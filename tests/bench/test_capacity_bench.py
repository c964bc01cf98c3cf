"""``ollive bench capacity`` end to end, small: a second process runs every ingest stage
(against its own Valkey and chDB) and ends with one JSON line of CPU µs per event."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

STAGES = ("decode", "validate", "price", "redact", "claim", "arrow", "handoff",
          "writer", "wal_fsync", "insert", "marking")  # fmt: skip


def test_a_small_capacity_bench_counts_every_stage(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OLLIVE_")}
    env["OLLIVE_HOME"] = str(tmp_path / "home")
    out = subprocess.run(
        [sys.executable, "-m", "ollive.cli", "bench", "capacity", "--events", "2000"],
        env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    assert figures["bench"] == "capacity" and figures["events"] == 2000

    stages = figures["stages_us_per_event"]
    assert set(stages) == set(STAGES)
    for name in STAGES:
        assert stages[name] > 0, name
    total = figures["total_us_per_event"]
    assert total == pytest.approx(sum(stages.values()), abs=0.05)
    assert figures["events_per_core_s"] == pytest.approx(1e6 / total, abs=1)
    tiers = figures["tiers_us_per_event"]
    assert sum(tiers.values()) == pytest.approx(total, abs=0.05)

    # the stages that wait on Valkey, the disk or chDB also report wall time
    wall = figures["stages_wall_us_per_event"]
    assert {"claim", "marking", "wal_fsync", "insert"} <= set(wall)
    assert all(v > 0 for v in wall.values())

    # the keys of earlier versions stay
    for key in ("replica_pipeline_events_per_cpu_s", "replica_pipeline_no_redaction_events_per_cpu_s",
                "otlp_convert_spans_per_cpu_s", "warehouse_insert_events_per_cpu_s"):  # fmt: skip
        assert figures[key] > 0, key
