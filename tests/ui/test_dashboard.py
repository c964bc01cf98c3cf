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
    """A project with synthetic traffic over the last 2 days (ending now), and a dataset
    with two experiment runs and online evaluation scores."""
    import uuid

    from ollive.demo.synth import seed_warehouse
    from tests.ui._evaluations import seed_evaluations

    project = f"ui-{uuid.uuid4().hex[:8]}"
    seed_warehouse(warehouse, events=30_000, days=2, project=project)
    seed_evaluations(warehouse, project)
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


# -- the explorer's pages ------------------------------------------------------------------


def _alerts(viewable: Any, css: str) -> list[Any]:
    """The alerts with the CSS class ``css`` that ``viewable`` shows."""
    return [a for a in pn.panel(viewable).select(pn.pane.Alert) if css in a.css_classes]


@pytest.fixture(scope="module")
def bar(recent: Connection) -> ui.FilterBar:
    return ui.FilterBar(recent)


@pytest.fixture(scope="module")
def newest(recent: Connection) -> Any:
    """The newest inference that called tools, and its trace's tool names."""
    import ollive.insights as oi

    tools = oi.search(recent, kinds=["tool"], window="24h", limit=1).iloc[0]
    spans = oi.trace(recent, tools["trace_id"])
    return spans[spans["kind"] == "inference"].iloc[0], spans


# Sections that may be empty on 2 days of data (anomalies need a week of history).
MAY_BE_EMPTY = {"Overview": 1, "Alerts": 1}


@pytest.mark.parametrize("cls", ui.PAGES, ids=lambda c: c.__name__)
def test_every_page_builds_and_refreshes_with_data(
    cls: type[ui.Page], recent: Connection, bar: ui.FilterBar
) -> None:
    page = cls(recent, bar)
    assert page.last_refresh_s > 0
    _render(page)
    page.refresh()
    assert 0 < page.last_refresh_s < 60
    assert not _alerts(page, "ollive-error")
    assert len(_alerts(page, "ollive-empty")) <= MAY_BE_EMPTY.get(cls.__name__, 0), cls
    assert page.route.startswith("/") and page.title


def test_alerts_page_evaluates_rules(recent: Connection, bar: ui.FilterBar) -> None:
    import ollive.insights as oi

    rule = oi.AlertRule(
        "traffic", metric="volume", by="service", detector=None, threshold=1e12, window="1d"
    )  # fmt: skip  (volume below: always fires)
    page = ui.Alerts(recent, bar, rules=[rule])
    assert page.firing.rows >= 4  # one firing per service
    assert not _alerts(page, "ollive-error")


def test_traces_search_narrows_the_table(recent: Connection, newest: Any) -> None:
    traces = ui.Traces(recent, page_size=20)
    assert len(traces.page) == 20 and traces.has_next
    text = newest[0]["input"][:30]
    traces.search = text
    assert len(traces.page) > 0 and traces.results.rows > 0
    found = traces.page[["input", "output", "error_message"]].fillna("").agg(" ".join, axis=1)
    assert found.str.lower().str.contains(text.lower(), regex=False).all()
    traces.status = "error"
    assert set(traces.page["status"]) <= {"error"}
    traces.param.update(status="(any)", search="", kind="tool")
    assert set(traces.page["kind"]) == {"tool"}
    traces.min_latency_ms = 500
    assert (traces.page["latency_ms"] >= 500).all()
    traces.search, traces.min_latency_ms, traces.kind = "no event says this: zx81q", 0, "(any)"
    assert traces.page.empty and _alerts(traces.results, "ollive-empty")


def test_traces_pages_with_offset(recent: Connection) -> None:
    traces = ui.Traces(recent, page_size=10)
    first = traces.page["request_id"].tolist()
    traces.offset = 10  # what "Next" does
    second = traces.page["request_id"].tolist()
    assert len(second) == 10 and not set(first) & set(second)
    traces.search = "refund"  # a new search starts on its first page
    assert traces.offset == 0


def test_selecting_a_result_opens_its_trace(recent: Connection, newest: Any) -> None:
    import ollive.insights as oi

    traces = ui.Traces(recent, query={"q": newest[0]["input"][:30]})
    assert traces.trace_view.figure is None  # nothing opened yet
    traces.table.selection = [0]  # a click on the first result
    row = traces.page.iloc[0]
    view = traces.trace_view
    assert traces.trace_id == view.trace_id == row["trace_id"]
    expected = oi.trace(recent, row["trace_id"])
    assert len(view.spans) == len(expected) and set(view.spans["trace_id"]) == {row["trace_id"]}
    assert view.spans.iloc[view.span]["request_id"] == row["request_id"]  # its span selected
    source = view.figure.renderers[0].data_source
    assert len(view.figure.renderers) == 1 and len(source.data["row"]) == len(expected)
    assert view.span_table.value["span"].str.strip().tolist() == expected["name"].tolist()
    assert traces.query["trace_id"] == row["trace_id"]  # the URL names it
    _render(traces)


