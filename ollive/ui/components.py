"""Dashboard components: each a Panel ``Viewer`` that queries ``ollive.insights`` on refresh.

Every component takes the connection and a shared :class:`~ollive.ui.filters.FilterBar`
(one is made if none is given), re-queries when the filters change or :meth:`refresh` is
called, and shows a clear message instead of a chart when the window holds no data.
"""

from __future__ import annotations

import logging
from typing import Any

import hvplot.pandas  # noqa: F401  (registers .hvplot on DataFrames)
import pandas as pd
import panel as pn
import param

import ollive.insights as oi
from ollive.ui.filters import FilterBar

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
EMPTY = "No data in this window yet. Send events with the SDK, or run `ollive seed`."
_CHART = {"height": 300, "responsive": True, "grid": True}


class _Component(pn.viewable.Viewer):
    """Queries on refresh; subclasses implement ``_load`` (DataFrame) and ``_render``."""

    title = param.String(default="")
    rows = param.Integer(default=0, doc="Rows of the last query (0: empty state shown).")

    def __init__(self, con: Any, filter_bar: FilterBar | None = None, **params: Any) -> None:
        super().__init__(**params)
        self._con = con
        self.filter_bar = filter_bar or FilterBar(con)
        self._body = pn.Column(sizing_mode="stretch_width", min_height=80)
        self.filter_bar.param.watch(
            lambda *_: self.refresh(), ["window", "service", "provider", "model"]
        )
        self.refresh()

    def refresh(self) -> None:
        """Re-run the query and redraw (an error is shown in place, not raised)."""
        try:
            df = self._load()
        except Exception as exc:  # a dashboard keeps running: show the failure in place
            log.exception("%s failed", type(self).__name__)
            self._body[:] = [pn.pane.Alert(f"{self.title}: {exc}", alert_type="danger")]
            return
        self.rows = len(df)
        self._body[:] = (
            [self._render(_naive_utc(df))]
            if len(df)
            else [pn.pane.Alert(EMPTY, alert_type="info", css_classes=["ollive-empty"])]
        )

    def _load(self) -> pd.DataFrame:
        raise NotImplementedError

    def _render(self, df: pd.DataFrame) -> pn.viewable.Viewable:
        raise NotImplementedError

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Card(self._body, title=self.title, collapsible=False, sizing_mode="stretch_width",
                       css_classes=["ollive-component"])  # fmt: skip


def _naive_utc(df: pd.DataFrame) -> pd.DataFrame:
    """Timestamps as naive UTC (plotting and table libraries handle those best)."""
    out = df.copy()
    for column in out.columns:
        if isinstance(out[column].dtype, pd.DatetimeTZDtype):
            out[column] = out[column].dt.tz_convert(None)
    return out


def _table(df: pd.DataFrame, **kw: Any) -> pn.widgets.Tabulator:
    return pn.widgets.Tabulator(df, disabled=True, show_index=False, pagination="local", page_size=10,
                                sizing_mode="stretch_width", **kw)  # fmt: skip


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


class LatencyChart(_Component):
    """p50/p95/p99 latency over time (overall) and p95 per ``by`` (model by default)."""

    title = param.String(default="Latency")
    by: param.Selector = param.Selector(default="model", objects=["model", "provider", "service"])

    def _load(self) -> pd.DataFrame:
        return oi.latency(
            self._con, self.filter_bar.filters, bucket=self.filter_bar.bucket, by=self.by
        )

    def _render(self, df: pd.DataFrame) -> pn.viewable.Viewable:
        plot = df.hvplot.line(x="bucket", y="latency_p95_ms", by=self.by, ylabel="p95 latency (ms)",
                              xlabel="", title="p95 latency by " + self.by, **_CHART)  # fmt: skip
        return pn.pane.HoloViews(plot, sizing_mode="stretch_width", css_classes=["ollive-chart"])


class ThroughputChart(_Component):
    """Requests and errors per bucket, and the error rate."""

    title = param.String(default="Throughput and errors")

    def _load(self) -> pd.DataFrame:
        return oi.throughput(self._con, self.filter_bar.filters, bucket=self.filter_bar.bucket)

    def _render(self, df: pd.DataFrame) -> pn.viewable.Viewable:
        counts = df.hvplot.area(x="bucket", y=["requests", "errors"], stacked=False, alpha=0.5,
                                ylabel="per bucket", xlabel="", title="Requests and errors", **_CHART)  # fmt: skip
        rate = df.hvplot.line(x="bucket", y="error_rate", ylabel="error rate", xlabel="", color="firebrick",
                              title="Error rate", **_CHART)  # fmt: skip
        return pn.Row(pn.pane.HoloViews(counts, sizing_mode="stretch_width", css_classes=["ollive-chart"]),
                      pn.pane.HoloViews(rate, sizing_mode="stretch_width", css_classes=["ollive-chart"]),
                      sizing_mode="stretch_width")  # fmt: skip


class CostChart(_Component):
    """Cost (USD) and tokens per model (or provider/service)."""

    title = param.String(default="Cost")
    by: param.Selector = param.Selector(
        default="model", objects=["model", "provider", "service", "user"]
    )

    def _load(self) -> pd.DataFrame:
        return oi.usage(self._con, self.filter_bar.filters, by=self.by).head(15)

    def _render(self, df: pd.DataFrame) -> pn.viewable.Viewable:
        plot = df.hvplot.barh(x=self.by, y="cost_usd", xlabel="", ylabel="cost (USD)", title="Cost by " + self.by,
                              hover_cols=["requests", "total_tokens"], **_CHART).opts(invert_yaxis=True)  # fmt: skip
        return pn.pane.HoloViews(plot, sizing_mode="stretch_width", css_classes=["ollive-chart"])


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
        tl = _naive_utc(oi.timeline(self._con, conversation_id))
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
