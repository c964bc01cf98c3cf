"""Datasets from an Ibis filter or a DataFrame, and experiments on the session's Ray cluster:
scores written as score events, retries, resume without double scoring, compare, tracing."""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest

import ollive
from ollive.errors import ConfigError, DatasetError, ExperimentError
from ollive.evaluate import datasets, experiments
from ollive.evaluate.evaluators import exact_match, not_refused
from ollive.store import RAW_TABLES
from ollive.store._ibis import Connection
from tests.chat.conftest import EventSink, wait_until
from tests.insights.conftest import _row  # the insight tests' row defaults

# The tasks below live in this test module, which Ray's workers cannot import by name (a
# notebook's functions live in __main__ and travel by value anyway): ship them by value.
ray_cloudpickle = pytest.importorskip("ray.cloudpickle")
ray_cloudpickle.register_pickle_by_value(sys.modules[__name__])


@pytest.fixture
def con(warehouse: Any, project: str) -> Connection:
    return Connection.from_warehouse(warehouse, project=project)


def _qa(n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "input": [f"what is {i} + {i}?" for i in range(n)],
            "expected": [str(2 * i) for i in range(n)],
            "topic": ["arithmetic"] * n,
        }
    )


def _inferences(warehouse: Any, project: str) -> None:
    now = datetime.now(UTC) - timedelta(hours=1)
    rows = [
        _row(
            RAW_TABLES["inference_logs"],
            {
                "project": project,
                "request_id": f"00000000-0000-4000-8000-{i:012d}",
                "trace_id": f"{i:032x}",
                "started_at": now,
                "finished_at": now,
                "model": "gpt-4o-mini",
                "service": "support",
                "status": "error" if i % 3 == 0 else "ok",
                "input_preview": f"question {i}",
                "output_preview": f"answer {i}",
            },
        )
        for i in range(12)
    ]
    table = pa.Table.from_pylist(rows, schema=RAW_TABLES["inference_logs"])
    warehouse.insert_arrow("inference_logs", table)


# --- datasets ------------------------------------------------------------------------------
def test_a_dataset_from_an_ibis_filter_is_a_versioned_immutable_snapshot(
    con: Connection, warehouse: Any, project: str
) -> None:
    _inferences(warehouse, project)
    t = con.table("inference_logs")
    failed = t.filter(t.project == project, t.status == "error")
    ds = datasets.create(con, "failed", failed, description="the failed calls")
    assert (ds.version, len(ds)) == (1, 4)
    items = ds.to_pandas()
    assert sorted(items["input"]) == ["question 0", "question 3", "question 6", "question 9"]
    assert items["expected_output"].isna().all()  # production rows have no expected answer
    assert set(items["source_request_id"]) == set(items["item_id"])  # the request ids
    assert items["metadata"].iloc[0]["model"] == "gpt-4o-mini"
    assert "input_preview" not in items["metadata"].iloc[0]
    # more rows come in: add only what is new, as version 2; version 1 reads as it was
    every = t.filter(t.project == project)
    ds2 = datasets.add(con, "failed", every, expected_output="output_preview")
    assert (ds2.version, len(ds2)) == (2, 12)
    assert len(datasets.get(con, "failed", version=1).to_pandas()) == 4
    assert len(datasets.get(con, "failed").to_pandas()) == 12
    assert datasets.add(con, "failed", every).version == 2  # nothing new: no version
    listed = datasets.list(con)
    assert listed[["name", "version", "items"]].values.tolist() == [["failed", 2, 12]]


def test_a_dataset_from_a_dataframe_and_its_errors(con: Connection, tmp_path: Path) -> None:
    ds = datasets.create(con, "qa", _qa(5))
    first = ds.items()[0]
    assert set(first) == {"item_id", "input", "expected_output", "metadata",
                          "source_request_id", "source_trace_id"}  # fmt: skip
    assert first["metadata"] == {"topic": "arithmetic"}
    # the same rows again have the same ids (a content hash): nothing is added
    assert datasets.add(con, "qa", _qa(5)).version == 1
    assert datasets.add(con, "qa", _qa(7)).items_total == 7
    with pytest.raises(DatasetError, match="exists"):
        datasets.create(con, "qa", _qa(2))
    assert datasets.create(con, "qa", _qa(2), exist_ok=True).version == 2
    with pytest.raises(DatasetError, match=r"no dataset 'nope'.*datasets: \['qa'\]"):
        datasets.get(con, "nope")
    with pytest.raises(DatasetError, match="versions \\[1, 2\\], not 9"):
        datasets.get(con, "qa", version=9)
    with pytest.raises(ConfigError, match="none of the input columns"):
        datasets.create(con, "bad", pd.DataFrame({"x": [1]}))
    with pytest.raises(DatasetError, match="more than 3 rows"):
        datasets.create(con, "big", _qa(5), limit=3)
    out = tmp_path / "qa.jsonl"
    assert datasets.export(con, "qa", str(out)) == 7
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert lines[0]["input"].startswith("what is") and "expected_output" in lines[0]


