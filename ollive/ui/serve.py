"""Serve the dashboard with Panel (what ``ollive dashboard`` runs)."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import panel as pn

__all__ = ["serve_dashboard"]


def serve_dashboard(
    warehouse_url: str | None = None,
    port: int = 5006,
    address: str = "127.0.0.1",
    auth: str | None = None,
    project: str | None = None,
    refresh_s: float = 60.0,
    show: bool = False,
) -> None:
    """Serve :class:`~ollive.ui.Dashboard` on ``address:port`` until interrupted.

    Each browser session gets its own :class:`Dashboard` (the very object a notebook
    shows) over one shared connection; every resource is served locally (no CDN). ``auth`` is
    ``"user:password"`` for basic auth (a login page), None for none. ``GET /liveness``
    answers as soon as the server listens (what a supervisor waits for).
    """
    from ollive.store import connect
    from ollive.ui.dashboard import Dashboard

    con = connect(warehouse_url, project=project)
    pn.extension("tabulator", sizing_mode="stretch_width", notifications=False)

    def app() -> Any:  # the notebook object itself; no template (they pull web fonts)
        return Dashboard(con, refresh_s=refresh_s)

    options: dict[str, Any] = {}
    if auth:
        user, _, password = auth.partition(":")
        options.update(
            basic_auth={user: password},
            cookie_secret=secrets.token_hex(16),
            login_template=str(Path(__file__).with_name("_login.html")),
        )  # no CDN logo
    pn.serve({"/": app}, port=port, address=address, show=show, title="Ollive", liveness=True,
             websocket_origin=[f"{address}:{port}", f"localhost:{port}"], **options)  # fmt: skip
