"""prompts (per prompt version) and scores by prompt version, on hand-written rows with known
answers; and the rollout story of the synthetic history."""

from __future__ import annotations

import math
import uuid
from datetime import timedelta
from typing import Any

import ibis
import pandas as pd
import pytest

import ollive.insights as oi
from ollive.errors import ConfigError
from ollive.events import template_hash
from tests.insights.conftest import END

START = END - timedelta(hours=2)
T0 = START + timedelta(minutes=10)
V2 = template_hash("Answer {question}.\n(v2)")
V3 = template_hash("Answer {question}; cite the order id.\n(v3)")
V3_EDITED = template_hash("Answer {question}; cite the order id!\n(v3)")


def _rows(insert: Any, project: str) -> dict[str, str]:
    """support-answer v2 (4 calls, 1 error) then v3 (2 slower, dearer calls, its template
    edited in between), one call without a prompt; scores on some of them."""
    ids = {k: str(uuid.uuid4()) for k in ("a", "b", "c", "d", "e", "f", "plain")}
    m = timedelta(minutes=1)
    common = {"service": "support", "model": "gpt-4o", "provider": "openai", "status": "ok",
              "prompt_name": "support-answer", "total_tokens": 100, "prompt_tokens": 80,
              "completion_tokens": 20}  # fmt: skip
    v2 = {**common, "prompt_version": "2", "prompt_hash": V2, "cost_usd": 0.01}
    v3 = {**common, "prompt_version": "3", "cost_usd": 0.05, "latency_ms": 1_000.0}
    insert("inference_logs", [
        {**v2, "request_id": ids["a"], "started_at": T0, "latency_ms": 100.0},
        {**v2, "request_id": ids["b"], "started_at": T0 + m, "latency_ms": 200.0},
        {**v2, "request_id": ids["c"], "started_at": T0 + 2 * m, "latency_ms": 300.0,
         "status": "error"},
        {**v2, "request_id": ids["d"], "started_at": T0 + 3 * m, "latency_ms": 400.0},
        {**v3, "request_id": ids["e"], "started_at": T0 + 70 * m, "prompt_hash": V3},
        {**v3, "request_id": ids["f"], "started_at": T0 + 80 * m, "prompt_hash": V3_EDITED},
        {"request_id": ids["plain"], "started_at": T0 + 5 * m, "service": "search",
         "model": "mini", "latency_ms": 50.0, "status": "ok", "cost_usd": 0.001},
    ])  # fmt: skip
    insert("scores", [
        {"timestamp": T0 + 30 * m, "target_request_id": ids["a"], "name": "thumbs_up",
         "value": 1.0},
        {"timestamp": T0 + 30 * m, "target_request_id": ids["b"], "name": "thumbs_up",
         "value": 0.0},
        {"timestamp": T0 + 90 * m, "target_request_id": ids["e"], "name": "helpfulness",
         "value": 0.9},
        # given after the window's end: still counts for its inference
        {"timestamp": END + 30 * m, "target_request_id": ids["f"], "name": "helpfulness",
         "value": 0.7},
    ])  # fmt: skip
    return ids


@pytest.fixture
def rows(insert: Any, project: str) -> dict[str, str]:
    ids = _rows(insert, project)
    # another project's prompt never shows up
    insert("inference_logs", [{"project": f"{project}-other", "prompt_name": "support-answer",
                               "prompt_version": "9", "started_at": T0, "status": "ok"}])  # fmt: skip
    return ids


def _by_version(df: pd.DataFrame) -> dict[tuple[str, str], pd.Series]:
    """Each row as a Series, keyed by (prompt_name, prompt_version)."""
    return {key: row for key, row in df.set_index(["prompt_name", "prompt_version"]).iterrows()}  # type: ignore[misc]


def test_one_row_per_prompt_version_with_known_answers(con: Any, rows: Any) -> None:
    df = oi.prompts(con, start=START, end=END)
    assert list(df.columns[: len(oi.PROMPT_COLUMNS)]) == list(oi.PROMPT_COLUMNS)
    assert list(zip(df.prompt_name, df.prompt_version, strict=True)) == [
        ("", ""),  # the calls made without a prompt
        ("support-answer", "2"),  # then each prompt's versions in the order they appeared
        ("support-answer", "3"),
    ]
    got = _by_version(df)
    v2, v3, plain = got["support-answer", "2"], got["support-answer", "3"], got["", ""]
    assert (v2.requests, v2.errors, v2.error_rate) == (4, 1, pytest.approx(0.25))
    assert 200 <= v2.latency_p50_ms <= 300 and v3.latency_p50_ms == pytest.approx(1_000)
    assert v2.cost_usd == pytest.approx(0.04) and v2.mean_cost_usd == pytest.approx(0.01)
    assert v3.cost_usd == pytest.approx(0.10) and v3.mean_cost_usd == pytest.approx(0.05)
    assert (v2.prompt_tokens, v2.completion_tokens, v2.total_tokens) == (320, 80, 400)
    assert (v2.prompt_hash, v2.templates) == (V2, 1)
    assert (v3.prompt_hash, v3.templates) == (V3_EDITED, 2)  # edited without a version bump
    assert v2.first_seen < v2.last_seen < v3.first_seen
    assert (plain.requests, plain.prompt_hash, plain.templates) == (1, "", 0)


