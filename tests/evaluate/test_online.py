"""Online evaluation: rules behind a watermark, each sampled event scored exactly once.

The core (:class:`OnlineEvaluator`) runs on the session's chDB warehouse with rows written as
ingest writes them; the last test runs the Ray actor the platform runs, kills it while
events keep arriving, and checks nothing was missed or scored twice after its restart.
"""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from ollive.errors import ConfigError
from ollive.evaluate import DEMO_EVALUATIONS
from ollive.evaluate.evaluators import not_refused
from ollive.evaluate.online import OnlineEvaluator, OnlineRule, load_rules, parse_rules
from ollive.store.tables import RAW_TABLES


def _inferences(project: str, n: int, *, ingested: datetime, service: str = "bot") -> pa.Table:
    """``n`` inference rows as ingest writes them (ingested_at set at conversion)."""
    schema = RAW_TABLES["inference_logs"]
    rows = []
    for i in range(n):
        started = ingested - timedelta(seconds=2)
        rows.append(
            {f.name: None for f in schema}
            | {
                "project": project,
                "request_id": str(uuid.uuid4()),
                "trace_id": uuid.uuid4().hex,
                "span_id": uuid.uuid4().hex[:16],
                "parent_span_id": "",
                "conversation_id": f"c-{i % 7}",
                "session_id": "",
                "user_id": f"u-{i % 3}",
                "service": service,
                "provider": "openai",
                "model": "gpt-4o-mini",
                "started_at": started,
                "finished_at": started + timedelta(seconds=1),
                "latency_ms": 1000.0,
                "stream": False,
                "prompt_tokens": 10,
                "completion_tokens": 5,
                "total_tokens": 15,
                "cached_prompt_tokens": 0,
                "cost_usd": 0.001,
                "status": "ok",
                "finish_reason": "stop",
                "tool_calls_count": 0,
                "tool_calls_summary": "",
                "error_code": "",
                "error_message": "",
                "input_preview": f"question {i}",
                "output_preview": "I'm sorry, but I cannot help with that."
                if i % 4 == 0
                else f"Here is the answer to {i}.",
                "metadata": "{}",
                "redactions": [],
                "schema_version": "1.0",
                "ingested_at": ingested,
            }
        )
    return pa.Table.from_pylist(rows, schema=schema)


def _scores(warehouse: Any, project: str, rule: str) -> dict[str, int]:
    """target request id -> how many score rows (FINAL: as every reader sees them)."""
    df = warehouse.query_df(
        "SELECT toString(target_request_id) AS t, count() AS n FROM scores FINAL "
        f"WHERE project = '{project}' AND session_id = 'online:{rule}' GROUP BY t"
    )
    return dict(zip(df["t"], df["n"], strict=True))


def _ids(table: pa.Table) -> set[str]:
    return set(table.column("request_id").to_pylist())


def test_each_sampled_event_is_scored_once_and_the_watermark_moves(
    warehouse: Any, project: str
) -> None:
    rule = OnlineRule(
        f"refusals-{project}", not_refused(), sample_rate=1.0,
        where={"project": project, "service": "bot"}, start="1h",
    )  # fmt: skip
    evaluator = OnlineEvaluator(warehouse, [rule], settle_s=0.0, batch_size=40)
    now = datetime.now(UTC)
    first = _inferences(project, 100, ingested=now - timedelta(minutes=5))
    other = _inferences(project, 10, ingested=now - timedelta(minutes=5), service="other")
    warehouse.insert_arrow("inference_logs", first)
    warehouse.insert_arrow("inference_logs", other)
    reports = [evaluator.step()[0] for _ in range(4)]
    assert [r.scored for r in reports] == [40, 40, 20, 0]
    scored = _scores(warehouse, project, rule.name)
    assert set(scored) == _ids(first) and set(scored.values()) == {1}
    # a refusal scores 0: a quarter of the rows
    values = warehouse.query_df(
        f"SELECT value FROM scores FINAL WHERE project = '{project}' AND session_id = "
        f"'online:{rule.name}'"
    )["value"]
    assert (values == 0).sum() == 25
    # new rows after the watermark are scored on the next step, the old ones not again
    second = _inferences(project, 15, ingested=datetime.now(UTC))
    warehouse.insert_arrow("inference_logs", second)
    assert (
        evaluator.run_until_idle() and sum(_scores(warehouse, project, rule.name).values()) == 115
    )


