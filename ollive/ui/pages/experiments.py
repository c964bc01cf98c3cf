"""The datasets & experiments page: the datasets, the experiment runs, one run's results and
summary, and two runs of one dataset compared item by item."""

from __future__ import annotations

import html
import json
from typing import Any

import holoviews as hv
import hvplot.pandas  # noqa: F401  (registers .hvplot on DataFrames)
import pandas as pd
import panel as pn
import param

from ollive.insights import evaluations as ev
from ollive.ui._frames import Section, hint, rounded, shorten, table
from ollive.ui.pages._page import Page
from ollive.ui.trace_view import TraceView

__all__ = ["Experiments"]

NO_DATASET = """No dataset yet. Make one from production rows (or a DataFrame) and run an
experiment on it, in a notebook or a script:

```python
ds = ollive.datasets.create(con, "failed-last-week", failed)  # an Ibis filter or a DataFrame
run = ollive.experiments.run(ds, answer, [ollive.evaluators.not_refused()], name="prompt-v4")
```"""
NO_RUN = ('No experiment run yet: `ollive.experiments.run(ds, task, evaluators, name="v1")` '
          "maps a task over a dataset and scores every output.")  # fmt: skip
PICK_RUN = "Tick a run to see its results; tick two runs of one dataset to compare them."
PICK_SECOND = "Tick a second run of the same dataset to compare the two."
ALL_DATASETS = "(all datasets)"
#: lower is better for these (the pseudo-scores compare_runs adds)
LOWER_IS_BETTER = ("latency_ms", "cost_usd")
_TEXT = ("input", "expected_output", "output", "error")
_CHART = {"height": 300, "responsive": True}
_DETAIL_CSS = """
h4 { margin: 0 0 6px 0; } h5 { margin: 10px 0 4px 0; }
pre { white-space: pre-wrap; word-break: break-word; max-height: 240px; overflow: auto;
      background: #f6f8fa; padding: 6px; border-radius: 4px; }
"""


