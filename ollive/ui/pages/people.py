"""The users and sessions pages: who did what in the window, heaviest first, and one in detail."""

from __future__ import annotations

from typing import Any, ClassVar

import pandas as pd
import panel as pn
import param

import ollive.insights as oi
from ollive.insights.people import PEOPLE_ORDERS
from ollive.ui._frames import Section, hint, shorten, table
from ollive.ui.pages._page import Page, Pager

__all__ = ["Sessions", "Users"]

_ORDERS = list(PEOPLE_ORDERS)
_FIGURES = {"requests": "{value:,.0f}", "errors": "{value:,.0f}", "error_rate": "{value:.1%}",
            "total_tokens": "{value:,.0f}", "cost_usd": "${value:,.4f}",
            "latency_p95_ms": "{value:,.0f} ms", "conversations": "{value:,.0f}",
            "sessions": "{value:,.0f}", "duration_s": "{value:,.0f} s"}  # fmt: skip


def figures(row: pd.Series) -> pn.FlexBox:
    """The headline numbers of one user or session, as KPI cards."""
    cards = [
        pn.indicators.Number(
            label=name.replace("_", " ").replace("usd", "USD"),
            value=float(row[name]),
            format=fmt,
            font_size="20pt",
            title_size="10pt",
            css_classes=["ollive-kpi"],
        )  # fmt: skip
        for name, fmt in _FIGURES.items()
        if name in row.index and not pd.isna(row[name])
    ]
    return pn.FlexBox(*cards)


class _Ranked(Page):
    """A ranking paged with offset/limit; selecting a row shows that one in detail below."""

    #: the id column of a row, and the parameter holding the selected id
    key: ClassVar[str] = ""
    selected: ClassVar[str] = ""

    offset = param.Integer(default=0, bounds=(0, None), doc="Rows skipped (paging).")
    page_size = param.Integer(default=25, bounds=(1, 500))

    def _build(self) -> None:
        self.ranking = Section(self.title, css=f"ollive-{self.title.lower()}")
        self.pager = Pager(self._turn)
        self.table: pn.widgets.Tabulator | None = None
        self.page = pd.DataFrame()

    def _refresh(self) -> None:
        self.load_ranking()
        self.load_detail()

    def _on_state(self, *events: param.parameterized.Event) -> None:
        if not self._ready:
            return
        names = {e.name for e in events}
        if "order_by" in names and "offset" not in names and self.offset:
            self.offset = 0  # a new order starts on its first page (this reloads)
        elif names - {self.selected}:
            self.load_ranking()
        if self.selected in names:
            self.load_detail()

    def load_ranking(self) -> None:
        """Query and show the current page of the ranking."""
        rows = self.ranking.load(self._rank, self._render)
        self.page = rows.iloc[: self.page_size] if rows is not None else self.page.iloc[0:0]
        self.pager.position(self.offset, len(self.page),
                        rows is not None and len(rows) > self.page_size)  # fmt: skip

    def load_detail(self) -> None:
        """Query and show the selected row's detail."""
        raise NotImplementedError

    def _rank(self) -> pd.DataFrame:
        raise NotImplementedError

    def _render(self, df: pd.DataFrame) -> Any:
        shown = df.iloc[: self.page_size]
        if "models" in shown.columns:
            shown = shown.assign(models=shown["models"].map(lambda m: ", ".join(sorted(m))))
        self.table = table(shown, page_size=self.page_size, selectable=1, paginate=False,
                           css=(f"ollive-{self.title.lower()}-table",),
                           **self.link_to(*(c for c in ("user_id",) if c != self.key)))  # fmt: skip
        self.table.param.watch(lambda e: self.select(e.new[0]) if e.new else None, "selection")
        return self.table

    def select(self, index: int) -> None:
        """Show row ``index`` of the current page in detail."""
        setattr(self, self.selected, str(self.page.iloc[index][self.key]))

    def _turn(self, pages: int) -> None:
        self.offset = max(0, self.offset + pages * self.page_size)

    def _controls(self) -> pn.viewable.Viewable:
        return pn.Row(
            pn.widgets.Select.from_param(self.param.order_by, label="Order by", width=140),
            pn.widgets.TextInput.from_param(self.param[self.selected], width=260),
        )


