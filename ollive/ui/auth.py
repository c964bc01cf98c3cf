"""The dashboard's login: the configured ``user:password``, or one made when API keys exist.

The wiring decides whether keys are configured (it reads the key store); this module makes
the password and keeps it where the operator finds it (``$OLLIVE_HOME/dashboard.auth``).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

__all__ = ["DashboardLogin", "dashboard_login"]


@dataclass(frozen=True)
class DashboardLogin:
    """``user:password`` for basic auth; ``path`` is set when the login was generated now."""

    auth: str
    path: Path | None = None


def dashboard_login(
    configured: str | None, home: Path, keys_configured: bool
) -> DashboardLogin | None:
    """``configured`` (``OLLIVE_DASHBOARD_AUTH``) when set; else, when API keys are
    configured, a generated ``admin:<random>`` written to ``home/dashboard.auth`` (mode
    0600); else None (the embedded default: only the demo key, no login)."""
    if configured:
        return DashboardLogin(configured)
    if not keys_configured:
        return None
    login = f"admin:{secrets.token_urlsafe(18)}"
    path = home / "dashboard.auth"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(login + "\n", "utf-8")
    return DashboardLogin(login, path)