class Experiments(Page):
    """``Experiments(con)``: the datasets; the experiment runs (of ``dataset``, or all),
    newest first, with their mean per score; the ``run`` ticked: its summary (mean and 95%
    confidence interval per score) and its results, one row per item (the ``item`` selected
    in detail, with its trace); two runs ticked (``baseline`` the older, ``run`` the newer):
    :func:`~ollive.insights.evaluations.compare_runs`, the mean delta per score with its
    interval (table and chart) and the items that changed (``changes``: all, regressions or
    improvements). Datasets and runs are listed whatever the window.

    ``Experiments(con, query={"run": "exp-...", "baseline": "exp-..."})`` as the served
    ``/experiments?run=exp-...&baseline=exp-...``.
    """

    title = "Datasets & Experiments"
    route = "/experiments"
    url_params = {"dataset": "dataset", "run": "run", "baseline": "baseline", "item": "item",
                  "changes": "changes"}  # fmt: skip

    dataset = param.String(default="", doc="List only this dataset's runs ('' for all).")
    run = param.String(default="", doc="The run shown (its id, '' for none).")
    baseline = param.String(default="", doc="The run ``run`` is compared with ('' for none).")
    item = param.String(default="", doc="The item of ``run`` shown in detail.")
    changes: param.Selector = param.Selector(
        default="all", objects=["all", "regressions", "improvements"],
        doc="Which compared items to list.",
    )  # fmt: skip

    def _build(self) -> None:
        self.datasets = Section("Datasets", css="ollive-datasets")
        self.runs = Section("Experiment runs", css="ollive-runs")
        self.comparison = Section("Comparison: delta = b − a, 95% CI", css="ollive-comparison")
        self.deltas = Section("Score deltas", css="ollive-comparison-chart")
        self.changed = Section("Items compared", css="ollive-comparison-items")
        self.summary = Section("Run", css="ollive-run-summary")
        self.results = Section("Results (select an item for its detail)",
                               css="ollive-run-results")  # fmt: skip
        self.trace_view = TraceView(self.con, self.filter_bar, links=self.links)
        self._item = pn.pane.HTML(sizing_mode="stretch_width", stylesheets=[_DETAIL_CSS],
                                  css_classes=["ollive-item-detail"])  # fmt: skip
        #: the selected item's full texts and scores, and its trace when traced
        self.detail = pn.Column(sizing_mode="stretch_width")
        self._guide = hint(PICK_RUN)
        self._run_box = pn.Column(self.summary, self.results, self.detail, visible=False,
                                  sizing_mode="stretch_width")  # fmt: skip
        changes = pn.widgets.RadioButtonGroup.from_param(self.param.changes)
        self._compare_box = pn.Column(
            self.comparison,
            pn.Row(self.deltas, pn.Column(changes, self.changed, sizing_mode="stretch_width"),
                   sizing_mode="stretch_width"),
            visible=False, sizing_mode="stretch_width",
        )  # fmt: skip
        self._choice = pn.widgets.Select(label="Runs of", options=[ALL_DATASETS], width=240)
        self._choice.param.watch(self._on_choice, "value")
        #: what the page shows: the runs listed, the run's results, the comparison's rows
        self.run_rows = pd.DataFrame(columns=["run_id"])
        self.result_rows = pd.DataFrame(columns=list(ev.RESULT_COLUMNS))
        self.compared = pd.DataFrame()
        self.runs_table: pn.widgets.Tabulator | None = None
        self.results_table: pn.widgets.Tabulator | None = None

    def _refresh(self) -> None:
        self.load_datasets()
        self.load_runs()
        self.load_run()
        self.load_comparison()

    def _on_filters(self) -> None:
        """Datasets and runs are not in a time window: nothing to re-query."""

    def _on_state(self, *events: param.parameterized.Event) -> None:
        if not self._ready:
            return
        names = {e.name for e in events}
        if "dataset" in names:
            self.load_runs()
        if "run" in names:
            self.load_run()
        elif "item" in names:
            self.show_item()
        if names & {"run", "baseline"}:
            self.load_comparison()
        elif "changes" in names:
            self.load_changes()

    # -- datasets and runs ----------------------------------------------------------------

    def load_datasets(self) -> None:
        """Query and show the datasets (and offer them as the runs' filter)."""
        rows = self.datasets.load(lambda: ev.datasets(self.con), self._datasets_table,
                                  empty=NO_DATASET)  # fmt: skip
        names = [] if rows is None else rows["name"].astype(str).tolist()
        if self.dataset and self.dataset not in names:
            names.append(self.dataset)
        self._choice.options = [ALL_DATASETS, *names]
        self._choice.value = self.dataset or ALL_DATASETS

    def _datasets_table(self, df: pd.DataFrame) -> Any:
        shown = df[["name", "version", "items", "updated_at", "created_at", "description"]]
        return table(shorten(shown, ("description",)), css=("ollive-datasets-table",))

    def _on_choice(self, event: param.parameterized.Event) -> None:
        self.dataset = "" if event.new == ALL_DATASETS else str(event.new)

    def load_runs(self) -> None:
        """Query and show the runs (of ``dataset``), the ticked ones ticked."""
        empty = f"No run of dataset {self.dataset} yet." if self.dataset else NO_RUN
        rows = self.runs.load(lambda: ev.experiment_runs(self.con, self.dataset or None),
                              self._runs_table, empty=empty)  # fmt: skip
        self.run_rows = rows if rows is not None else self.run_rows.iloc[0:0]
        self._show_guide()

    def _show_guide(self) -> None:
        """What to tick next, under the runs (nothing once two runs are compared)."""
        self._guide.object = PICK_SECOND if self.run else PICK_RUN
        self._guide.visible = len(self.run_rows) > 0 and not (self.run and self.baseline)

    def _runs_table(self, df: pd.DataFrame) -> Any:
        scores = [c for c in df.columns if c.startswith("score.")]
        shown = df.assign(
            dataset=df["dataset"].astype(str) + "@v" + df["dataset_version"].astype(str),
            ok=df["succeeded"],
        )
        columns = ["name", "dataset", "status", "items", "ok", "failed", *scores,
                   *[c for c in ("latency_p50_ms", "cost_usd") if c in df.columns],
                   "started_at", "run_id"]  # fmt: skip
        self.runs_table = table(rounded(shown[columns], 4), page_size=15, selectable="checkbox",
                                css=("ollive-runs-table",))  # fmt: skip
        ids = df["run_id"].astype(str).tolist()
        self.runs_table.selection = [ids.index(r) for r in (self.baseline, self.run) if r in ids]
        self.runs_table.param.watch(self._on_tick, "selection")
        return self.runs_table

    def _on_tick(self, event: param.parameterized.Event) -> None:
        self.tick(*event.new)

    def tick(self, *rows: int) -> None:
        """Tick runs (rows of :attr:`run_rows`): one shows that run, two (or more: the
        newest two) compare the older (``baseline``) with the newer (``run``)."""
        chosen = self.run_rows.iloc[sorted(set(rows))].sort_values("started_at")
        ids = chosen["run_id"].astype(str).tolist()[-2:]
        run, baseline = (ids[-1] if ids else ""), (ids[0] if len(ids) == 2 else "")
        if (run, baseline) != (self.run, self.baseline):
            self.param.update(run=run, baseline=baseline, item="")
        if len(rows) > 2 and self.runs_table is not None:  # show the two compared
            every = self.run_rows["run_id"].astype(str).tolist()
            self.runs_table.selection = [every.index(r) for r in ids]

    def _run_info(self, run_id: str) -> pd.Series | None:
        """The runs' row of ``run_id`` (looked up among every run if not listed)."""
        for rows in (self.run_rows, None):
            rows = ev.experiment_runs(self.con) if rows is None else rows
            match = rows[rows["run_id"].astype(str) == run_id]
            if len(match):
                return match.iloc[0]
        return None

    # -- one run --------------------------------------------------------------------------

    def load_run(self) -> None:
        """Query and show ``run``: its summary and its results."""
        info = self._run_info(self.run) if self.run else None
        self._run_box.visible = self.run != ""
        self._show_guide()
        if info is None:
            self.summary.replace(*([hint(f"No run {self.run}.")] if self.run else []))
            self.results.replace()
            self.result_rows = self.result_rows.iloc[0:0]
            self.show_item()
            return
        label = (f"<b>{_e(info['name'])}</b> on {_e(info['dataset'])}@v{info['dataset_version']}: "
                 f"{_e(info['status'])}, {info['succeeded']} of {info['items']} items ok, "
                 f"{info['failed']} failed; mean and 95% CI per score")  # fmt: skip
        self.summary.load(lambda: ev.run_summary(self.con, self.run),
                          lambda df: pn.Column(_caption(label), table(
                              rounded(df, 4), css=("ollive-run-summary-table",))),
                          empty="No result of this run yet.")  # fmt: skip
        rows = self.results.load(lambda: ev.experiment_results(self.con, self.run),
                                 self._results_table, empty="No result of this run yet.")  # fmt: skip
        self.result_rows = rows if rows is not None else self.result_rows.iloc[0:0]
        self.show_item()

    def _results_table(self, df: pd.DataFrame) -> Any:
        scores = [c for c in df.columns if c.startswith("score.")]
        columns = ["item_id", *_TEXT, *scores, "latency_ms", "cost_usd", "attempts", "trace_id"]
        shown = shorten(_as_text(df[columns]), _TEXT, 80)
        self.results_table = table(rounded(shown, 4), page_size=15, remote=len(df) > 200,
                                   selectable=1, css=("ollive-results-table",),
                                   **self.link_to("trace_id"))  # fmt: skip
        self.results_table.param.watch(
            lambda e: self.select_item(e.new[0]) if e.new else None, "selection"
        )
        return self.results_table

    def select_item(self, index: int) -> None:
        """Show result row ``index`` in detail (its full texts, scores and trace)."""
        self.item = str(self.result_rows.iloc[index]["item_id"])

    def show_item(self) -> None:
        """Show ``item`` of the run's results in detail, with its trace when traced."""
        rows = self.result_rows[self.result_rows["item_id"].astype(str) == self.item]
        if not self.item or rows.empty:
            self.detail[:] = []
            return
        row = rows.iloc[0]
        self._item.object = _item_html(row)
        trace_id = "" if pd.isna(row["trace_id"]) else str(row["trace_id"])
        if not trace_id:
            self.detail[:] = [self._item, hint("This item's task call was not traced.")]
            return
        self.trace_view.open(trace_id, request_id=str(row["request_id"]))
        self.detail[:] = [self._item, self.trace_view]

    # -- two runs compared ----------------------------------------------------------------

    def load_comparison(self) -> None:
        """Compare ``baseline`` (a) with ``run`` (b): per score, then per item."""
        self.compared = pd.DataFrame()
        self._compare_box.visible = bool(self.run and self.baseline)
        self._show_guide()
        if not self._compare_box.visible:
            return
        a, b = self._run_info(self.baseline), self._run_info(self.run)
        if a is None or b is None or a["dataset"] != b["dataset"]:
            text = f"No run {self.baseline if a is None else self.run}."
            if a is not None and b is not None:
                text = f"{a['name']} and {b['name']} ran on different datasets. {PICK_SECOND}"
            for section in (self.comparison, self.deltas, self.changed):
                section.replace(hint(text))
            return
        label = f"a: <b>{_e(a['name'])}</b> (the baseline), b: <b>{_e(b['name'])}</b>"
        rows = self.comparison.load(lambda: ev.compare_runs(self.con, self.baseline, self.run),
                                    lambda df: pn.Column(_caption(label), table(
                                        rounded(aggregate(df), 4),
                                        css=("ollive-comparison-table",))),
                                    empty="The two runs have no item in common.")  # fmt: skip
        self.compared = rows if rows is not None else self.compared
        scored = aggregate(self.compared) if len(self.compared) else pd.DataFrame()
        scored = scored[~scored["score"].isin(LOWER_IS_BETTER)] if len(scored) else scored
        self.deltas.load(lambda: scored, self._chart,
                         empty=hint("No evaluator score in common to chart."))  # fmt: skip
        self.load_changes()

    def load_changes(self) -> None:
        """List the compared items (only the regressions or improvements, per ``changes``)."""
        if self.compared.empty:
            return
        self.changed.load(lambda: item_changes(self.compared, self.result_rows, self.changes),
                          lambda df: table(rounded(shorten(df, ("input",), 80), 4), page_size=15,
                                           remote=len(df) > 200, css=("ollive-changes-table",)),
                          empty=f"No {self.changes} between the two runs.")  # fmt: skip

    @staticmethod
    def _chart(df: pd.DataFrame) -> Any:
        df = df.assign(below=df["delta"] - df["ci_low"], above=df["ci_high"] - df["delta"])
        whiskers = df.hvplot.errorbars(x="score", y="delta", yerr1="below", yerr2="above", **_CHART)
        dots = df.hvplot.scatter(x="score", y="delta", size=80, color="change",
                                 cmap={"better": "seagreen", "worse": "firebrick",
                                       "no clear change": "gray"},
                                 hover_cols=["a", "b", "ci_low", "ci_high", "n"], **_CHART)  # fmt: skip
        plot = (whiskers * dots * hv.HLine(0).opts(color="gray", line_dash="dashed")).opts(
            title="Mean delta per score (b − a) and its 95% CI", xlabel="", ylabel="delta",
            show_grid=True,
        )  # fmt: skip
        return pn.pane.HoloViews(plot, sizing_mode="stretch_width", css_classes=["ollive-chart"])

    def _layout(self) -> pn.viewable.Viewable:
        return pn.Column(self.datasets, self._choice, self.runs, self._guide,
                         self._compare_box, self._run_box, sizing_mode="stretch_width")  # fmt: skip


