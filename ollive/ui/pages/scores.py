"""The scores page: feedback and evaluations per name, over time and by model, and the
lowest-scored events."""

from __future__ import annotations

from typing import Any

import hvplot.pandas  # noqa: F401  (registers .hvplot on DataFrames)
import pandas as pd
import panel as pn
import param

import ollive.insights as oi
from ollive.ui._frames import Section, rounded, shorten, table
from ollive.ui.pages._page import Page

__all__ = ["Scores"]

_CHART = {"height": 300, "responsive": True, "grid": True}


class Scores(Page):
    """``Scores(con)``: per score name its count, mean, percentiles and share positive; the
    mean per bucket over the window; per model; and the events scored below ``below`` on
    score ``score`` (default: the first name), newest first, with their traces."""

    title = "Scores"
    route = "/scores"
    url_params = {"score": "score", "below": "below"}

    score = param.String(default="", doc="The score whose low values are listed ('' first).")
    below = param.Number(default=0.5, doc="List events scored below this value.")

    def _build(self) -> None:
        self.summary = Section("Scores", css="ollive-scores")
        self.trend = Section("Mean score over time", css="ollive-score-trend")
        self.by_model = Section("By model", css="ollive-score-models")
        self.low = Section("Low-scored events", css="ollive-score-low")

    def _refresh(self) -> None:
        f = self.filter_bar.filters
        summary = self.summary.load(
            lambda: oi.scores(self.con, f), lambda df: table(rounded(df, 4))
        )
        self.trend.load(lambda: oi.scores(self.con, f, bucket=self.filter_bar.bucket), self._trend)
        self.by_model.load(lambda: oi.scores(self.con, f, by="model"),
                           lambda df: table(rounded(df, 4), page_size=10))  # fmt: skip
        names = [] if summary is None else summary["name"].astype(str).tolist()
        self._load_low(f, self.score or (names[0] if names else ""))

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
        plot = df.hvplot.line(x="bucket", y="mean", by="name", xlabel="", ylabel="mean score",
                              title="Mean score per bucket", **_CHART)  # fmt: skip
        return pn.pane.HoloViews(plot, sizing_mode="stretch_width", css_classes=["ollive-chart"])

    def _layout(self) -> pn.viewable.Viewable:
        return pn.Column(self.summary, pn.Row(self.trend, self.by_model, sizing_mode="stretch_width"),
                         self.low, sizing_mode="stretch_width")  # fmt: skip
