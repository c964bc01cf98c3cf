"""The dashboard in a notebook: every page as a tab under one filter bar, refreshed periodically.

The same objects render inline in JupyterLab, as an ipywidget (``dashboard.ipywidget()``,
for front ends that only render ipywidgets, such as VS Code), and in the served app
(``ollive dashboard``, one page per URL): what a user builds in a notebook can be served
unchanged.
"""

from __future__ import annotations

import time
from typing import Any

import panel as pn
import param

from ollive.ui.filters import FilterBar
from ollive.ui.pages import PAGES, Overview, Page

__all__ = ["Dashboard"]


class Dashboard(pn.viewable.Viewer):
    """``Dashboard(con)``: the filter bar over tabs, one per page: Overview (KPI cards,
    latency, throughput/errors, cost, top conversations with drill-down, tool statistics,
    anomalies), Traces, Sessions, Users, Tools, Scores, Datasets & Experiments, Alerts,
    Data health.

    Only the overview queries when made; another page is made (and queries) when its tab
    is first opened, or with :meth:`page`. ``refresh_s`` re-queries the pages made so far
    periodically while displayed (0: only on filter changes and :meth:`refresh`).
    ``last_refresh_s`` is how long the last full refresh took.
    """

    refresh_s = param.Number(
        default=60.0, bounds=(0, None), doc="Seconds between refreshes (0: off)."
    )
    last_refresh_s = param.Number(default=0.0, doc="Duration of the last full refresh.")

    def __init__(self, con: Any, **params: Any) -> None:
        super().__init__(**params)
        self.con = con
        started = time.perf_counter()
        self.filter_bar = FilterBar(con)
        self.overview = Overview(con, self.filter_bar)
        self.pages: dict[str, Page] = {Overview.title: self.overview}
        self.kpis, self.latency, self.throughput = (
            self.overview.kpis,
            self.overview.latency,
            self.overview.throughput,
        )
        self.cost, self.conversations = self.overview.cost, self.overview.conversations
        self.tools, self.anomalies = self.overview.tools, self.overview.anomalies
        self._tabs = pn.Tabs(
            *[(cls.title, self.overview if cls is Overview else pn.Column()) for cls in PAGES],
            sizing_mode="stretch_width",
        )
        self._tabs.param.watch(lambda e: self.page(PAGES[e.new].title), "active")
        self.last_refresh_s = time.perf_counter() - started
        self._callback: Any = None

    @property
    def components(self) -> list[Any]:
        """The overview's components, in layout order."""
        return self.overview.components

    def page(self, title: str) -> Page:
        """The page titled ``title`` ("Traces", "Users" ...), made on first use."""
        if title not in self.pages:
            index = [cls.title for cls in PAGES].index(title)
            self.pages[title] = PAGES[index](self.con, self.filter_bar)
            self._tabs[index] = (title, self.pages[title])
        return self.pages[title]

    def refresh(self) -> None:
        """Re-query every page made so far now."""
        started = time.perf_counter()
        for page in self.pages.values():
            page.refresh()
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
            self._tabs,
            sizing_mode="stretch_width",
        )
