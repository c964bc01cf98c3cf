"""The scores page: feedback and evaluations per name, source and evaluator origin, over time,
by model and by prompt version, and the lowest-scored events."""

from __future__ import annotations

from typing import Any

import hvplot.pandas  # noqa: F401  (registers .hvplot on DataFrames)
import pandas as pd
import panel as pn
import param

import ollive.insights as oi
from ollive.insights import evaluations as ev
from ollive.ui._frames import Section, hint, rounded, shorten, table
from ollive.ui.pages._page import ANY, Page

__all__ = ["Scores"]

_CHART = {"height": 300, "responsive": True, "grid": True}
_SOURCES = [ANY, "user", "model", "human"]
_ORIGINS = [ANY, *ev.SCORE_ORIGINS]
_PROMPT_COLUMNS = ["prompt", "requests", "error_rate", "latency_p95_ms", "cost_usd"]
NO_PROMPTS = ("No inference in this window names its prompt: wrap the calls in "
              '`with ollive.prompt("support-answer", version=3):` to compare versions here.')  # fmt: skip


class Scores(Page):
    """``Scores(con)``: per score name, source (user, model, human) and evaluator origin
    (``app``: the application's own scores; ``experiments``; ``online``: the online
    evaluator's rules) its count, mean, percentiles and share positive, narrowed to one
    ``source`` and/or ``origin`` when chosen; the mean per bucket over the window; per model;
    per prompt version (traffic, errors, p95 latency, cost and mean scores); and the events
    scored below ``below`` on score ``score`` (default: the first name given to the
    application's events, not an experiment's), newest first, with their traces."""

    title = "Scores"
    route = "/scores"
    url_params = {"score": "score", "below": "below", "source": "source", "origin": "origin"}

    score = param.String(
        default="", doc="The score whose low values are listed ('' for the first)."
    )
    below = param.Number(default=0.5, doc="List events scored below this value.")
    source: param.Selector = param.Selector(default=ANY, objects=_SOURCES,
                                            doc="Only scores of this source.")  # fmt: skip
    origin: param.Selector = param.Selector(default=ANY, objects=_ORIGINS,
                                            doc="Only scores of this evaluator origin.")  # fmt: skip

    def _build(self) -> None:
        self.summary = Section("Scores by source and origin", css="ollive-scores")
        self.trend = Section("Mean score over time", css="ollive-score-trend")
        self.by_model = Section("By model", css="ollive-score-models")
        self.by_prompt = Section("By prompt version", css="ollive-score-prompts")
        self.low = Section("Low-scored events", css="ollive-score-low")

    def _refresh(self) -> None:
        f, narrow = self.filter_bar.filters, self._narrow()
        summary = self.summary.load(lambda: ev.scores_by_origin(self.con, f, **narrow),
                                    lambda df: table(rounded(df, 4), page_size=12))  # fmt: skip
        self.trend.load(
            lambda: ev.scores_by_origin(self.con, f, bucket=self.filter_bar.bucket, **narrow),
            self._trend,
        )
        self.by_model.load(lambda: oi.scores(self.con, f, by="model"),
                           lambda df: table(rounded(df, 4), page_size=10))  # fmt: skip
        self.by_prompt.load(lambda: oi.prompts(self.con, f, unprompted=False), self._prompts,
                            empty=hint(NO_PROMPTS))  # fmt: skip
        self._load_low(f, self.score or _first_name(summary))

    def _narrow(self) -> dict[str, str | None]:
        return {k: None if getattr(self, k) == ANY else getattr(self, k)
                for k in ("source", "origin")}  # fmt: skip

    def _load_low(self, f: oi.Filters, name: str) -> None:
        self.low.title = f"Events scored {name} < {self.below:g}" if name else "Low-scored events"
        self.low.load(
            lambda: oi.search(self.con, None, f, score=(name, "<", self.below), limit=25)
            if name else pd.DataFrame(),
            lambda df: table(shorten(df, ("input", "output", "error_message"), 80),
                             **self.link_to("trace_id", "user_id")),
            empty="No event scored that low in this window.",
        )  # fmt: skip

    @staticmethod
    def _trend(df: pd.DataFrame) -> Any:
        varying = [c for c in ("origin", "source") if df[c].nunique() > 1]
        series = df["name"].astype(str)
        for column in varying:
            series = series + " · " + df[column].astype(str)
        df = df.assign(series=series).sort_values("bucket")
        plot = df.hvplot.line(x="bucket", y="mean", by="series", xlabel="", ylabel="mean score",
                              title="Mean score per bucket", **_CHART)  # fmt: skip
        return pn.pane.HoloViews(plot, sizing_mode="stretch_width", css_classes=["ollive-chart"])

    @staticmethod
    def _prompts(df: pd.DataFrame) -> Any:
        """One row per prompt name@version: traffic, errors, p95 latency, cost, mean scores."""
        df = df.assign(
            prompt=df["prompt_name"].astype(str) + "@" + df["prompt_version"].astype(str)
        )
        for mean in [c for c in df.columns if c.startswith("score.")]:  # none given: no mean
            df[mean] = df[mean].where(df[mean.replace("score.", "score_n.", 1)] > 0)
        means = [c for c in df.columns if c.startswith("score.") and df[c].notna().any()]
        return table(rounded(df[_PROMPT_COLUMNS + means], 4), page_size=12,
                     css=("ollive-prompts-table",))  # fmt: skip

    def _layout(self) -> pn.viewable.Viewable:
        controls = pn.Row(pn.widgets.Select.from_param(self.param.source, width=140),
                          pn.widgets.Select.from_param(self.param.origin, width=140))  # fmt: skip
        return pn.Column(controls, self.summary,
                         pn.Row(self.trend, self.by_model, sizing_mode="stretch_width"),
                         self.by_prompt, self.low, sizing_mode="stretch_width")  # fmt: skip


def _first_name(summary: pd.DataFrame | None) -> str:
    """The score listed by default: the first name given to the application's own events
    (an experiment scores its task's calls, not events of the window), else the first."""
    if summary is None or summary.empty:
        return ""
    own = summary[summary["origin"] != "experiments"]
    return str((own if len(own) else summary)["name"].iloc[0])
