"""The dashboard: every component under one filter bar, refreshed periodically.

The same object renders inline in JupyterLab, as an ipywidget (``dashboard.ipywidget()``,
for front ends that only render ipywidgets, such as VS Code), and in the served app
(``ollive dashboard``): what a user builds in a notebook can be served unchanged.
"""

from __future__ import annotations

import time
from typing import Any

import panel as pn
import param

from ollive.ui.components import (
    AnomalyList,
    CostChart,
    KpiCards,
    LatencyChart,
    ThroughputChart,
    ToolStats,
    TopConversations,
)
from ollive.ui.filters import FilterBar

__all__ = ["Dashboard"]


class Dashboard(pn.viewable.Viewer):
    """``Dashboard(con)``: filter bar, KPI cards, latency, throughput/errors, cost, top
    conversations with drill-down, tool statistics and anomalies.

    ``refresh_s`` re-queries periodically while displayed (0: only on filter changes and
    :meth:`refresh`). ``last_refresh_s`` is how long the last full refresh took.
    """

    refresh_s = param.Number(
        default=60.0, bounds=(0, None), doc="Seconds between refreshes (0: off)."
    )
    last_refresh_s = param.Number(default=0.0, doc="Duration of the last full refresh.")

    def __init__(self, con: Any, **params: Any) -> None:
        super().__init__(**params)
        self.con = con
        self.filter_bar = FilterBar(con)
        started = time.perf_counter()
        self.kpis = KpiCards(con, self.filter_bar)
        self.latency = LatencyChart(con, self.filter_bar)
        self.throughput = ThroughputChart(con, self.filter_bar)
        self.cost = CostChart(con, self.filter_bar)
        self.conversations = TopConversations(con, self.filter_bar)
        self.tools = ToolStats(con, self.filter_bar)
        self.anomalies = AnomalyList(con, self.filter_bar)
        self.last_refresh_s = time.perf_counter() - started
        self._callback: Any = None

    @property
    def components(self) -> list[Any]:
        """The components, in layout order."""
        return [
            self.kpis,
            self.latency,
            self.throughput,
            self.cost,
            self.conversations,
            self.tools,
            self.anomalies,
        ]

    def refresh(self) -> None:
        """Re-query every component now."""
        started = time.perf_counter()
        for component in self.components:
            component.refresh()
        self.last_refresh_s = time.perf_counter() - started

    def ipywidget(self) -> Any:
        """This dashboard as an ipywidget (through jupyter_bokeh)."""
        return pn.ipywidget(self)

    def __panel__(self) -> pn.viewable.Viewable:
        if self.refresh_s and self._callback is None:
            self._callback = pn.state.add_periodic_callback(
                self.refresh, period=int(self.refresh_s * 1000)
            )
        return pn.Column(
            pn.pane.Markdown("## Ollive", margin=(0, 10)),
            self.filter_bar,
            self.kpis,
            pn.Row(self.latency, self.cost, sizing_mode="stretch_width"),
            self.throughput,
            self.conversations,
            pn.Row(self.tools, self.anomalies, sizing_mode="stretch_width"),
            sizing_mode="stretch_width",
        )
