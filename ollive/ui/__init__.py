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

import importlib
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

# Panel, Bokeh and hvPlot take seconds to import: the names load on first use, so that a
# light submodule (``ollive.ui.auth``, read by ``ollive up`` for the dashboard's login) does
# not pay for them.
_SUBMODULES = ("components", "dashboard", "filters", "pages", "trace_view", "waterfall")


def __getattr__(name: str) -> Any:
    """Any public name loads them all, as the imports above would: importing a submodule binds
    its name here (``ollive.ui.waterfall`` the module), and each public name is bound after."""
    if name not in __all__:
        raise AttributeError(f"module 'ollive.ui' has no attribute {name!r}")
    for source in _SUBMODULES:
        found = vars(importlib.import_module(f"ollive.ui.{source}"))
        globals().update(
            {n: found[n] for n in __all__ if n in found and not isinstance(found[n], ModuleType)}
        )
    return globals()[name]


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


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
