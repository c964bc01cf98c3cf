"""What every component and page shares: tables, the empty state, a titled section."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode

import pandas as pd
import panel as pn
import param

__all__ = [
    "EMPTY",
    "LINKS",
    "Section",
    "empty_state",
    "hint",
    "naive_utc",
    "rounded",
    "shorten",
    "table",
]

log = logging.getLogger(__name__)
EMPTY = "No data in this window yet. Send events with the SDK, or run `ollive seed`."
#: characters of a text column shown in a table cell (the detail view shows all of it)
CELL_CHARS = 120


def naive_utc(df: pd.DataFrame) -> pd.DataFrame:
    """Timestamps as naive UTC (plotting and table libraries handle those best)."""
    out = df.copy()
    for column in out.columns:
        if isinstance(out[column].dtype, pd.DatetimeTZDtype):
            out[column] = out[column].dt.tz_convert(None)
    return out


def shorten(df: pd.DataFrame, columns: tuple[str, ...], chars: int = CELL_CHARS) -> pd.DataFrame:
    """``df`` with the text ``columns`` cut to ``chars`` characters (for table cells)."""
    out = df.copy()
    for column in columns:
        if column in out.columns:
            text = out[column].fillna("").astype(str)
            out[column] = text.where(text.str.len() <= chars, text.str.slice(0, chars - 1) + "…")
    return out


def rounded(df: pd.DataFrame, digits: int = 4) -> pd.DataFrame:
    """``df`` with its float columns rounded to ``digits`` (for table cells)."""
    floats = df.select_dtypes("floating").columns
    return df.round({column: digits for column in floats})


def table(
    df: pd.DataFrame,
    *,
    page_size: int = 10,
    remote: bool = False,
    css: tuple[str, ...] = (),
    link: tuple[str, ...] = (),
    link_query: Mapping[str, str] | None = None,
    paginate: bool = True,
    **kw: Any,
) -> pn.widgets.Tabulator:
    """A read-only table, paginated when longer than ``page_size`` (``remote``: only the
    shown page goes to the browser, for tables that can be long; ``paginate=False``: the
    rows are one page already). ``link``: these id columns (of :data:`LINKS`) link to the
    served page that shows them, with ``link_query`` (the filters) in the URL too."""
    df = naive_utc(df)
    if link:
        df, kw = _linked(df, link, link_query or {}, kw)
    return pn.widgets.Tabulator(df, disabled=True, show_index=False,
                                pagination=(("remote" if remote else "local")
                                            if paginate and len(df) > page_size else None),
                                page_size=page_size,
                                sizing_mode="stretch_width", css_classes=["ollive-table", *css],
                                **kw)  # fmt: skip


#: columns that name something another page shows, and that page's URL
LINKS = {"trace_id": ("traces", "trace_id"), "user_id": ("users", "user"),
         "session_id": ("sessions", "session")}  # fmt: skip


def _linked(
    df: pd.DataFrame, columns: tuple[str, ...], query: Mapping[str, str], kw: dict[str, Any]
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """``df`` with a hidden URL column per id column, shown as a link (URL-encoded ids)."""
    formatters, hidden = dict(kw.pop("formatters", {})), list(kw.pop("hidden_columns", []))
    out = df.copy()
    for column in columns:
        if column not in out.columns or column not in LINKS:
            continue
        page, key = LINKS[column]
        url = f"_{column}_url"
        out[url] = [f"./{page}?{urlencode({key: v, **query})}" if v else ""
                    for v in out[column].fillna("")]  # fmt: skip
        formatters[column] = {"type": "link", "urlField": url, "target": "_self"}
        hidden.append(url)
    return out, {**kw, "formatters": formatters, "hidden_columns": hidden}


def empty_state(text: str = EMPTY) -> pn.pane.Alert:
    """The message shown instead of a chart or table when there is nothing to show."""
    return pn.pane.Alert(text, alert_type="info", css_classes=["ollive-empty"])


def failure(text: str) -> pn.pane.Alert:
    """A failed query, shown in place of what it would have shown."""
    return pn.pane.Alert(text, alert_type="danger", css_classes=["ollive-error"])


def hint(text: str) -> pn.pane.Alert:
    """What to do next (select a row ...), where a view has nothing to show yet."""
    return pn.pane.Alert(text, alert_type="light", css_classes=["ollive-hint"])


class Section(pn.viewable.Viewer):
    """A titled card that a page fills: :meth:`load` runs a query and renders its rows, or
    shows the empty state (no rows) or the error (a failing query) in place."""

    title = param.String(default="")
    rows = param.Integer(default=0, doc="Rows of the last load (0: empty state shown).")

    def __init__(self, title: str, css: str = "", **params: Any) -> None:
        super().__init__(title=title, **params)
        self._body = pn.Column(sizing_mode="stretch_width", min_height=40)
        self._css = ["ollive-section", *([css] if css else [])]

    def load(
        self,
        query: Callable[[], pd.DataFrame],
        render: Callable[[pd.DataFrame], Any],
        empty: str | pn.viewable.Viewable = EMPTY,
    ) -> pd.DataFrame | None:
        """Run ``query`` and show ``render(rows)``, or ``empty`` (a message for the empty
        state, or what to show instead) when it has no rows; returns the rows (None if it
        failed)."""
        try:
            df = query()
            if len(df):
                shown = render(naive_utc(df))
            else:
                shown = empty_state(empty) if isinstance(empty, str) else empty
        except Exception as exc:  # a dashboard keeps running: show the failure in place
            log.exception("%s failed", self.title)
            self.replace(failure(f"{self.title}: {exc}"))
            self.rows = 0
            return None
        self.rows = len(df)
        self.replace(shown)
        return df

    def replace(self, *objects: Any) -> None:
        """Replace the section's content."""
        self._body[:] = list(objects)

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Card(self._body, title=self.title, collapsible=False,
                       sizing_mode="stretch_width", css_classes=self._css)  # fmt: skip