class Users(_Ranked):
    """``Users(con)``: users ranked by requests (cost, tokens, errors, latency, last seen),
    and the selected ``user``: their figures, sessions and latest events.
    ``Users(con, query={"user": "user-42"})`` as the served ``/users?user=user-42``."""

    title = "Users"
    route = "/users"
    key = "user_id"
    selected = "user"
    url_params = {"user": "user", "order_by": "order", "offset": "offset"}

    user = param.String(default="", doc="The user shown in detail ('' for none).")
    order_by: param.Selector = param.Selector(default="requests", objects=_ORDERS)

    def _build(self) -> None:
        super()._build()
        self.summary = Section("User", css="ollive-user")
        self.sessions = Section("Their sessions", css="ollive-user-sessions")
        self.events = Section("Their latest events", css="ollive-user-events")

    def _rank(self) -> pd.DataFrame:
        return oi.users(self.con, self.filter_bar.filters, order_by=self.order_by,
                        limit=self.page_size + 1, offset=self.offset)  # fmt: skip

    def load_detail(self) -> None:
        if not self.user:
            for section in (self.summary, self.sessions, self.events):
                section.replace(hint("Select a user above (or name one)."))
            return
        f = oi.Filters.of(self.filter_bar.filters, user=self.user)
        self.summary.title = f"User {self.user}"
        self.summary.load(lambda: oi.users(self.con, f, limit=1), lambda df: figures(df.iloc[0]),
                          empty=f"No activity of {self.user} in this window.")  # fmt: skip
        self.sessions.load(lambda: oi.sessions(self.con, f, limit=50),
                           lambda df: table(df, **self.link_to("session_id")))  # fmt: skip
        self.events.load(
            lambda: oi.search(self.con, None, f, limit=25),
            lambda df: table(shorten(df, ("input", "output", "error_message"), 80),
                             **self.link_to("trace_id", "session_id")),
        )  # fmt: skip

    def _layout(self) -> pn.viewable.Viewable:
        return pn.Column(self._controls(), self.ranking, self.pager, self.summary, self.sessions,
                         self.events, sizing_mode="stretch_width")  # fmt: skip


class Sessions(_Ranked):
    """``Sessions(con)``: sessions, most recent first (or by requests, cost ...), and the
    selected ``session``: its figures and its timeline (every event in order).
    ``Sessions(con, query={"session": "..."})`` as the served ``/sessions?session=...``."""

    title = "Sessions"
    route = "/sessions"
    key = "session_id"
    selected = "session"
    url_params = {"session": "session", "order_by": "order", "offset": "offset"}

    session = param.String(default="", doc="The session shown in detail ('' for none).")
    order_by: param.Selector = param.Selector(default="last_seen", objects=_ORDERS)

    def _build(self) -> None:
        super()._build()
        self.summary = Section("Session", css="ollive-session")
        self.timeline = Section("Timeline", css="ollive-session-timeline")

    def _rank(self) -> pd.DataFrame:
        return oi.sessions(self.con, self.filter_bar.filters, order_by=self.order_by,
                           limit=self.page_size + 1, offset=self.offset)  # fmt: skip

    def load_detail(self) -> None:
        if not self.session:
            for section in (self.summary, self.timeline):
                section.replace(hint("Select a session above (or name one)."))
            return
        f, session = self.filter_bar.filters, self.session
        self.summary.title = f"Session {session}"
        self.summary.load(lambda: oi.sessions(self.con, f, session=session, limit=1),
                          lambda df: figures(df.iloc[0]),
                          empty=f"No activity in session {session} in this window.")  # fmt: skip
        columns = ["timestamp", "kind", "name", "status", "latency_ms", "total_tokens",
                   "cost_usd", "value", "text", "conversation_id", "request_id"]  # fmt: skip
        self.timeline.load(
            lambda: oi.timeline(self.con, session_id=session),
            lambda df: table(shorten(df[columns], ("text",)), page_size=15, remote=True,
                             css=("ollive-timeline",)),
        )  # fmt: skip

    def _layout(self) -> pn.viewable.Viewable:
        return pn.Column(self._controls(), self.ranking, self.pager, self.summary, self.timeline,
                         sizing_mode="stretch_width")  # fmt: skip
