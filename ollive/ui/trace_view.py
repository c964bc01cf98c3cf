"""One trace: its waterfall, its spans, the selected span's detail, its scores, its conversation.

>>> view = TraceView(con, trace_id="4bf92f3577b34da6a3ce929d0e0e4736")   # doctest: +SKIP
>>> view.spans[["depth", "kind", "name", "duration_ms"]]                  # doctest: +SKIP

Everything long is bounded: the waterfall is one glyph over one data source, the span and
timeline tables send one page at a time to the browser.
"""

from __future__ import annotations

import html
from typing import Any, cast
from urllib.parse import urlencode

import pandas as pd
import panel as pn
import param
from bokeh.models.renderers import GlyphRenderer

import ollive.insights as oi
from ollive.ui._frames import Section, empty_state, failure, hint, naive_utc, shorten, table
from ollive.ui.filters import FilterBar
from ollive.ui.waterfall import waterfall

__all__ = ["TraceView"]

_SPAN_COLUMNS = ["span", "kind", "status", "start_offset_ms", "duration_ms", "total_tokens",
                 "cost_usd", "value", "input", "output", "error_message"]  # fmt: skip
_DETAIL = ("kind", "name", "status", "model", "service", "started_at", "finished_at",
           "latency_ms", "total_tokens", "cost_usd", "value", "request_id", "parent_request_id",
           "span_id", "parent_span_id", "conversation_id", "session_id", "user_id")  # fmt: skip
_TIMELINE = ["timestamp", "kind", "name", "status", "latency_ms", "total_tokens", "cost_usd",
             "value", "text", "request_id"]  # fmt: skip
HINT = "Select a search result to open its trace."
_DETAIL_CSS = """
h4 { margin: 0 0 6px 0; } h5 { margin: 10px 0 4px 0; }
th { text-align: right; padding-right: 8px; color: #555; font-weight: 600; }
pre { white-space: pre-wrap; word-break: break-word; max-height: 320px; overflow: auto;
      background: #f6f8fa; padding: 6px; border-radius: 4px; }
"""


