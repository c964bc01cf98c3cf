"""``ollive bench soak`` end to end, briefly: its own embedded platform in a subprocess (it
starts and stops a local Ray cluster, so not inside the test session's one)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.own_platform]


def test_a_short_soak_reports_memory_spool_and_exact_counts(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OLLIVE_", "RAY_ADDRESS"))}
    env["OLLIVE_HOME"] = str(tmp_path)
    out = subprocess.run(
        [sys.executable, "-m", "ollive.cli", "bench", "soak", "--minutes", "0.4", "--rate", "100", "--sample", "2"],
        env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    assert figures["bench"] == "soak"
    assert figures["sent"] == figures["acknowledged"] == figures["stored"] > 0
    assert figures["spool_end"] == 0 and figures["rows_spooled"] == 0
    roles = {name.split("[")[0] for name in figures["rss"]}
    assert {"IngestAPI", "EventWriter", "WarehouseActor", "raylet", "gcs_server", "driver"} <= roles
    assert set(figures["uss"]) == set(figures["rss"])
    assert isinstance(figures["memory_flat"], bool)
    assert "MemoryTracking" in figures["engine"] and figures["active_parts"]["end"] > 0