# --- experiments ---------------------------------------------------------------------------
def _answer(item: dict[str, Any]) -> str:
    a = int(item["input"].split()[2])
    return str(a + a)


def _off_by_one(item: dict[str, Any]) -> str:
    a = int(item["input"].split()[2])
    return str(a + a + (1 if a % 2 else 0))


def _slow_enough(item: dict[str, Any], output: Any, latency_ms: float) -> bool:
    return latency_ms < 60_000


def _scores_of(warehouse: Any, run_id: str) -> pd.DataFrame:
    return warehouse.query_df(
        "SELECT toString(target_request_id) AS target, name, value, conversation_id "
        f"FROM scores FINAL WHERE session_id = '{run_id}'"
    )


def test_an_experiment_scores_every_item_on_ray(
    ray_session: Any, con: Connection, warehouse: Any
) -> None:
    ds = datasets.create(con, "qa", _qa(20))
    run = experiments.run(
        ds, _answer, [exact_match(), _slow_enough], name="v1", concurrency=2, progress=False
    )
    assert (run.status, run.items, run.succeeded, run.failed) == ("finished", 20, 20, 0)
    results = run.to_pandas()
    assert len(results) == 20 and (results["score.exact_match"] == 1.0).all()
    assert (results["score._slow_enough"] == 1.0).all()
    scores = _scores_of(warehouse, run.run_id)
    assert len(scores) == 40  # two evaluators x 20 items, as score events
    assert set(scores["target"]) == set(results["request_id"])
    summary = run.summary().set_index("score")
    assert summary.loc["exact_match", "mean"] == 1.0 and summary.loc["exact_match", "n"] == 20
    runs = experiments.list_runs(con)
    assert runs.loc[0, "name"] == "v1" and runs.loc[0, "score.exact_match"] == 1.0


def test_compare_gives_per_item_deltas_and_bootstrap_intervals(
    ray_session: Any, con: Connection
) -> None:
    ds = datasets.create(con, "qa", _qa(30))
    a = experiments.run(ds, _answer, [exact_match()], name="good", progress=False)
    b = experiments.run(ds, _off_by_one, [exact_match()], name="worse", progress=False)
    cmp = experiments.compare(a, b)
    agg = cmp[cmp.level == "aggregate"].set_index("score")
    row = agg.loc["exact_match"]
    assert (row.a, row.b, row.delta, row.n) == (1.0, 0.5, -0.5, 30)
    assert row.ci_low <= -0.5 <= row.ci_high and row.ci_high < 0  # clearly worse
    assert (row.improved, row.regressed) == (0, 15)
    items = cmp[(cmp.level == "item") & (cmp.score == "exact_match")]
    assert len(items) == 30 and set(items["delta"]) == {0.0, -1.0}
    assert "latency_ms" in set(agg.index)
    again = experiments.compare("good", "worse", con=con)  # by name; the same seed
    pd.testing.assert_frame_equal(again, cmp)


def _flaky_once(item: dict[str, Any]) -> str:
    """Fails the first two calls for item 3 (the retries absorb it); kills its worker process
    the first time it sees item 5 (Ray retries the chunk)."""
    marker = Path(os.environ["OLLIVE_HOME"]) / f"flaky-{item['item_id']}"
    count = int(marker.read_text()) if marker.exists() else 0
    marker.write_text(str(count + 1))
    n = int(item["input"].split()[2])
    if n == 3 and count < 2:
        raise TimeoutError("the model timed out")
    if n == 5 and count == 0:
        os._exit(1)
    return _answer(item)


def test_task_retries_and_a_dead_worker_are_absorbed(ray_session: Any, con: Connection) -> None:
    ds = datasets.create(con, f"flaky-{con.project}", _qa(8))
    run = experiments.run(
        ds, _flaky_once, [exact_match()], name="flaky", retries=2, retry_backoff_s=0.01,
        chunk_size=2, progress=False,
    )  # fmt: skip
    assert (run.succeeded, run.failed) == (8, 0)
    results = run.to_pandas().set_index("item_id")
    attempts = dict(zip(run.to_pandas()["input"], run.to_pandas()["attempts"], strict=True))
    assert attempts["what is 3 + 3?"] == 3 and (results["score.exact_match"] == 1.0).all()


def _fails_on_even(item: dict[str, Any]) -> str:
    calls = Path(os.environ["OLLIVE_HOME"]) / "resume-calls.txt"
    with calls.open("a") as out:
        out.write(item["item_id"] + "\n")
    if int(item["input"].split()[2]) % 2 == 0 and not (calls.parent / "resume-fixed").exists():
        raise ValueError("even numbers are broken today")
    return _answer(item)


