"""The base of every page: a connection, a shared filter bar, a timed refresh, URL state."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import panel as pn
import param

from ollive.ui.filters import FILTER_PARAMS, FilterBar

__all__ = ["ANY", "Page", "Pager"]

#: the "no filter" choice of a page's selectors
ANY = "(any)"


class Page(pn.viewable.Viewer):
    """A page of the explorer, shown inline in a notebook or served at :attr:`route`.

    ``Page(con, filter_bar=None)``: pages given the same :class:`FilterBar` follow the same
    window/service/provider/model. :meth:`refresh` re-queries everything the page shows and
    records how long it took in ``last_refresh_s``; ``refresh_s`` > 0 refreshes periodically
    while the page is displayed. A page's own state (a search, the open trace, the selected
    user ...) is in parameters named by :attr:`url_params`, which the served app keeps in the
    URL's query string (:meth:`apply_query` / :attr:`query`).
    """

    #: the page's title (the sidebar's link text)
    title: ClassVar[str] = ""
    #: the URL path the served app shows the page at
    route: ClassVar[str] = "/"
    #: parameter name -> URL query key, for the page's own state
    url_params: ClassVar[dict[str, str]] = {}

    refresh_s = param.Number(
        default=0.0, bounds=(0, None), doc="Seconds between refreshes while shown (0: off)."
    )
    last_refresh_s = param.Number(default=0.0, doc="Duration of the last full refresh (s).")
    links = param.Boolean(
        default=False, doc="Ids link to the served pages (set by the served app)."
    )

    def __init__(
        self,
        con: Any,
        filter_bar: FilterBar | None = None,
        *,
        query: Mapping[str, str] | None = None,
        **params: Any,
    ) -> None:
        super().__init__(**params)
        self.con = con
        self.filter_bar = filter_bar or FilterBar(con)
        self._ready = False  # parameter watchers wait for the first refresh
        self._callback: Any = None
        started = time.perf_counter()  # the first refresh: building and querying
        self._build()
        if query:
            self.apply_query(query)
        self.filter_bar.param.watch(lambda *_: self._on_filters(), list(FILTER_PARAMS))
        if self.url_params:
            self.param.watch(self._on_state, list(self.url_params))
        self._refresh()
        self.last_refresh_s = time.perf_counter() - started
        self._ready = True

    # -- what a page implements -------------------------------------------------------

    def _build(self) -> None:
        """Create the page's widgets and sections (no query yet)."""

    def _refresh(self) -> None:
        """Re-query and redraw everything the page shows."""
        raise NotImplementedError

    def _layout(self) -> pn.viewable.Viewable:
        raise NotImplementedError

    def _on_filters(self) -> None:
        """The filter bar changed (default: a full refresh)."""
        self.refresh()

    def _on_state(self, *events: param.parameterized.Event) -> None:
        """One of :attr:`url_params` changed (default: a full refresh)."""
        if self._ready:
            self.refresh()

    # -- the public face --------------------------------------------------------------

    def refresh(self) -> None:
        """Re-query everything the page shows now."""
        started = time.perf_counter()
        self._refresh()
        self.last_refresh_s = time.perf_counter() - started

    def link_to(self, *columns: str) -> dict[str, Any]:
        """Table options that link these id columns (``trace_id``, ``user_id``,
        ``session_id``) to the served pages showing them, keeping the filters (only with
        ``links``: inline in a notebook there is no page to go to)."""
        return {"link": columns if self.links else (), "link_query": self.filter_bar.query}

    @property
    def query(self) -> dict[str, str]:
        """The page's own state as URL query parameters (only what differs from defaults)."""
        out = {}
        for name, key in self.url_params.items():
            value = getattr(self, name)
            if value != self.param[name].default and value is not None:
                out[key] = _text(value)
        return out

    def apply_query(self, query: Mapping[str, str]) -> list[str]:
        """Set the page's state from URL query parameters (``{"trace_id": "..."}`` ...);
        a value the parameter refuses is skipped, and its key returned."""
        skipped = []
        with param.parameterized.batch_call_watchers(self):  # one change: one refresh
            for name, key in self.url_params.items():
                if key not in query:
                    continue
                try:
                    value = _parse(self.param[name], query[key])
                    if value != getattr(self, name):
                        setattr(self, name, value)
                except (TypeError, ValueError):  # param refuses a value of the wrong kind
                    skipped.append(key)
        return skipped

    def __panel__(self) -> pn.viewable.Viewable:
        if self.refresh_s and self._callback is None:
            self._callback = pn.state.add_periodic_callback(
                self.refresh, period=int(self.refresh_s * 1000)
            )
        return self._layout()


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _parse(parameter: param.Parameter, text: str) -> Any:
    """A URL value as the parameter's type."""
    if isinstance(parameter, param.Integer):
        return int(text)
    if isinstance(parameter, param.Number):
        return float(text)
    return str(text)


class Pager(pn.viewable.Viewer):
    """Previous/Next buttons over a query paged with offset/limit: ``turn(-1 | +1)`` is
    called on a click; :meth:`position` tells it where the page is."""

    def __init__(self, turn: Callable[[int], None], **params: Any) -> None:
        super().__init__(**params)
        self._previous = pn.widgets.Button(label="◀ Previous", width=110, disabled=True)
        self._next = pn.widgets.Button(label="Next ▶", width=110, disabled=True)
        self._position = pn.pane.Markdown("", margin=(5, 10))
        self._previous.on_click(lambda _: turn(-1))
        self._next.on_click(lambda _: turn(+1))

    def position(self, offset: int, shown: int, has_next: bool) -> None:
        """The page shows ``shown`` rows from ``offset``; ``has_next``: more follow."""
        self._previous.disabled = offset == 0
        self._next.disabled = not has_next
        self._position.object = f"rows {offset + 1:,}–{offset + shown:,}" if shown else ""

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Row(self._previous, self._next, self._position, css_classes=["ollive-pager"])