class TraceView(pn.viewable.Viewer):
    """The trace ``trace_id``: a header (its conversation, user and session), the waterfall,
    the spans in tree order, the selected ``span``'s input/output/error and fields, the
    trace's scores and the conversation's timeline. ``links``: name the served pages'
    URLs for the conversation's user and session."""

    trace_id = param.String(default="", doc="The trace shown ('' for none).")
    span = param.Integer(default=-1, doc="Row (tree order) of the selected span; -1: none.")
    links = param.Boolean(default=False, doc="Link user and session to the served pages.")

    def __init__(self, con: Any, filter_bar: FilterBar | None = None, **params: Any) -> None:
        super().__init__(**params)
        self._con = con
        self._filter_bar = filter_bar  # its filters go into the links (the served pages)
        #: the trace's spans in tree order (:func:`ollive.insights.trace`); empty when none
        self.spans = oi.span_tree(pd.DataFrame(columns=list(oi.TRACE_COLUMNS)))
        self._header = pn.pane.HTML(
            sizing_mode="stretch_width", css_classes=["ollive-trace-header"]
        )
        self._chart = pn.pane.Bokeh(sizing_mode="stretch_width", css_classes=["ollive-waterfall"])
        self._table = pn.Column(sizing_mode="stretch_width", css_classes=["ollive-spans"])
        self._detail = pn.pane.HTML(sizing_mode="stretch_width", css_classes=["ollive-span-detail"],
                                    stylesheets=[_DETAIL_CSS])  # fmt: skip
        self.scores = Section("Scores of this trace", css="ollive-trace-scores")
        self.timeline = Section("Conversation timeline", css="ollive-conversation")
        self._body = pn.Column(sizing_mode="stretch_width")
        self._source: Any = None
        self._loaded = ""  # the trace drawn last (a refresh keeps its selected span)
        self._span_table: pn.widgets.Tabulator | None = None
        self.param.watch(lambda *_: self.refresh(), "trace_id")
        self.param.watch(lambda *_: self._show_span(), "span")
        self.refresh()

    @property
    def figure(self) -> Any:
        """The waterfall's Bokeh figure (None before a trace is shown)."""
        return self._chart.object if len(self.spans) else None

    @property
    def span_table(self) -> pn.widgets.Tabulator | None:
        """The spans table (one page at a time in the browser); None before a trace."""
        return self._span_table if len(self.spans) else None

    def open(self, trace_id: str, request_id: str | None = None) -> None:
        """Show ``trace_id`` with the span ``request_id`` (default: the root) selected."""
        if trace_id != self.trace_id:
            self.trace_id = trace_id  # loads the trace (the watcher)
        if request_id is not None and len(self.spans):
            rows = (self.spans["request_id"].astype(str) == str(request_id)).to_numpy()
            if rows.any():
                self.span = int(rows.argmax())

    def refresh(self) -> None:
        """Re-query the trace (and its conversation) and redraw."""
        if not self.trace_id:
            self.spans = self.spans.iloc[0:0]
            self._body[:] = [hint(HINT)]
            return
        try:
            spans = oi.trace(self._con, self.trace_id)
        except Exception as exc:  # shown in place, like every component
            self._body[:] = [failure(f"Trace {self.trace_id}: {exc}")]
            return
        self.spans = spans
        if spans.empty:
            self._body[:] = [empty_state(f"No spans with trace id `{self.trace_id}`.")]
            return
        self._draw(spans)
        self._body[:] = [self._header, self._chart,
                         pn.Row(self._table, self._detail, sizing_mode="stretch_width"),
                         self.scores, self.timeline]  # fmt: skip
        keep = self._loaded == self.trace_id and 0 <= self.span < len(spans)
        self._loaded = self.trace_id
        if not keep and self.span != 0:
            self.span = 0  # a new trace opens on its root (the watcher shows it)
        else:
            self._show_span()

    def _draw(self, spans: pd.DataFrame) -> None:
        self._header.object = self._header_html(spans)
        fig = waterfall(spans)
        self._source = cast(GlyphRenderer, fig.renderers[0]).data_source
        self._source.selected.on_change("indices", self._on_tap)
        self._chart.object = fig
        indent = spans["depth"].clip(upper=12).map(lambda d: "\u00a0\u00a0" * int(d))
        rows = shorten(spans.assign(span=indent + spans["name"].fillna("").astype(str)),
                       ("input", "output", "error_message"), 80)  # fmt: skip
        self._span_table = table(rows[_SPAN_COLUMNS], page_size=15, remote=True, selectable=1,
                                 css=("ollive-span-rows",))  # fmt: skip
        self._span_table.param.watch(self._on_row, "selection")
        self._table[:] = [self._span_table]
        self.scores.load(lambda: spans[spans["kind"] == "score"], self._scores)
        conversation = _first(spans["conversation_id"])
        self.timeline.title = (
            f"Timeline of conversation {conversation}" if conversation else "Timeline"
        )
        self.timeline.load(
            lambda: oi.timeline(self._con, conversation) if conversation else spans.iloc[0:0],
            lambda df: table(shorten(df[_TIMELINE], ("text",)), page_size=10, remote=True,
                             css=("ollive-timeline",)),
            empty="The trace belongs to no conversation.",
        )  # fmt: skip

    @staticmethod
    def _scores(df: pd.DataFrame) -> Any:
        df = df.rename(columns={"status": "source", "output": "comment",
                                "parent_request_id": "scored_request_id"})  # fmt: skip
        return table(df[["name", "value", "source", "comment", "scored_request_id", "started_at"]])

    def _header_html(self, spans: pd.DataFrame) -> str:
        total = float((spans["start_offset_ms"] + spans["duration_ms"].fillna(0)).max())
        errors = int(spans["status"].isin(["error", "timeout"]).sum())
        parts = [f"<b>Trace</b> <code>{html.escape(self.trace_id)}</code>",
                 f"{len(spans):,} spans", f"{total:,.0f} ms", f"{errors} errors"]  # fmt: skip
        for label, column, page in (
            ("conversation", "conversation_id", ""),
            ("user", "user_id", "users"),
            ("session", "session_id", "sessions"),
        ):
            value = _first(spans[column])
            if not value:
                continue
            text = f"<code>{html.escape(value)}</code>"
            if self.links and page:
                filters = self._filter_bar.query if self._filter_bar is not None else {}
                href = f"./{page}?{urlencode({label: value, **filters})}"
                text = f'<a href="{html.escape(href)}">{text}</a>'
            parts.append(f"{label} {text}")
        return f"<div class='ollive-trace-title'>{' · '.join(parts)}</div>"

    def _on_tap(self, attr: str, old: list[int], new: list[int]) -> None:
        if new and new[0] != self.span:
            self.span = int(new[0])

    def _on_row(self, event: param.parameterized.Event) -> None:
        if event.new and event.new[0] != self.span:
            self.span = int(event.new[0])

    def _show_span(self) -> None:
        if not 0 <= self.span < len(self.spans):
            self._detail.object = ""
            return
        row = naive_utc(self.spans.iloc[[self.span]]).iloc[0]
        source = self._source
        if source is not None and source.selected.indices != [self.span]:
            with pn.io.unlocked():  # a Bokeh model changed from a Panel callback
                source.selected.indices = [self.span]
        self._detail.object = _detail_html(row)

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(self._body, sizing_mode="stretch_width", css_classes=["ollive-trace"])


def _first(values: pd.Series) -> str:
    """The first non-empty value of a column ('' if none)."""
    present = values.dropna().astype(str)
    present = present[present != ""]
    return str(present.iloc[0]) if len(present) else ""


def _detail_html(row: pd.Series) -> str:
    """The span's fields and its full input, output and error, escaped."""
    fields = "".join(
        f"<tr><th>{name}</th><td>{html.escape(str(row[name]))}</td></tr>"
        for name in _DETAIL
        if name in row.index and not pd.isna(row[name]) and str(row[name]) != ""
    )
    blocks = "".join(
        f"<h5>{title}</h5><pre class='ollive-{key}'>{html.escape(str(row[key]))}</pre>"
        for title, key in (("Input", "input"), ("Output", "output"), ("Error", "error_message"))
        if not pd.isna(row[key]) and str(row[key]) != ""
    )
    return f"<div><h4>{html.escape(str(row['name']))}</h4><table>{fields}</table>{blocks}</div>"
