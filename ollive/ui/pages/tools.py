"""The tools page: calls, errors and latency per tool, and the latest failing calls."""

from __future__ import annotations

from typing import Any

import hvplot.pandas  # noqa: F401  (registers .hvplot on DataFrames)
import pandas as pd
import panel as pn

import ollive.insights as oi
from ollive.ui._frames import Section, shorten, table
from ollive.ui.pages._page import Page

__all__ = ["Tools"]

_CHART = {"height": 320, "responsive": True, "grid": True}


class Tools(Page):
    """``Tools(con)``: per tool its calls, error rate and p50/p95/p99 latency (a table and
    a chart, slowest first), and the latest failed tool calls with their traces."""

    title = "Tools"
    route = "/tools"

    def _build(self) -> None:
        self.stats = Section("Tool statistics", css="ollive-tool-stats")
        self.chart = Section("Latency per tool", css="ollive-tool-chart")
        self.failures = Section("Latest failed calls", css="ollive-tool-failures")

    def _refresh(self) -> None:
        f = self.filter_bar.filters
        stats = self.stats.load(lambda: oi.tool_stats(self.con, f), table)
        self.chart.load(lambda: stats if stats is not None else pd.DataFrame(), self._chart)
        self.failures.load(
            lambda: oi.search(self.con, None, f, kinds=["tool"], status="error", limit=25),
            lambda df: table(
                shorten(df, ("input", "output"), 80), **self.link_to("trace_id", "user_id")
            ),
            empty="No failed tool call in this window.",
        )

    @staticmethod
    def _chart(df: pd.DataFrame) -> Any:
        plot = df.hvplot.barh(x="tool_name", y="latency_p95_ms", xlabel="", ylabel="p95 latency (ms)",
                              title="p95 latency per tool", **_CHART,
                              hover_cols=["calls", "error_rate", "latency_p50_ms"]).opts(invert_yaxis=True)  # fmt: skip
        return pn.pane.HoloViews(plot, sizing_mode="stretch_width", css_classes=["ollive-chart"])

    def _layout(self) -> pn.viewable.Viewable:
        return pn.Column(pn.Row(self.stats, self.chart, sizing_mode="stretch_width"),
                         self.failures, sizing_mode="stretch_width")  # fmt: skip
