"""The Panel components render from the insights, show an empty state, and follow filters."""

from __future__ import annotations

from typing import Any

import panel as pn
import pytest
from bokeh.document import Document

import ollive.ui as ui
from ollive.store._ibis import Connection


@pytest.fixture(scope="module")
def recent(warehouse: Any) -> Connection:
    """A project with synthetic traffic over the last 2 days (ending now)."""
    import uuid

    from ollive.demo.synth import seed_warehouse

    project = f"ui-{uuid.uuid4().hex[:8]}"
    seed_warehouse(warehouse, events=30_000, days=2, project=project)
    return Connection.from_warehouse(warehouse, project=project)


def _render(viewable: Any) -> Any:
    return pn.panel(viewable).get_root(Document())


@pytest.fixture(scope="module")
def dash(recent: Connection) -> ui.Dashboard:
    return ui.Dashboard(recent, refresh_s=0)


def test_dashboard_components_have_data(dash: ui.Dashboard) -> None:
    for component in (
        dash.kpis,
        dash.latency,
        dash.throughput,
        dash.cost,
        dash.conversations,
        dash.tools,
    ):
        assert component.rows > 0, type(component).__name__
    assert dash.conversations.selected  # the top conversation's timeline is shown
    root = _render(dash)
    assert root is not None and dash.last_refresh_s > 0
    dash.refresh()


def test_filters_narrow_every_component(recent: Connection) -> None:
    dash = ui.Dashboard(recent, refresh_s=0)
    models = [m for m in dash.filter_bar.param.model.objects if m != ui.filters.ALL]
    assert len(models) >= 5
    dash.filter_bar.model = models[0]
    assert dash.cost.rows == 1 and dash.filter_bar.filters.model == models[0]
    dash.filter_bar.window = "1h"
    assert dash.filter_bar.bucket == "1m"


def test_empty_warehouse_shows_empty_state(warehouse: Any, project: str) -> None:
    con = Connection.from_warehouse(warehouse, project=project)
    dash = ui.Dashboard(con, refresh_s=0)
    assert all(c.rows == 0 for c in dash.components)
    _render(dash)
    for name in ("FilterBar", "KpiCards", "LatencyChart", "ThroughputChart", "CostChart", "TopConversations",
                 "ToolStats", "AnomalyList"):  # fmt: skip
        assert isinstance(getattr(ui, name), type)


def test_dashboard_as_ipywidget(dash: ui.Dashboard) -> None:
    widget = dash.ipywidget()
    assert type(widget).__name__ == "BokehModel"
