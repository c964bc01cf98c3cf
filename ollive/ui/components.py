"""Dashboard components: each a Panel ``Viewer`` that queries ``ollive.insights`` on refresh.

Every component takes the connection and a shared :class:`~ollive.ui.filters.FilterBar`
(one is made if none is given), re-queries when the filters change (unless made with
``follow_filters=False``: a page that owns it refreshes it) or :meth:`refresh` is called, and
shows a clear message instead of a chart when the window holds no data.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import holoviews as hv
import hvplot.pandas  # noqa: F401  (registers .hvplot on DataFrames)
import pandas as pd
import panel as pn
import param
from holoviews.streams import Pipe

import ollive.insights as oi
from ollive.ui._frames import EMPTY, empty_state, failure, naive_utc, table
from ollive.ui.filters import FILTER_PARAMS, FilterBar

__all__ = [
    "AnomalyList",
    "CostChart",
    "KpiCards",
    "LatencyChart",
    "ThroughputChart",
    "ToolStats",
    "TopConversations",
]

log = logging.getLogger(__name__)
# framewise: a chart updated in place rescales to its new rows (a new window, other models)
_CHART = {"height": 300, "responsive": True, "grid": True, "framewise": True}


class _Component(pn.viewable.Viewer):
    """Queries on refresh; subclasses implement ``_load`` (DataFrame) and ``_render``."""

    title = param.String(default="")
    rows = param.Integer(default=0, doc="Rows of the last query (0: empty state shown).")

    def __init__(
        self,
        con: Any,
        filter_bar: FilterBar | None = None,
        *,
        follow_filters: bool = True,
        **params: Any,
    ) -> None:
        super().__init__(**params)
        self._con = con
        self.filter_bar = filter_bar or FilterBar(con)
        self._body = pn.Column(sizing_mode="stretch_width", min_height=80)
        if follow_filters:
            self.filter_bar.param.watch(lambda *_: self.refresh(), list(FILTER_PARAMS))
        self.refresh()

    def refresh(self) -> None:
        """Re-run the query and redraw (an error is shown in place, not raised)."""
        try:
            df = self._load()
        except Exception as exc:  # a dashboard keeps running: show the failure in place
            log.exception("%s failed", type(self).__name__)
            self._body[:] = [failure(f"{self.title}: {exc}")]
            return
        self.rows = len(df)
        shown = self._render(naive_utc(df)) if len(df) else empty_state(EMPTY)
        if len(self._body) != 1 or self._body[0] is not shown:  # a chart updated in place stays
            self._body[:] = [shown]

    def _load(self) -> pd.DataFrame:
        raise NotImplementedError

    def _render(self, df: pd.DataFrame) -> pn.viewable.Viewable:
        raise NotImplementedError

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Card(self._body, title=self.title, collapsible=False, sizing_mode="stretch_width",
                       css_classes=["ollive-component"])  # fmt: skip


class _Chart(_Component):
    """A component drawing HoloViews plots of its rows: the first rows build the plots, a
    later refresh streams its rows into them (the Bokeh plots update in place, about three
    times cheaper than drawing new ones). Subclasses give ``_plots`` (functions of the rows)
    and ``_chart_key`` (what, when it changes, needs new plots)."""

    def __init__(self, con: Any, filter_bar: FilterBar | None = None, **params: Any) -> None:
        self._pipe: Pipe | None = None
        self._view: pn.viewable.Viewable | None = None
        self._key: Any = None
        super().__init__(con, filter_bar, **params)

    def _plots(self) -> list[Callable[[pd.DataFrame], Any]]:
        raise NotImplementedError

    def _chart_key(self) -> Any:
        return None

    def _render(self, df: pd.DataFrame) -> pn.viewable.Viewable:
        if self._pipe is not None and self._view is not None and self._key == self._chart_key():
            self._pipe.send(df)
            return self._view
        self._pipe, self._key = Pipe(data=df), self._chart_key()
        panes = [pn.pane.HoloViews(hv.DynamicMap(plot, streams=[self._pipe]),
                                   sizing_mode="stretch_width", css_classes=["ollive-chart"])
                 for plot in self._plots()]  # fmt: skip
        self._view = panes[0] if len(panes) == 1 else pn.Row(*panes, sizing_mode="stretch_width")
        return self._view


def _table(df: pd.DataFrame, **kw: Any) -> pn.widgets.Tabulator:
    css = tuple(c for c in kw.pop("css_classes", []) if c != "ollive-table")
    return table(df, css=css, **kw)


class KpiCards(_Component):
    """Requests, error rate, p95 latency, tokens, cost, users and conversations, with the
    change against the previous window."""

    title = param.String(default="Overview")
    _FORMATS = {"requests": "{value:,.0f}", "error_rate": "{value:.1%}", "latency_p95_ms": "{value:,.0f} ms",
                "total_tokens": "{value:,.0f}", "cost_usd": "${value:,.2f}", "users": "{value:,.0f}",
                "conversations": "{value:,.0f}"}  # fmt: skip

    def _load(self) -> pd.DataFrame:
        df = oi.summary(self._con, self.filter_bar.filters)
        return df if df["value"].any() else df.iloc[0:0]

    def _render(self, df: pd.DataFrame) -> pn.viewable.Viewable:
        cards = []
        for row in df[df.metric.isin(list(self._FORMATS))].itertuples():
            change = "" if pd.isna(row.change) else f" ({row.change:+.0%})"
            label = row.metric.replace("_", " ").replace("usd", "USD").replace(" ms", "")
            cards.append(pn.indicators.Number(label=label + change, value=float(row.value),
                                              format=self._FORMATS[row.metric], font_size="24pt",
                                              title_size="10pt", css_classes=["ollive-kpi"]))  # fmt: skip
        return pn.FlexBox(*cards)


class LatencyChart(_Chart):
    """p50/p95/p99 latency over time (overall) and p95 per ``by`` (model by default)."""

    title = param.String(default="Latency")
    by: param.Selector = param.Selector(default="model", objects=["model", "provider", "service"])

    def _load(self) -> pd.DataFrame:
        return oi.latency(
            self._con, self.filter_bar.filters, bucket=self.filter_bar.bucket, by=self.by
        )

    def _chart_key(self) -> Any:
        return self.by

    def _plots(self) -> list[Callable[[pd.DataFrame], Any]]:
        by = self.by
        return [lambda data: data.hvplot.line(x="bucket", y="latency_p95_ms", by=by, ylabel="p95 latency (ms)",
                                              xlabel="", title="p95 latency by " + by, **_CHART)]  # fmt: skip


class ThroughputChart(_Chart):
    """Requests and errors per bucket, and the error rate."""

    title = param.String(default="Throughput and errors")

    def _load(self) -> pd.DataFrame:
        return oi.throughput(self._con, self.filter_bar.filters, bucket=self.filter_bar.bucket)

    def _plots(self) -> list[Callable[[pd.DataFrame], Any]]:
        return [
            lambda data: data.hvplot.area(x="bucket", y=["requests", "errors"], stacked=False, alpha=0.5,
                                          ylabel="per bucket", xlabel="", title="Requests and errors", **_CHART),
            lambda data: data.hvplot.line(x="bucket", y="error_rate", ylabel="error rate", xlabel="",
                                          color="firebrick", title="Error rate", **_CHART),
        ]  # fmt: skip


class CostChart(_Chart):
    """Cost (USD) and tokens per model (or provider/service)."""

    title = param.String(default="Cost")
    by: param.Selector = param.Selector(
        default="model", objects=["model", "provider", "service", "user"]
    )

    def _load(self) -> pd.DataFrame:
        return oi.usage(self._con, self.filter_bar.filters, by=self.by).head(15)

    def _chart_key(self) -> Any:
        return self.by

    def _plots(self) -> list[Callable[[pd.DataFrame], Any]]:
        by = self.by
        return [lambda data: data.hvplot.barh(x=by, y="cost_usd", xlabel="", ylabel="cost (USD)", title="Cost by " + by,
                                              hover_cols=["requests", "total_tokens"], **_CHART).opts(invert_yaxis=True)]  # fmt: skip


class TopConversations(_Component):
    """The most expensive (or slowest, most failing ...) conversations; selecting a row
    shows that conversation's timeline below."""

    title = param.String(default="Top conversations")
    rank_by: param.Selector = param.Selector(
        default="cost", objects=["cost", "tokens", "latency", "errors", "requests"]
    )
    selected = param.String(default="", doc="The conversation whose timeline is shown.")

    def __init__(self, con: Any, filter_bar: FilterBar | None = None, **params: Any) -> None:
        self._timeline = pn.Column(sizing_mode="stretch_width")
        super().__init__(con, filter_bar, **params)
        self.param.watch(lambda *_: self.refresh(), "rank_by")

    def _load(self) -> pd.DataFrame:
        df = oi.top_conversations(self._con, self.filter_bar.filters, by=self.rank_by, limit=20)
        return df.assign(models=df["models"].map(lambda m: ", ".join(m)))

    def _render(self, df: pd.DataFrame) -> pn.viewable.Viewable:
        table = _table(df[["conversation_id", "user_id", "models", "requests", "errors", "total_tokens",
                           "cost_usd", "latency_p95_ms", "started_at"]], selectable=1,
                       css_classes=["ollive-table"])  # fmt: skip
        table.param.watch(lambda event: self.open_conversation(str(df.iloc[event.new[0]]["conversation_id"])) if event.new else None,
                          "selection")  # fmt: skip
        if len(df):
            self.open_conversation(str(df.iloc[0]["conversation_id"]))
        return pn.Column(pn.widgets.RadioButtonGroup.from_param(self.param.rank_by), table, self._timeline,
                         sizing_mode="stretch_width")  # fmt: skip

    def open_conversation(self, conversation_id: str) -> None:
        """Drill down: show the timeline of ``conversation_id``."""
        self.selected = conversation_id
        tl = naive_utc(oi.timeline(self._con, conversation_id))
        columns = [
            "timestamp",
            "kind",
            "name",
            "status",
            "latency_ms",
            "total_tokens",
            "cost_usd",
            "value",
            "text",
        ]
        self._timeline[:] = [pn.pane.Markdown(f"**Timeline of `{conversation_id}`**"),
                             _table(tl[columns], css_classes=["ollive-table", "ollive-timeline"])]  # fmt: skip


