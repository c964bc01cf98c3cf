"""The trace explorer: search events by text and filters, page through them, open a trace."""

from __future__ import annotations

from typing import Any

import pandas as pd
import panel as pn
import param

import ollive.insights as oi
from ollive.ui._frames import Section, shorten, table
from ollive.ui.pages._page import ANY, Page, Pager
from ollive.ui.trace_view import TraceView

__all__ = ["Traces"]

_COLUMNS = ["timestamp", "kind", "name", "status", "service", "user_id", "latency_ms",
            "total_tokens", "cost_usd", "input", "output", "error_message", "trace_id"]  # fmt: skip
_STATUSES = [ANY, "ok", "error", "timeout", "cancelled", "ERROR", "WARNING", "INFO"]
_KINDS = [ANY, "inference", "tool", "log"]
_ORDERS = ["timestamp", "latency", "cost", "tokens"]


class Traces(Page):
    """``Traces(con)``: a search box and status/kind/min-latency/order over
    :func:`ollive.insights.search`, one page of ``page_size`` results at a time (``offset``;
    Previous/Next), and the :class:`~ollive.ui.TraceView` of the selected result below.

    ``Traces(con, query={"q": "refund", "trace_id": "..."})`` (or the parameters) opens with
    that search and trace, as the served ``/traces?q=refund&trace_id=...`` does.
    """

    title = "Traces"
    route = "/traces"
    url_params = {"search": "q", "status": "status", "kind": "kind",
                  "min_latency_ms": "min_latency_ms", "order_by": "order", "offset": "offset",
                  "trace_id": "trace_id"}  # fmt: skip

    search = param.String(default="", doc="Text the events contain (case-insensitive).")
    status: param.Selector = param.Selector(default=ANY, objects=_STATUSES)
    kind: param.Selector = param.Selector(default=ANY, objects=_KINDS)
    min_latency_ms = param.Number(default=0.0, bounds=(0, None), doc="0: any latency.")
    order_by: param.Selector = param.Selector(default="timestamp", objects=_ORDERS)
    offset = param.Integer(default=0, bounds=(0, None), doc="Results skipped (paging).")
    page_size = param.Integer(default=25, bounds=(1, 500))
    trace_id = param.String(default="", doc="The trace open below the results.")

    def _build(self) -> None:
        self.results = Section("Search results", css="ollive-results")
        self.trace_view = TraceView(self.con, self.filter_bar, links=self.links)
        self.table: pn.widgets.Tabulator | None = None
        self.page = pd.DataFrame(columns=list(oi.SEARCH_COLUMNS))  # the results shown
        self.has_next = False
        self.pager = Pager(self._turn)

    def _refresh(self) -> None:
        self.run_search()
        if self.trace_view.trace_id != self.trace_id:
            self.trace_view.trace_id = self.trace_id  # loads it
        else:
            self.trace_view.refresh()

    def _on_filters(self) -> None:
        if self.offset:
            self.offset = 0  # the watcher searches again
        else:
            self.run_search()

    def _on_state(self, *events: param.parameterized.Event) -> None:
        if not self._ready:
            return
        names = {e.name for e in events}
        if names - {"trace_id", "offset"} and "offset" not in names and self.offset:
            self.offset = 0  # a new search starts on its first page (this searches)
        elif names - {"trace_id"}:
            self.run_search()
        if "trace_id" in names:
            self.trace_view.open(self.trace_id)

    def run_search(self) -> pd.DataFrame | None:
        """Run the search for the current page; returns its rows (None if it failed)."""
        rows = self.results.load(self._query, self._render, empty="No event matches this search.")
        self.page = rows.iloc[: self.page_size] if rows is not None else self.page.iloc[0:0]
        self.has_next = rows is not None and len(rows) > self.page_size
        self.pager.position(self.offset, len(self.page), self.has_next)
        return self.page

    def _query(self) -> pd.DataFrame:
        return oi.search(
            self.con, self.search.strip() or None, self.filter_bar.filters,
            kinds=None if self.kind == ANY else [self.kind],
            status=None if self.status == ANY else self.status,
            min_latency_ms=self.min_latency_ms or None, order_by=self.order_by,
            limit=self.page_size + 1, offset=self.offset,  # one more: is there a next page?
        )  # fmt: skip

    def _render(self, df: pd.DataFrame) -> Any:
        page = shorten(df.iloc[: self.page_size], ("input", "output", "error_message"), 80)
        self.table = table(page[_COLUMNS], page_size=self.page_size, selectable=1,
                           css=("ollive-search",), **self.link_to("user_id"), paginate=False)  # fmt: skip
        self.table.param.watch(self._on_select, "selection")
        return self.table

    def _on_select(self, event: param.parameterized.Event) -> None:
        if event.new:
            self.select(event.new[0])

    def select(self, index: int) -> None:
        """Open the trace of result ``index`` (on the current page) at that event's span."""
        row = self.page.iloc[index]
        self.trace_id = str(row["trace_id"])  # the watcher opens it (and the URL names it)
        self.trace_view.open(self.trace_id, request_id=str(row["request_id"]))

    def _turn(self, pages: int) -> None:
        self.offset = max(0, self.offset + pages * self.page_size)  # the watcher searches

    def _layout(self) -> pn.viewable.Viewable:
        controls = pn.Row(
            pn.widgets.TextInput.from_param(
                self.param.search, label="Search", placeholder="text in inputs, outputs, errors, logs",
                min_width=320, css_classes=["ollive-search-box"],
            ),
            pn.widgets.Select.from_param(self.param.status, width=120),
            pn.widgets.Select.from_param(self.param.kind, width=120),
            pn.widgets.FloatInput.from_param(self.param.min_latency_ms, label="Min latency (ms)",
                                             width=140, step=100),
            pn.widgets.Select.from_param(self.param.order_by, label="Order by", width=120),
            sizing_mode="stretch_width",
        )  # fmt: skip
        return pn.Column(controls, self.results, self.pager, self.trace_view,
                         sizing_mode="stretch_width")  # fmt: skip