def test_a_restart_between_scores_and_watermark_scores_nothing_twice(
    warehouse: Any, project: str
) -> None:
    rule = OnlineRule(f"r-{project}", not_refused(), where={"project": project}, start="1h")
    rows = _inferences(project, 30, ingested=datetime.now(UTC) - timedelta(minutes=1))
    warehouse.insert_arrow("inference_logs", rows)
    evaluator = OnlineEvaluator(warehouse, [rule], settle_s=0.0, batch_size=10)
    # "crash" after writing the scores, before saving the watermark: drop the saved state
    original_save = evaluator._save
    evaluator._save = lambda *a: None  # type: ignore[method-assign]
    evaluator.step()
    evaluator._save = original_save  # type: ignore[method-assign]
    assert sum(_scores(warehouse, project, rule.name).values()) == 10
    restarted = OnlineEvaluator(warehouse, [rule], settle_s=0.0, batch_size=10)
    restarted.run_until_idle()
    scored = _scores(warehouse, project, rule.name)
    assert set(scored) == _ids(rows) and set(scored.values()) == {1}


def test_sampling_is_by_request_id_and_stable(warehouse: Any, project: str) -> None:
    rule = OnlineRule(
        f"s-{project}", not_refused(), sample_rate=0.3, where={"project": project}, start="1h"
    )
    rows = _inferences(project, 400, ingested=datetime.now(UTC) - timedelta(minutes=1))
    warehouse.insert_arrow("inference_logs", rows)
    OnlineEvaluator(warehouse, [rule], settle_s=0.0, batch_size=500).run_until_idle()
    first = set(_scores(warehouse, project, rule.name))
    assert 80 <= len(first) <= 160  # 30% of 400, by hash
    again = OnlineRule(f"s2-{project}", not_refused(), sample_rate=0.3,
                       where={"project": project}, start="1h")  # fmt: skip
    OnlineEvaluator(warehouse, [again], settle_s=0.0).run_until_idle()
    assert set(_scores(warehouse, project, again.name)) == first  # the same events


def test_a_row_written_late_behind_the_watermark_is_still_scored(
    warehouse: Any, project: str
) -> None:
    rule = OnlineRule(f"l-{project}", not_refused(), where={"project": project}, start="1h")
    evaluator = OnlineEvaluator(warehouse, [rule], settle_s=0.0, late_s=600)
    now = datetime.now(UTC)
    warehouse.insert_arrow("inference_logs", _inferences(project, 5, ingested=now))
    evaluator.run_until_idle()
    # converted two minutes ago, inserted only now (a write-ahead-log replay after an outage)
    late = _inferences(project, 3, ingested=now - timedelta(minutes=2))
    warehouse.insert_arrow("inference_logs", late)
    evaluator.run_until_idle()
    scored = _scores(warehouse, project, rule.name)
    assert _ids(late) <= set(scored) and len(scored) == 8


def test_the_backlog_is_bounded_and_what_is_skipped_is_counted(
    warehouse: Any, project: str
) -> None:
    rule = OnlineRule(f"b-{project}", not_refused(), where={"project": project}, start="1h")
    base = datetime.now(UTC) - timedelta(minutes=10)
    for k in range(12):  # 12 conversions of 25 rows, a second apart (a skip ends on one)
        warehouse.insert_arrow(
            "inference_logs", _inferences(project, 25, ingested=base + timedelta(seconds=k))
        )
    evaluator = OnlineEvaluator(warehouse, [rule], settle_s=0.0, batch_size=50, max_backlog=100)
    report = evaluator.step()[0]
    assert report.skipped == 200 and report.scored == 50 and report.backlog == 50
    evaluator.run_until_idle()
    state = warehouse.query_df(f"SELECT * FROM evaluation_state FINAL WHERE rule = '{rule.name}'")
    assert int(state.skipped.iloc[0]) == 200 and int(state.scored.iloc[0]) == 100
    assert int(state.backlog.iloc[0]) == 0
    assert len(_scores(warehouse, project, rule.name)) == 100


def test_an_evaluator_that_fails_is_counted_retried_then_given_up(
    warehouse: Any, project: str
) -> None:
    calls: list[str] = []

    def flaky(item: dict[str, Any], output: Any) -> float:
        calls.append(item["item_id"])
        raise RuntimeError("judge unavailable")

    rule = OnlineRule(f"f-{project}", flaky, where={"project": project}, start="1h")
    warehouse.insert_arrow(
        "inference_logs", _inferences(project, 2, ingested=datetime.now(UTC) - timedelta(minutes=1))
    )
    evaluator = OnlineEvaluator(warehouse, [rule], settle_s=0.0)
    for _ in range(5):
        evaluator.step()
    assert len(calls) == 6  # 3 tries of each of the 2 events, then left alone
    state = warehouse.query_df(f"SELECT * FROM evaluation_state FINAL WHERE rule = '{rule.name}'")
    assert int(state.errors.iloc[0]) == 6 and _scores(warehouse, project, rule.name) == {}