def _caption(html_text: str) -> pn.pane.HTML:
    """A line over a section's table saying what it shows (names in bold)."""
    return pn.pane.HTML(html_text, margin=(0, 10), css_classes=["ollive-caption"])


def _e(value: Any) -> str:
    return html.escape(str(value))


def _sign(score: pd.Series) -> pd.Series:
    """+1 where a higher value is better, -1 for latency and cost."""
    return score.isin(LOWER_IS_BETTER).map({True: -1.0, False: 1.0})


def aggregate(compared: pd.DataFrame) -> pd.DataFrame:
    """The aggregate rows of :func:`~ollive.insights.evaluations.compare_runs` as shown:
    score, n, means a and b, delta with its CI, and items ``improved``/``regressed`` and the
    ``change`` read the right way round (lower latency and cost is better)."""
    df = compared[compared["level"] == "aggregate"].reset_index(drop=True)
    sign = _sign(df["score"])
    low, high = df["ci_low"] * sign, df["ci_high"] * sign  # in "better" units
    change = pd.Series("no clear change", index=df.index)
    change[pd.concat([low, high], axis=1).min(axis=1) > 0] = "better"
    change[pd.concat([low, high], axis=1).max(axis=1) < 0] = "worse"
    flip = sign < 0
    improved = df["improved"].where(~flip, df["regressed"])
    regressed = df["regressed"].where(~flip, df["improved"])
    return pd.DataFrame({"score": df["score"], "n": df["n"], "a": df["a"], "b": df["b"],
                         "delta": df["delta"], "ci_low": df["ci_low"], "ci_high": df["ci_high"],
                         "improved": improved, "regressed": regressed, "change": change})  # fmt: skip


