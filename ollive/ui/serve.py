"""Serve the dashboard with Panel (what ``ollive dashboard`` runs): one URL per page."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

import panel as pn

__all__ = ["alert_rules_for", "serve_dashboard"]


def serve_dashboard(
    warehouse_url: str | None = None,
    port: int = 5006,
    address: str = "127.0.0.1",
    auth: str | None = None,
    project: str | None = None,
    refresh_s: float = 60.0,
    show: bool = False,
    alert_rules: str | Path | None = None,
) -> None:
    """Serve the explorer's pages on ``address:port`` until interrupted: ``/`` overview,
    ``/traces``, ``/sessions``, ``/users``, ``/tools``, ``/scores``, ``/experiments``,
    ``/alerts``, ``/health``.

    Each browser session gets its own page (the very object a notebook shows) over one
    shared connection, in a sidebar layout; the filters and the page's state live in the
    URL (see :mod:`ollive.ui.app`); every resource is served locally (no CDN). ``auth`` is
    ``"user:password"`` for basic auth (a login page), None for none. ``alert_rules``: a
    rules file (:func:`~ollive.insights.load_rules`) the alerts page evaluates (default
    ``OLLIVE_ALERT_RULES_FILE``, what the platform's alert evaluator runs). ``GET
    /liveness`` answers as soon as the server listens (what a supervisor waits for).
    """
    from ollive.store import connect
    from ollive.ui.pages import PAGES

    con = connect(warehouse_url, project=project)
    rules = alert_rules_for(alert_rules)
    pn.extension("tabulator", sizing_mode="stretch_width", notifications=False)
    routes = {cls.route: _route(cls, con, refresh_s, rules) for cls in PAGES}

    options: dict[str, Any] = {}
    if auth:
        user, _, password = auth.partition(":")
        options.update(
            basic_auth={user: password},
            cookie_secret=secrets.token_hex(16),
            login_template=str(Path(__file__).with_name("_login.html")),
        )  # no CDN logo
    pn.serve(routes, port=port, address=address, show=show, title="Ollive", liveness=True,
             websocket_origin=[f"{address}:{port}", f"localhost:{port}"], **options)  # fmt: skip


def _route(page: Any, con: Any, refresh_s: float, rules: list[Any]) -> Callable[[], Any]:
    """The session factory of one page: its state from the request's query string."""
    from ollive.ui.app import PageApp, parse_query

    def app() -> Any:
        query = parse_query(pn.state.session_args)
        return PageApp(page, con, query=query, refresh_s=refresh_s, rules=rules).template

    return app


def alert_rules_for(path: str | Path | None) -> list[Any]:
    """The rules the alerts page evaluates: ``path``'s, else ``OLLIVE_ALERT_RULES_FILE``'s
    (the file the platform's alert evaluator runs), else none (anomalies only)."""
    from ollive.config import get_settings
    from ollive.insights import load_rules

    chosen = path or get_settings().alert_rules_file
    return load_rules(chosen) if chosen else []