def test_score_columns_per_version(con: Any, rows: Any) -> None:
    df = oi.prompts(con, start=START, end=END).set_index(["prompt_name", "prompt_version"])
    assert [c for c in df.columns if c.startswith("score")] == [
        "score.helpfulness",
        "score_n.helpfulness",
        "score.thumbs_up",
        "score_n.thumbs_up",
    ]
    v2, v3 = df.loc[("support-answer", "2")], df.loc[("support-answer", "3")]
    assert v2["score.thumbs_up"] == pytest.approx(0.5) and v2["score_n.thumbs_up"] == 2
    assert v3["score.helpfulness"] == pytest.approx(0.8) and v3["score_n.helpfulness"] == 2
    assert math.isnan(v3["score.thumbs_up"]) and v3["score_n.thumbs_up"] == 0
    assert df.loc[("", ""), "score_n.thumbs_up"] == 0
    only = oi.prompts(con, start=START, end=END, scores=["thumbs_up"])
    assert [c for c in only.columns if c.startswith("score")] == [
        "score.thumbs_up",
        "score_n.thumbs_up",
    ]
    assert list(oi.prompts(con, start=START, end=END, scores=()).columns) == list(oi.PROMPT_COLUMNS)


def test_filters_name_unprompted_and_buckets(con: Any, rows: Any) -> None:
    window = {"start": START, "end": END}
    named = oi.prompts(con, name="support-answer", scores=(), **window)
    assert set(named.prompt_version) == {"2", "3"}
    assert "" not in set(oi.prompts(con, unprompted=False, scores=(), **window).prompt_name)
    assert list(oi.prompts(con, service="search", scores=(), **window).prompt_name) == [""]
    assert oi.prompts(con, name="nothing-like-it", scores=(), **window).empty
    hourly = oi.prompts(con, bucket="1h", name="support-answer", **window)
    assert hourly.columns[0] == "bucket"
    assert hourly.groupby("prompt_version").requests.sum().to_dict() == {"2": 4, "3": 2}
    assert hourly.bucket.is_monotonic_increasing
    with pytest.raises(ConfigError):
        oi.prompts(con, bucket="1.5s", **window)


def test_the_expression_reads_raw_rows_scoped_to_the_project(con: Any, rows: Any) -> None:
    sql = ibis.to_sql(
        oi.prompts_expr(con, start=START, end=END, scores=["thumbs_up"]), dialect="clickhouse"
    )
    assert "inference_logs" in sql and "inference_stats_5m" not in sql
    assert sql.count("'test-") >= 2  # inferences and scores both filtered by project


def test_scores_by_prompt_version(con: Any, rows: Any) -> None:
    window = {"start": START, "end": END + timedelta(hours=1)}
    df = oi.scores(con, by="prompt_version", **window)
    assert list(df.columns[:3]) == ["name", "prompt_name", "prompt_version"]
    got = {(r["name"], r["prompt_version"]): (r["count"], r["mean"]) for _, r in df.iterrows()}
    assert got == {
        ("helpfulness", "3"): (2, pytest.approx(0.8)),
        ("thumbs_up", "2"): (2, pytest.approx(0.5)),
    }
    by_name = oi.scores(con, by="prompt_name", name="thumbs_up", **window)
    assert list(zip(by_name.prompt_name, by_name["count"], strict=True)) == [("support-answer", 2)]
    with pytest.raises(ConfigError, match="prompt_version"):
        oi.scores(con, by="prompt_hash", **window)


def test_the_synthetic_history_tells_a_rollout(seeded: Any, warehouse: Any) -> None:
    from ollive.store._ibis import Connection

    con = Connection.from_warehouse(warehouse, project=seeded.project)
    rollout = next(r for r in seeded.rollouts if (r.prompt, r.version) == ("support-answer", "3"))
    df = oi.prompts(con, start=seeded.start, end=seeded.end, name="support-answer")
    got = _by_version(df)
    assert list(df.prompt_version) == ["1", "2", "3"]
    v3_first = got["support-answer", "3"].first_seen
    assert rollout.start <= v3_first.to_pydatetime() < rollout.start + timedelta(hours=2)
    assert (
        got["support-answer", "3"]["score.helpfulness"]
        > got["support-answer", "2"]["score.helpfulness"]
    )
    # summarize v2 went out with the cost_jump: 4x the prompt tokens (the completions as before)
    summarize = _by_version(oi.prompts(con, start=seeded.start, end=seeded.end, name="summarize"))
    assert (
        summarize["summarize", "2"].mean_cost_usd > 1.8 * summarize["summarize", "1"].mean_cost_usd
    )
    review = _by_version(oi.prompts(con, start=seeded.start, end=seeded.end, name="code-review"))
    assert review["code-review", "2"].templates == 2  # edited without a version bump
