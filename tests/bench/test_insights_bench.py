"""``ollive bench insights`` end to end, small: a second process seeds a fresh chDB directory
(with the 10,000-span trace), times every function and page, and ends with one JSON line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def test_a_small_insights_bench_times_every_view_and_page(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OLLIVE_")}
    env["OLLIVE_HOME"] = str(tmp_path / "home")
    out = subprocess.run(
        [sys.executable, "-m", "ollive.cli", "bench", "insights", "--events", "20000",
         "--repeats", "1", "--warehouse", f"chdb://{tmp_path / 'wh'}"],
        env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    assert figures["bench"] == "insights" and figures["big_trace_spans"] >= 10_000
    views = ("search_text_rare", "search_filters_only", "trace_10k_spans", "users", "sessions",
             "scores_by_model", "data_health", "page_overview_refresh", "page_traces_refresh",
             "page_datahealth_refresh")  # fmt: skip
    for name in views:
        assert figures[name]["p95_ms"] > 0, name
