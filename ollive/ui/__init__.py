"""Panel components and the dashboard, fed by ``ollive.insights``.

>>> import ollive, panel as pn
>>> pn.extension("tabulator")                   # doctest: +SKIP
>>> ollive.ui.Dashboard(ollive.connect())       # doctest: +SKIP

In front ends that only render ipywidgets (VS Code ...), use ``pn.extension(comms="ipywidgets")``
or ``Dashboard(con).ipywidget()``.
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

__all__ = [
    "AnomalyList",
    "CostChart",
    "Dashboard",
    "FilterBar",
    "KpiCards",
    "LatencyChart",
    "ThroughputChart",
    "ToolStats",
    "TopConversations",
]
