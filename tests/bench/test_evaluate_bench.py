"""``ollive bench evaluate`` small, through the CLI, on the session's Ray and warehouse: the
experiment writes exactly two scores per item, and online evaluation with the demo rules
scores every sampled event of demo-like traffic exactly once. No timing thresholds."""

from __future__ import annotations

import json
from typing import Any

import pytest

pytestmark = pytest.mark.slow

KEYS = {
    "bench", "engine", "project", "ray_cpus", "items", "concurrency", "dataset_create_s",
    "dataset_items_per_s", "experiment_s", "experiment_items_per_s", "experiment_succeeded",
    "scores_written", "scores_expected", "experiment_ok", "online_seconds", "rate_turns_per_s",
    "interval_s", "settle_s", "turns", "events", "sampled", "scored", "judge_calls", "steps",
    "step_p50_s", "step_max_s", "lag_p50_s", "lag_p95_s", "lag_max_s", "lag_by_rule",
    "catch_up_s", "online_ok", "ok", "wall_s",
}  # fmt: skip


def test_a_small_evaluate_bench_scores_every_item_and_sampled_event_once(
    ray_session: Any, warehouse: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from ollive.cli import app

    # chDB holds one directory per process: the bench runs on the session's warehouse (its
    # rows are in a project of their own) and the session's Ray
    monkeypatch.setattr("ollive.store.open_warehouse", lambda *args, **kwargs: warehouse)
    result = CliRunner().invoke(
        app, ["bench", "evaluate", "--items", "200", "--online-seconds", "5", "--interval", "1"]
    )
    assert result.exit_code == 0, result.output[-3000:]
    figures = json.loads(result.output.strip().splitlines()[-1])  # the last line: the figures
    assert set(figures) >= KEYS
    assert (figures["bench"], figures["items"]) == ("evaluate", 200)
    assert figures["scores_written"] == figures["scores_expected"] == 200 * 2
    assert figures["experiment_succeeded"] == 200 and figures["experiment_ok"]
    # 10 turns of the demo chatbot: one inference per model call (tool calls, then the answer)
    assert figures["turns"] == 10 and figures["events"] >= 10
    assert set(figures["sampled"]) == {"no-refusals", "helpfulness"}
    assert figures["scored"] == figures["sampled"]  # every sampled event, once (checked inside)
    assert figures["sampled"]["no-refusals"] == 10  # every answer (finish_reason stop)
    assert 0 < figures["sampled"]["helpfulness"] <= 10  # half of them, by request id hash
    assert figures["judge_calls"] == figures["scored"]["helpfulness"]
    assert figures["lag_max_s"] >= figures["lag_p95_s"] >= figures["lag_p50_s"] > 0
    assert figures["online_ok"] and figures["ok"]