def item_changes(compared: pd.DataFrame, results: pd.DataFrame, which: str) -> pd.DataFrame:
    """The per-item rows of a comparison (``which``: "all", "regressions", "improvements"),
    the worst first, with the item's input (from ``results``, run b's)."""
    df = compared[compared["level"] == "item"]
    better = pd.to_numeric(df["delta"], errors="coerce") * _sign(df["score"])
    df = df.assign(better=better)
    if which == "regressions":
        df = df[df["better"] < 0]
    elif which == "improvements":
        df = df[df["better"] > 0]
    df = df.merge(_as_text(results[["item_id", "input"]]), on="item_id", how="left")
    df = df.sort_values(["better", "score", "item_id"], na_position="last")
    return df[["input", "score", "a", "b", "delta", "item_id"]].reset_index(drop=True)


def _as_text(df: pd.DataFrame) -> pd.DataFrame:
    """The decoded JSON columns (inputs and outputs: text, dicts, lists) as text."""
    out = df.copy()
    for column in _TEXT:
        if column in out.columns:
            out[column] = out[column].map(_text)
    return out


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return value if isinstance(value, str) else json.dumps(value, default=str)


def _item_html(row: pd.Series) -> str:
    """An item's full input, expected output, output and error, its scores and comments."""
    blocks = "".join(
        f"<h5>{title}</h5><pre class='ollive-{key}'>{html.escape(_text(row[key]))}</pre>"
        for title, key in (
            ("Input", "input"),
            ("Expected output", "expected_output"),
            ("Output", "output"),
            ("Error", "error"),
        )  # fmt: skip
        if _text(row[key])
    )
    scores = "".join(
        f"<li><b>{html.escape(c.removeprefix('score.'))}</b> {row[c]:.4g}"
        + (f" — {html.escape(str(row[n]))}" if n in row.index and _text(row[n]) else "")
        + "</li>"
        for c in row.index
        if c.startswith("score.") and not pd.isna(row[c])
        for n in [c.replace("score.", "comment.", 1)]
    )
    title = f"Item <code>{html.escape(str(row['item_id']))}</code>"
    return f"<div><h4>{title}</h4><ul>{scores}</ul>{blocks}</div>"
