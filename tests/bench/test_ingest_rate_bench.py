"""``ollive bench ingest --rate`` end to end, briefly: open-loop pacing, ack latency from each
body's scheduled send time, exact counts. Its own embedded platform in a subprocess (it starts
and stops a local Ray cluster, so not inside the test session's one)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def test_a_paced_ingest_run_reports_rates_latencies_and_exact_counts(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OLLIVE_", "RAY_ADDRESS"))}
    env["OLLIVE_HOME"] = str(tmp_path)
    out = subprocess.run(
        [sys.executable, "-m", "ollive.cli", "bench", "ingest", "--events", "3000", "--rate", "1000", "--concurrency", "2"],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    assert figures["bench"] == "ingest"
    assert figures["events"] == figures["acknowledged"] == figures["stored"] == 3000
    assert figures["ack_events_per_s"] > 0 and figures["end_to_end_events_per_s"] > 0
    assert figures["rate_target"] == 1000
    # 3 bodies of 1000 due 1 s apart: the client keeps the pace unless it falls far behind
    assert 0 < figures["rate_achieved"] <= 1100
    for key in ("ack_ms", "ack_ms_from_send"):
        p50, p95, p99 = (figures[key][p] for p in ("p50", "p95", "p99"))
        assert 0 < p50 <= p95 <= p99
    # measured from the scheduled time, a body waits at least as long as from its send
    assert figures["ack_ms"]["p99"] >= figures["ack_ms_from_send"]["p99"]