def test_running_a_partial_run_again_resumes_without_scoring_twice(
    ray_session: Any, con: Connection, warehouse: Any, ollive_home: Path
) -> None:
    calls = ollive_home / "resume-calls.txt"
    calls.unlink(missing_ok=True)
    (ollive_home / "resume-fixed").unlink(missing_ok=True)
    ds = datasets.create(con, "resume", _qa(10))
    first = experiments.run(ds, _fails_on_even, [exact_match()], name="r", retries=0,
                            progress=False)  # fmt: skip
    assert (first.status, first.succeeded, first.failed) == ("partial", 5, 5)
    failed = set(first.to_pandas().query("error != ''")["item_id"])
    assert len(failed) == 5
    (ollive_home / "resume-fixed").touch()
    calls.unlink()
    second = experiments.run(ds, _fails_on_even, [exact_match()], name="r", progress=False)
    assert (second.status, second.succeeded, second.failed) == ("finished", 10, 0)
    assert set(calls.read_text().split()) == failed  # only the failed items ran again
    scores = _scores_of(warehouse, second.run_id)
    assert len(scores) == 10 and scores.groupby("target").size().max() == 1
    assert second.run_id == first.run_id
    # the same name on a newer version of the dataset is refused with what to do
    ds2 = datasets.add(con, "resume", _qa(12))
    with pytest.raises(ExperimentError, match="pick another name"):
        experiments.run(ds2, _answer, name="r", progress=False)


def test_every_task_call_is_traced_under_the_run(ray_session: Any, con: Connection) -> None:
    sink = EventSink()
    try:
        ds = datasets.create(con, "traced", _qa(4))

        def task(item: dict[str, Any]) -> str:
            with ollive.inference(provider="openai", model="gpt-4o-mini") as span:
                span.set_input(item["input"])
                span.set_output(_answer(item))
            return _answer(item)

        run = experiments.run(
            ds, task, [not_refused()], name="traced", progress=False,
            tracing={"endpoint": sink.endpoint, "api_key": "test", "service": "exp"},
        )  # fmt: skip
        results = run.to_pandas()
        spans = wait_until(lambda: len(sink.of_type("tool_execution")) >= 4 and
                           len(sink.of_type("inference")) >= 4, timeout_s=30)  # fmt: skip
        assert spans, "the workers' spans did not arrive"
        tools = sink.of_type("tool_execution")
        assert {t["tool_name"] for t in tools} == {"experiment:traced"}
        assert {t["session_id"] for t in tools} == {run.run_id}
        assert {t["request_id"] for t in tools} == set(results["request_id"])
        inferences = sink.of_type("inference")
        assert {i["trace_id"] for i in inferences} == set(results["trace_id"])
        assert {i["conversation_id"] for i in inferences} == {
            f"{run.run_id}/{item_id}" for item_id in results["item_id"]
        }
    finally:
        sink.close()


def test_run_checks_its_arguments(con: Connection) -> None:
    ds = datasets.create(con, "args", _qa(2))
    with pytest.raises(ConfigError, match="takes a dataset"):
        experiments.run("args", _answer)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="task must be a function"):
        experiments.run(ds, "not a function")  # type: ignore[arg-type]
    with pytest.raises(ExperimentError, match="no experiment run"):
        experiments.get(con, "never-ran")


def test_the_datasets_and_experiments_commands(
    ray_session: Any, con: Connection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from ollive.cli import app
    from ollive.cli import evaluate as commands

    # chDB holds one directory per process: the commands use the session's warehouse
    monkeypatch.setattr(commands, "_con", lambda warehouse, project: con)
    ds = datasets.create(con, "cli", _qa(6), description="for the CLI")
    experiments.run(ds, _answer, [exact_match()], name="cli-a", progress=False)
    experiments.run(ds, _off_by_one, [exact_match()], name="cli-b", progress=False)
    runner = CliRunner()
    listed = runner.invoke(app, ["datasets", "list", "--json"])
    assert listed.exit_code == 0 and json.loads(listed.output)[0]["name"] == "cli"
    shown = runner.invoke(app, ["datasets", "show", "cli", "--limit", "2"])
    assert shown.exit_code == 0 and "what is" in shown.output and "items_total" in shown.output
    missing = runner.invoke(app, ["datasets", "show", "nope"])
    assert missing.exit_code == 1 and "no dataset 'nope'" in missing.output
    out = tmp_path / "cli.csv"
    exported = runner.invoke(app, ["datasets", "export", "cli", str(out)])
    assert exported.exit_code == 0 and len(pd.read_csv(out)) == 6
    runs = runner.invoke(app, ["experiments", "list", "--json"])
    assert {r["name"] for r in json.loads(runs.output)} == {"cli-a", "cli-b"}
    summary = runner.invoke(app, ["experiments", "show", "cli-a"])
    assert summary.exit_code == 0 and "exact_match" in summary.output
    compared = runner.invoke(app, ["experiments", "compare", "cli-a", "cli-b", "--json"])
    rows = {r["score"]: r for r in json.loads(compared.output)}
    assert rows["exact_match"]["delta"] == pytest.approx(-0.5) and rows["exact_match"]["n"] == 6