def test_rules_files_are_checked_with_messages_that_say_what_to_fix(tmp_path: Path) -> None:
    rules = load_rules(DEMO_EVALUATIONS, models={"demo": object()})
    assert [r.name for r in rules] == ["no-refusals", "helpfulness"]
    with pytest.raises(ConfigError, match="no built-in evaluator 'nope'"):
        parse_rules({"rule": [{"name": "x", "evaluator": "nope"}]})
    with pytest.raises(ConfigError, match="cannot filter on"):
        parse_rules({"rule": [{"name": "x", "evaluator": "not_refused", "where": {"bad": 1}}]})
    with pytest.raises(ConfigError, match="sample_rate"):
        parse_rules({"rule": [{"name": "x", "evaluator": "not_refused", "sample_rate": 0}]})
    with pytest.raises(ConfigError, match="judge model 'gpt' is not known"):
        parse_rules({"rule": [{"name": "x", "evaluator": "llm_judge",
                               "args": {"rubric": "r", "model": "gpt"}}]})  # fmt: skip
    with pytest.raises(ConfigError, match="names repeat"):
        parse_rules({"rule": [{"name": "x", "evaluator": "not_refused"}] * 2})
    bad = tmp_path / "evaluations.toml"
    bad.write_text("[[rule]\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_rules(bad)


@pytest.mark.slow
def test_the_evaluator_actor_killed_mid_stream_misses_nothing_and_scores_nothing_twice(
    ray_session: Any, tmp_path: Path
) -> None:
    """The platform's actor on a warehouse actor of its own; events keep arriving while it
    is killed (Ray restarts it); afterwards every event is scored exactly once."""
    from ollive.store import open_warehouse
    from serve.evaluator import OnlineEvaluatorActor
    from serve.warehouse import ensure_warehouse_actor

    ensure_warehouse_actor(f"chdb://{tmp_path / 'warehouse'}")
    warehouse = open_warehouse("ray://warehouse", migrate=False)
    project = f"kill-{uuid.uuid4().hex[:8]}"
    rules = tmp_path / "evaluations.toml"
    rules.write_text(
        f'[[rule]]\nname = "kill-{project}"\nevaluator = "not_refused"\n'
        f'where = {{ project = "{project}" }}\nstart = "1h"\n'
    )
    actor = OnlineEvaluatorActor.options(name=f"ev-{project}").remote(  # type: ignore[attr-defined]
        "ray://warehouse", str(rules), 0.2, {"settle_s": 0.5, "batch_size": 50}
    )
    ray_session.get(actor.ready.remote(), timeout=120)
    sent: set[str] = set()
    stop = threading.Event()

    def produce() -> None:
        while not stop.is_set():
            table = _inferences(project, 20, ingested=datetime.now(UTC))
            warehouse.insert_arrow("inference_logs", table)
            sent.update(_ids(table))
            time.sleep(0.1)

    producer = threading.Thread(target=produce, daemon=True)
    producer.start()
    try:
        time.sleep(4)
        ray_session.kill(actor, no_restart=False)  # Ray restarts it; its loop resumes
        time.sleep(4)
    finally:
        stop.set()
        producer.join()
    rule = f"kill-{project}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and set(_scores(warehouse, project, rule)) != sent:
        time.sleep(1)
    scored = _scores(warehouse, project, rule)
    ray_session.kill(actor, no_restart=True)
    assert len(sent) >= 400
    assert set(scored) == sent, f"missed {len(sent - set(scored))}"
    assert set(scored.values()) == {1}


def test_a_rule_starting_now_scores_what_arrives_after_it_began(
    warehouse: Any, project: str
) -> None:
    """The default start ("now") with a settle time: the first step records the start, the
    traffic after it is scored, the traffic before it is not."""
    clock = [time.time()]
    rule = OnlineRule(f"now-{project}", not_refused(), where={"project": project})
    evaluator = OnlineEvaluator(warehouse, [rule], settle_s=5.0, clock=lambda: clock[0])
    before = _inferences(project, 3, ingested=datetime.now(UTC) - timedelta(seconds=30))
    warehouse.insert_arrow("inference_logs", before)
    assert evaluator.step()[0].scored == 0
    after = _inferences(project, 4, ingested=datetime.fromtimestamp(clock[0] + 1, UTC))
    warehouse.insert_arrow("inference_logs", after)
    clock[0] += 10  # past the settle time
    assert evaluator.step()[0].scored == 4
    assert set(_scores(warehouse, project, rule.name)) == _ids(after)
