"""The explorer's pages: each a Panel ``Viewer`` over ``ollive.insights``, inline in a notebook
(``Traces(con)``) or served at its route (``ollive dashboard``).

>>> bar = FilterBar(con)                                   # doctest: +SKIP
>>> pn.Column(bar, Traces(con, bar))                        # doctest: +SKIP
"""

from __future__ import annotations

from ollive.ui.pages._page import Page
from ollive.ui.pages.alerts import Alerts
from ollive.ui.pages.experiments import Experiments
from ollive.ui.pages.health import DataHealth
from ollive.ui.pages.overview import Overview
from ollive.ui.pages.people import Sessions, Users
from ollive.ui.pages.scores import Scores
from ollive.ui.pages.tools import Tools
from ollive.ui.pages.traces import Traces

__all__ = [
    "PAGES",
    "Alerts",
    "DataHealth",
    "Experiments",
    "Overview",
    "Page",
    "Scores",
    "Sessions",
    "Tools",
    "Traces",
    "Users",
]

#: every page, in the sidebar's order
PAGES: tuple[type[Page], ...] = (
    Overview,
    Traces,
    Sessions,
    Users,
    Tools,
    Scores,
    Experiments,
    Alerts,
    DataHealth,
)
