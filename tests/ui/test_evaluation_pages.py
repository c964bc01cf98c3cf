"""The evaluation views on hand-written rows: the Datasets & Experiments page (runs, one run's
results, two runs compared, URL state, the empty state), the Scores page split by source,
evaluator origin and prompt version, and the online evaluator's state on Data health."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import panel as pn
import pyarrow as pa
import pytest
from bokeh.document import Document

import ollive.insights as oi
import ollive.ui as ui
from ollive.store import RAW_TABLES
from ollive.store._ibis import Connection
from ollive.ui.pages.experiments import aggregate, item_changes
from tests.insights.conftest import _row
from tests.ui._evaluations import seed_evaluations


def _render(viewable: Any) -> Any:
    return pn.panel(viewable).get_root(Document())


def _alerts(viewable: Any, css: str) -> list[Any]:
    return [a for a in pn.panel(viewable).select(pn.pane.Alert) if css in a.css_classes]


@pytest.fixture
def con(warehouse: Any, project: str) -> Connection:
    return Connection.from_warehouse(warehouse, project=project)


@pytest.fixture
def seeded(warehouse: Any, project: str) -> dict[str, Any]:
    return seed_evaluations(warehouse, project)


# -- Datasets & Experiments ----------------------------------------------------------------


def test_experiments_lists_datasets_and_runs_and_shows_a_ticked_run(
    con: Connection, seeded: dict[str, Any]
) -> None:
    page = ui.Experiments(con)
    assert ui.PAGES[ui.PAGES.index(ui.Scores) + 1] is ui.Experiments
    assert page.title == "Datasets & Experiments" and page.route == "/experiments"
    assert page.datasets.rows == 1 and page.runs.rows == 2
    assert page.run_rows["name"].tolist() == ["candidate", "baseline"]  # newest first
    shown = page.runs_table.value
    assert shown["dataset"].tolist() == ["support-qa@v1"] * 2
    assert shown[["ok", "failed"]].values.tolist() == [[5, 1], [6, 0]]
    assert {"score.exact_match", "score.helpfulness", "latency_p50_ms", "cost_usd"} <= set(shown)
    _render(page)

    page.tick(0)  # a tick on the candidate
    assert (page.run, page.baseline) == (seeded["runs"]["candidate"], "")
    caption = [h.object for h in pn.panel(page.summary).select(pn.pane.HTML)
               if "ollive-caption" in h.css_classes][0]  # fmt: skip
    assert page.summary.rows == 4 and "<b>candidate</b>" in caption and "5 of 6 items ok" in caption
    results = page.results_table.value
    assert len(results) == 6 and {"input", "expected_output", "output", "error"} <= set(results)
    assert results["error"].str.contains("timed out").sum() == 1
    assert page.query == {"run": seeded["runs"]["candidate"]}
    page.select_item(0)  # results are in item id order
    assert page.item == page.result_rows["item_id"].iloc[0] and page.query["item"] == page.item
    _render(page)


def test_two_ticked_runs_are_compared(con: Connection, seeded: dict[str, Any]) -> None:
    runs = seeded["runs"]
    page = ui.Experiments(con)
    page.tick(0, 1)  # the older is the baseline (a), the newer the run (b)
    assert (page.baseline, page.run) == (runs["baseline"], runs["candidate"])
    rows = page.compared
    assert page.comparison.rows == len(rows) > 0 and page.deltas.rows == 2  # the two scores
    agg = aggregate(rows).set_index("score")
    assert agg.loc["helpfulness", "change"] == "better"  # every item better: CI above 0
    assert (agg.loc["helpfulness", "improved"], agg.loc["helpfulness", "regressed"]) == (5, 0)
    assert agg.loc["exact_match", "change"] == "no clear change"
    assert agg.loc["exact_match", ["improved", "regressed"]].tolist() == [1, 1]
    assert page.changed.rows == len(rows[rows["level"] == "item"])
    page.changes = "regressions"
    assert page.changed.rows == 1  # exact_match on ZX-1: 1 -> 0
    regressions = item_changes(rows, page.result_rows, "regressions")
    assert regressions[["score", "a", "b"]].values.tolist() == [["exact_match", 1.0, 0.0]]
    assert regressions["input"].tolist() == ["Where is parcel ZX-1?"]
    assert _render(page) is not None and not _alerts(page, "ollive-error")


def test_lower_latency_reads_as_an_improvement() -> None:
    compared = pd.DataFrame(
        {"level": ["aggregate", "item", "item"], "score": ["latency_ms"] * 3,
         "item_id": ["*", "i1", "i2"], "a": [200.0, 200.0, 200.0], "b": [100.0, 100.0, 300.0],
         "delta": [-100.0, -100.0, 100.0], "ci_low": [-150.0, None, None],
         "ci_high": [-50.0, None, None], "n": [2, 1, 1], "improved": [0, None, None],
         "regressed": [2, None, None]}
    )  # fmt: skip
    row = aggregate(compared).iloc[0]
    assert (row["change"], row["improved"], row["regressed"]) == ("better", 2, 0)
    results = pd.DataFrame({"item_id": ["i1", "i2"], "input": [{"q": 1}, "two"]})
    worse = item_changes(compared, results, "regressions")
    assert worse[["item_id", "input"]].values.tolist() == [["i2", "two"]]
    assert item_changes(compared, results, "improvements")["input"].tolist() == ['{"q": 1}']


def test_a_comparison_url_opens_it_and_ticks_both_runs(
    con: Connection, seeded: dict[str, Any]
) -> None:
    from ollive.ui.app import PageApp

    runs = seeded["runs"]
    query = {"run": runs["candidate"], "baseline": runs["baseline"], "changes": "regressions",
             "dataset": "support-qa", "item": seeded["items"][0]}  # fmt: skip
    app = PageApp(ui.Experiments, con, query=query)
    page = app.page
    assert page.changed.rows == 1 and sorted(page.runs_table.selection) == [0, 1]
    assert app.query == query and f"run={runs['candidate']}" in app.search
    assert "_trace_id_url" in page.results_table.value  # served: the trace id links
    page.changes = "all"
    assert page.changed.rows > 1
    page.tick()  # nothing ticked: nothing compared, nothing shown
    assert (page.run, page.baseline, page.item) == ("", "", "")
    bad = ui.Experiments(con, query={"changes": "worst", "run": "exp-never"})
    assert bad.changes == "all" and _alerts(bad.summary, "ollive-hint")  # "No run exp-never."
    assert not _alerts(bad, "ollive-error")


def test_a_traced_item_opens_its_trace(warehouse: Any, project: str) -> None:
    now = datetime.now(UTC) - timedelta(minutes=20)
    trace_id = uuid.uuid4().hex
    span = _row(RAW_TABLES["tool_executions"], {
        "project": project, "trace_id": trace_id, "span_id": "s1", "started_at": now,
        "finished_at": now, "ingested_at": now, "tool_name": "experiment:candidate",
        "status": "ok", "service": "exp",
    })  # fmt: skip
    warehouse.insert_arrow(
        "tool_executions", pa.Table.from_pylist([span], schema=RAW_TABLES["tool_executions"])
    )
    seeded = seed_evaluations(warehouse, project, trace_id=trace_id)
    con = Connection.from_warehouse(warehouse, project=project)
    page = ui.Experiments(con, query={"run": seeded["runs"]["candidate"]})
    assert "_trace_id_url" not in page.results_table.value  # inline: no page to link to
    traced = page.result_rows["item_id"].tolist().index(seeded["items"][0])  # ZX-0's
    page.results_table.selection = [traced]  # a click on that item
    assert page.trace_view.trace_id == trace_id and len(page.trace_view.spans) == 1
    assert len(page.detail.select(pn.pane.Bokeh)) == 1  # its waterfall, under the item
    page.select_item((traced + 1) % 6)  # no trace
    assert not page.detail.select(pn.pane.Bokeh) and _alerts(page.detail, "ollive-hint")
    _render(page)


def test_no_dataset_shows_how_to_start(con: Connection) -> None:
    page = ui.Experiments(con)
    empty = _alerts(page, "ollive-empty")
    assert empty and "ollive.datasets.create" in empty[0].object
    assert "ollive.experiments.run" in empty[0].object
    assert page.datasets.rows == page.runs.rows == 0 and not _alerts(page, "ollive-error")
    _render(page)


# -- Scores ----------------------------------------------------------------------------------


def _prompted_inferences(warehouse: Any, project: str) -> None:
    """Three versions of a prompt, the answers of two scored by users (v2 better)."""
    now = datetime.now(UTC) - timedelta(hours=1)
    schema = RAW_TABLES["inference_logs"]
    rows, scores = [], []
    for i in range(7):
        version = "1" if i < 3 else "2" if i < 6 else "3"
        request = str(uuid.uuid4())
        rows.append(_row(schema, {
            "project": project, "request_id": request, "trace_id": f"{i:032x}",
            "started_at": now, "finished_at": now, "ingested_at": now, "model": "gpt-4o-mini",
            "provider": "openai", "service": "support-bot", "status": "error" if i == 0 else "ok",
            "latency_ms": 100.0 * (i + 1), "cost_usd": 0.01, "prompt_name": "support-answer",
            "prompt_version": version,
        }))  # fmt: skip
        if version == "3":
            continue  # not scored yet
        scores.append(_row(RAW_TABLES["scores"], {
            "project": project, "timestamp": now + timedelta(minutes=1), "ingested_at": now,
            "target_request_id": request, "name": "thumbs_up", "source": "user",
            "value": 1.0 if version == "2" else 0.0, "service": "support-bot",
        }))  # fmt: skip
    warehouse.insert_arrow("inference_logs", pa.Table.from_pylist(rows, schema=schema))
    warehouse.insert_arrow("scores", pa.Table.from_pylist(scores, schema=RAW_TABLES["scores"]))


def test_scores_split_by_source_and_origin_and_by_prompt_version(
    con: Connection, warehouse: Any, project: str, seeded: dict[str, Any]
) -> None:
    _prompted_inferences(warehouse, project)
    page = ui.Scores(con)
    summary = page.summary.rows
    split = oi.evaluations.scores_by_origin(con, page.filter_bar.filters)
    assert summary == len(split) == 5  # exact_match x1, helpfulness x3 origins, thumbs_up
    origins = split.groupby("origin")["count"].sum().to_dict()
    assert origins == {"experiments": 22, "online": 8, "app": 11}
    page.origin = "online"
    assert page.summary.rows == 1 and page.query == {"origin": "online"}
    page.param.update(origin="(any)", source="human")
    assert page.summary.rows == 1
    page.param.update(source="user", origin="app")
    assert page.summary.rows == 1 and page.trend.rows > 0  # thumbs_up
    prompts = pn.panel(page.by_prompt).select(pn.widgets.Tabulator)[0].value
    assert prompts["prompt"].tolist() == [f"support-answer@{v}" for v in (1, 2, 3)]
    assert prompts["score.thumbs_up"].tolist()[:2] == [0.0, 1.0]
    assert pd.isna(prompts["score.thumbs_up"].iloc[2])  # no score yet: no mean, not 0
    assert "score.exact_match" not in prompts  # scores no prompted inference was given
    assert prompts["requests"].tolist() == [3, 3, 1] and prompts["error_rate"].iloc[0] > 0
    assert {"latency_p95_ms", "cost_usd"} <= set(prompts)
    assert not _alerts(page, "ollive-error")
    _render(page)
    served = ui.Scores(con, query={"origin": "nowhere", "source": "model"})
    assert (served.origin, served.source) == ("(any)", "model")


# -- Data health -----------------------------------------------------------------------------


def test_data_health_shows_the_online_evaluation_state(
    con: Connection, seeded: dict[str, Any]
) -> None:
    from ollive.insights.health import EVALUATION_COLUMNS

    health = oi.data_health(con)
    assert tuple(health.evaluations.columns) == EVALUATION_COLUMNS
    rule = health.evaluations.set_index("rule").loc[seeded["rule"]]
    assert (rule["backlog"], rule["scored"], rule["skipped"], rule["errors"]) == (17, 8, 1, 2)
    assert rule["judge_calls"] == 10 and rule["judge_cost_usd"] == pytest.approx(0.0123)
    assert 200 < rule["lag_s"] < 3600  # the watermark is 4 minutes behind
    assert "<h4>Online evaluation</h4>" in health._repr_html_()

    page = ui.DataHealth(con)
    shown = pn.panel(page.evaluations).select(pn.widgets.Tabulator)[0]
    rows = shown.value.reset_index(drop=True)
    # the CSS rules only (every cell also has a "rowN_colM" id in the table body); the
    # session's other tests leave rules of their own, with and without a backlog
    styled = shown.style.to_html().split("</style>")[0]
    column = list(rows.columns).index("backlog")
    for i, backlog in enumerate(rows["backlog"]):  # a backlog stands out, none does not
        assert (f"row{i}_col{column}," in styled or f"row{i}_col{column} " in styled) == (
            backlog > 0
        ), (i, backlog)
    _render(page)


def test_data_health_without_online_evaluation_says_how_to_start(
    con: Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dataclasses

    from ollive.insights.health import DataHealth

    # the rules' state is one table for every project: other tests' rules may be in it
    real = oi.data_health
    monkeypatch.setattr(oi, "data_health", lambda *a, **kw: dataclasses.replace(
        real(*a, **kw), evaluations=DataHealth(*[pd.DataFrame()] * 4).evaluations))  # fmt: skip
    page = ui.DataHealth(con)
    assert page.health is not None and page.health.evaluations.empty
    assert page.evaluations.rows == 0 and not _alerts(page, "ollive-error")
    hints = [a for a in _alerts(page, "ollive-hint") if "OLLIVE_EVALUATIONS_FILE" in a.object]
    assert hints and "docs/evaluate.md" in hints[0].object
