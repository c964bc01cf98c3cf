"""Panel components, the explorer's pages and the dashboard, fed by ``ollive.insights``.

>>> import ollive, panel as pn
>>> pn.extension("tabulator")                   # doctest: +SKIP
>>> con = ollive.connect()                      # doctest: +SKIP
>>> ollive.ui.Dashboard(con)                    # doctest: +SKIP
>>> ollive.ui.Traces(con)                       # doctest: +SKIP

Every page (``Overview``, ``Traces``, ``Sessions``, ``Users``, ``Tools``, ``Scores``,
``Experiments``, ``Alerts``, ``DataHealth``) takes ``(con, filter_bar=None)`` and has
``refresh()`` and ``last_refresh_s``; ``ollive dashboard`` serves each at its own URL (see docs/dashboard.md).
In front ends that only render ipywidgets (VS Code ...), use
``pn.extension(comms="ipywidgets")`` or ``Dashboard(con).ipywidget()``.
"""

from __future__ import annotations

from ollive.ui.components import (
    AnomalyList,
    CostChart,
    KpiCards,
    LatencyChart,
    ThroughputChart,
    ToolStats,
    TopConversations,
)
from ollive.ui.dashboard import Dashboard
from ollive.ui.filters import FilterBar
from ollive.ui.pages import (
    PAGES,
    Alerts,
    DataHealth,
    Experiments,
    Overview,
    Page,
    Scores,
    Sessions,
    Tools,
    Traces,
    Users,
)
from ollive.ui.trace_view import TraceView
from ollive.ui.waterfall import waterfall

__all__ = [
    "PAGES",
    "Alerts",
    "AnomalyList",
    "CostChart",
    "Dashboard",
    "DataHealth",
    "Experiments",
    "FilterBar",
    "KpiCards",
    "LatencyChart",
    "Overview",
    "Page",
    "Scores",
    "Sessions",
    "ThroughputChart",
    "ToolStats",
    "Tools",
    "TopConversations",
    "TraceView",
    "Traces",
    "Users",
    "waterfall",
]
