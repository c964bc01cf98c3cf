"""The overview page: KPIs, latency, throughput and errors, cost, top conversations, tools,
anomalies (what the one-page dashboard showed)."""

from __future__ import annotations

from typing import Any

import panel as pn

from ollive.ui.components import (
    AnomalyList,
    CostChart,
    KpiCards,
    LatencyChart,
    ThroughputChart,
    ToolStats,
    TopConversations,
)
from ollive.ui.pages._page import Page

__all__ = ["Overview"]


class Overview(Page):
    """``Overview(con)``: KPI cards, latency, throughput/errors, cost, top conversations
    with drill-down, tool statistics and anomalies, under the filter bar."""

    title = "Overview"
    route = "/"

    def _build(self) -> None:
        bar, con = self.filter_bar, self.con
        # the page refreshes its components itself (one timed refresh per filter change)
        self.kpis = KpiCards(con, bar, follow_filters=False)
        self.latency = LatencyChart(con, bar, follow_filters=False)
        self.throughput = ThroughputChart(con, bar, follow_filters=False)
        self.cost = CostChart(con, bar, follow_filters=False)
        self.conversations = TopConversations(con, bar, follow_filters=False)
        self.tools = ToolStats(con, bar, follow_filters=False)
        self.anomalies = AnomalyList(con, bar, follow_filters=False)
        self._fresh = True  # the components queried when made: the first refresh is done

    @property
    def components(self) -> list[Any]:
        """The components, in layout order."""
        return [self.kpis, self.latency, self.throughput, self.cost, self.conversations,
                self.tools, self.anomalies]  # fmt: skip

    def _refresh(self) -> None:
        if self._fresh:  # the page's first refresh: the components have just queried
            self._fresh = False
            return
        for component in self.components:
            component.refresh()

    def _layout(self) -> pn.viewable.Viewable:
        return pn.Column(
            self.kpis,
            pn.Row(self.latency, self.cost, sizing_mode="stretch_width"),
            self.throughput,
            self.conversations,
            pn.Row(self.tools, self.anomalies, sizing_mode="stretch_width"),
            sizing_mode="stretch_width",
        )