class ToolStats(_Component):
    """Calls, error rate and latency percentiles per tool, slowest first."""

    title = param.String(default="Tools")

    def _load(self) -> pd.DataFrame:
        return oi.tool_stats(self._con, self.filter_bar.filters)

    def _render(self, df: pd.DataFrame) -> pn.viewable.Viewable:
        return _table(df, css_classes=["ollive-table"])


class AnomalyList(_Component):
    """Anomalous hourly buckets per model and per service (seasonal detector by default),
    over the selected window but at least the last ``min_window`` (incidents stay listed
    for a while)."""

    title = param.String(default="Anomalies (7 days at least)")
    detector: param.Selector = param.Selector(default="seasonal", objects=["seasonal", "zscore"])
    min_window = param.String(default="7d")

    def __init__(self, con: Any, filter_bar: FilterBar | None = None, **params: Any) -> None:
        self._cache: tuple[Any, pd.DataFrame] | None = None
        super().__init__(con, filter_bar, **params)

    def _load(self) -> pd.DataFrame:
        f = self.filter_bar.filters
        if oi.parse_duration(f.window) < oi.parse_duration(self.min_window):
            f = oi.Filters.of(f, window=self.min_window)
        # hourly buckets only change when an hour completes: re-detect once per hour/filter
        key = (f, self.detector, pd.Timestamp.now(tz="UTC").floor("h"))
        if self._cache is None or self._cache[0] != key:
            self._cache = (key, self._detect(f))
        return self._cache[1]

    def _detect(self, f: oi.Filters) -> pd.DataFrame:
        frames = [
            oi.anomalies(self._con, f, by=by, detector=self.detector) for by in ("model", "service")
        ]
        frames = [df for df in frames if len(df)]
        if not frames:
            return pd.DataFrame(columns=list(oi.ANOMALY_COLUMNS))
        return pd.concat(frames, ignore_index=True).sort_values(
            "bucket", ascending=False, ignore_index=True
        )

    def _render(self, df: pd.DataFrame) -> pn.viewable.Viewable:
        return _table(
            df.round({"observed": 4, "expected": 4, "score": 1}), css_classes=["ollive-table"]
        )
