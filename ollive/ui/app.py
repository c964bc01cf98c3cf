"""The served app: every page at its own URL, in a layout with a sidebar of links, its state
in the URL's query string.

- ``/`` overview, ``/traces``, ``/sessions``, ``/users``, ``/tools``, ``/scores``,
  ``/experiments``, ``/alerts``, ``/health`` (:data:`~ollive.ui.pages.PAGES`).
- The filter bar's ``window``/``service``/``provider``/``model`` and the page's own state
  (:attr:`Page.url_params <ollive.ui.pages.Page.url_params>`: ``q``/``trace_id`` on traces,
  ``user``, ``session`` ...) are read from the URL when a page opens and written back to it
  (``history.pushState`` through ``pn.state.location``) on every change, so a URL reopens
  the same view; the sidebar's links carry the filters, so moving between pages keeps them.

Panel's Bootstrap template is the layout: it serves every resource itself (checked in
Chromium by tests/ui/test_browser.py); the Fast, Material and Vanilla templates fetch web
fonts from fonts.googleapis.com, which an offline or locked-down deployment cannot reach.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

import panel as pn

from ollive.insights import AlertRule
from ollive.ui.filters import FILTER_PARAMS, FilterBar
from ollive.ui.pages import PAGES, Alerts, Page

__all__ = ["PageApp", "page_href", "parse_query"]

# scoped to the sidebar's HTML pane (its shadow root)
_CSS = """
nav { display: flex; flex-direction: column; width: 100%; }
a { display: block; padding: 6px 12px; margin: 2px 0; border-radius: 6px;
    text-decoration: none; color: inherit; font-size: 15px; }
a:hover { background: rgba(0, 0, 0, 0.06); }
a.active { background: #0072b5; color: white; font-weight: 600; }
"""


def parse_query(args: Mapping[str, Any]) -> dict[str, str]:
    """A request's query arguments (Tornado's ``{key: [bytes, ...]}``, as in
    ``pn.state.session_args``, or ``{key: str}``) as ``{key: last value}``."""
    out = {}
    for key, value in args.items():
        if isinstance(value, list | tuple):
            if not value:
                continue
            value = value[-1]
        out[key] = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    return out


def page_href(route: str, query: Mapping[str, str] | None = None) -> str:
    """The relative link to ``route`` with ``query`` (``./traces?window=7d``)."""
    path = "./" + route.lstrip("/")
    return path + ("?" + urlencode(dict(query)) if query else "")


class PageApp:
    """One browser session's view of one page: the template, its sidebar, the URL state.

    ``PageApp(Traces, con, query={"q": "refund"}).template`` is what ``serve_dashboard``
    serves at ``/traces?q=refund``.
    """

    def __init__(
        self,
        page: type[Page],
        con: Any,
        *,
        query: Mapping[str, str] | None = None,
        refresh_s: float = 0.0,
        rules: Sequence[AlertRule] = (),
    ) -> None:
        query = dict(query or {})
        self.filter_bar = FilterBar(con)
        self.filter_bar.apply_query(query)
        extra: dict[str, Any] = {"rules": rules} if page is Alerts else {}
        self.page = page(
            con, self.filter_bar, query=query, refresh_s=refresh_s, links=True, **extra
        )
        self._nav = pn.pane.HTML(self._nav_html(), css_classes=["ollive-nav"],
                                 stylesheets=[_CSS], sizing_mode="stretch_width")  # fmt: skip
        self.filter_bar.param.watch(self._on_change, list(FILTER_PARAMS))
        if page.url_params:
            self.page.param.watch(self._on_change, list(page.url_params))
        self._last_search = self.search

    @property
    def query(self) -> dict[str, str]:
        """The view's state as URL query parameters: the filters and the page's own."""
        return {**self.filter_bar.query, **self.page.query}

    @property
    def search(self) -> str:
        """The URL's query string of this view (``""`` or ``"?key=value..."``)."""
        query = self.query
        return "?" + urlencode(query) if query else ""

    def _nav_html(self) -> str:
        links = []
        for cls in PAGES:
            active = ' class="active"' if cls is type(self.page) else ""
            href = html.escape(page_href(cls.route, self.filter_bar.query))
            links.append(f'<a href="{href}"{active}>{html.escape(cls.title)}</a>')
        return "<nav>" + "".join(links) + "</nav>"

    def _on_change(self, *_: Any) -> None:
        self._nav.object = self._nav_html()
        search = self.search
        location = pn.state.location
        if location is not None and search != self._last_search:
            self._last_search = search
            location.search = search  # the browser's URL follows (history.pushState)

    @property
    def template(self) -> pn.template.BootstrapTemplate:
        """The page in the layout: title bar, sidebar of links, filter bar over the page."""
        return pn.template.BootstrapTemplate(
            title=f"Ollive · {self.page.title}",
            sidebar=[self._nav],
            main=[self.filter_bar, self.page],
            sidebar_width=200,
        )