def test_url_parameters_open_the_trace_user_and_session(recent: Connection, newest: Any) -> None:
    from ollive.ui.app import PageApp, page_href, parse_query

    inference, spans = newest
    query = parse_query({"trace_id": [inference["trace_id"].encode()], "window": [b"7d"],
                         "service": [b"no-such-service"], "q": "  "})  # fmt: skip
    app = PageApp(ui.Traces, recent, query=query)
    assert app.filter_bar.window == "7d" and app.filter_bar.service == ui.filters.ALL
    view = app.page.trace_view
    assert view.trace_id == inference["trace_id"] and len(view.spans) == len(spans)
    assert set(spans.loc[spans["kind"] == "tool", "name"]) <= set(view.spans["name"])
    assert app.query == {"window": "7d", "q": "  ", "trace_id": inference["trace_id"]}
    assert page_href("/users", app.filter_bar.query) == "./users?window=7d"
    assert 'href="./users?window=7d"' in app._nav.object  # the sidebar keeps the filters
    app.page.search = ""  # every result, each linking to its user, keeping the filters
    user_links = app.page.table.value["_user_id_url"]
    assert app.page.table.formatters["user_id"]["type"] == "link"
    assert (
        user_links.str.startswith("./users?user=").all()
        and user_links.str.endswith("window=7d").all()
    )
    assert "_user_id_url" not in ui.Traces(recent).table.value  # inline: no page to link to
    app.filter_bar.window = "24h"
    assert app.search == "?trace_id=" + inference["trace_id"]

    users = PageApp(ui.Users, recent, query={"user": inference["user_id"]}).page
    assert users.user == inference["user_id"] and users.summary.rows == 1
    assert users.sessions.rows >= 1 and users.events.rows >= 1
    sessions = ui.Sessions(recent, query={"session": inference["session_id"], "order": "cost"})
    assert sessions.order_by == "cost" and sessions.summary.rows == 1
    assert sessions.timeline.rows >= len(spans) - len(spans[spans["kind"] == "log"])
    bad = ui.Traces(recent, query={"min_latency_ms": "-5", "order": "nonsense", "offset": "x"})
    assert (bad.min_latency_ms, bad.order_by, bad.offset) == (0, "timestamp", 0)


def test_a_10k_span_trace_is_one_glyph(warehouse: Any, recent: Connection) -> None:
    from datetime import UTC, datetime, timedelta

    from ollive.demo.big_trace import seed_big_trace

    big = seed_big_trace(
        warehouse, datetime.now(UTC) - timedelta(minutes=30), project=recent.project
    )
    view = ui.TraceView(recent, trace_id=big["trace_id"])
    _render(view)  # how long it takes is `ollive bench insights`' business, not a test's
    assert len(view.spans) == big["spans"] >= 10_000 and view.spans["depth"].max() >= 3
    assert len(view.figure.renderers) == 1  # one hbar over one ColumnDataSource
    assert len(view.figure.renderers[0].data_source.data["row"]) == big["spans"]
    assert view.span_table.pagination == "remote"  # one page at a time to the browser


def test_pages_over_an_empty_warehouse_show_the_empty_state(warehouse: Any, project: str) -> None:
    con = Connection.from_warehouse(warehouse, project=project)
    bar = ui.FilterBar(con)
    for cls in ui.PAGES:
        page = cls(con, bar, query={"user": "nobody", "session": "none", "trace_id": "nope"})
        _render(page)
        assert _alerts(page, "ollive-empty") and not _alerts(page, "ollive-error"), cls


def test_dashboard_makes_pages_on_first_use(recent: Connection) -> None:
    dash = ui.Dashboard(recent, refresh_s=0)
    assert list(dash.pages) == ["Overview"]
    users = dash.page("Users")
    assert dash.page("Users") is users and users.filter_bar is dash.filter_bar
    dash.filter_bar.window = "7d"  # every page made follows the shared filter bar
    assert users.last_refresh_s > 0
    dash.refresh()
    assert dash.last_refresh_s > 0
    _render(dash)


def test_a_failing_query_is_shown_in_place(recent: Connection) -> None:
    traces = ui.Traces(recent)
    models = [m for m in traces.filter_bar.param.model.objects if m != ui.filters.ALL]
    traces.filter_bar.model = models[0]
    traces.kind = "tool"  # tools carry no model: the search refuses
    assert traces.page.empty and _alerts(traces.results, "ollive-error")
    traces.kind = "inference"  # and the page goes on
    assert len(traces.page) and not _alerts(traces.results, "ollive-error")
    assert set(traces.page["name"]) == {models[0]}


def test_the_served_alerts_page_reads_the_platforms_rules_file(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ollive.config import get_settings
    from ollive.ui.serve import alert_rules_for

    rules = tmp_path / "rules.toml"
    rules.write_text('[[rules]]\nname = "slow"\nmetric = "latency"\nthreshold = 5000\n')
    monkeypatch.setenv("OLLIVE_ALERT_RULES_FILE", str(rules))
    get_settings.cache_clear()
    try:
        assert [r.name for r in alert_rules_for(None)] == ["slow"]
        monkeypatch.delenv("OLLIVE_ALERT_RULES_FILE")
        get_settings.cache_clear()
        assert alert_rules_for(None) == []
        assert [r.name for r in alert_rules_for(rules)] == ["slow"]
    finally:
        get_settings.cache_clear()
