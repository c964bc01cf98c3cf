"""API keys -> projects: who is sending, read from ``Authorization: Bearer <key>``.

The embedded default knows one key, :data:`~ollive.config.DEMO_API_KEY` (``ollive-demo``),
which belongs to the project :data:`~ollive.config.DEMO_PROJECT` (``demo``). Key management
(hashing, rotation, revocation) comes with the hardening issue; until then a deployment
passes its own mapping.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping

from ollive.config import DEMO_API_KEY, DEMO_PROJECT
from ollive.errors import AuthError

__all__ = ["KeyRing"]


class KeyRing:
    """Maps API keys to project names; :meth:`project_for` raises :class:`AuthError`."""

    def __init__(self, keys: Mapping[str, str] | None = None) -> None:
        self._keys = dict(keys) if keys is not None else {DEMO_API_KEY: DEMO_PROJECT}

    def project_for(self, authorization: str | None) -> str:
        """The project of an ``Authorization`` header value (``Bearer <key>``)."""
        if not authorization:
            raise AuthError("missing API key: send `Authorization: Bearer <key>`")
        scheme, _, key = authorization.strip().partition(" ")
        key = key.strip()
        if scheme.lower() != "bearer" or not key:
            raise AuthError("malformed Authorization header: expected `Bearer <key>`")
        for known, project in self._keys.items():
            if hmac.compare_digest(known.encode(), key.encode()):
                return project
        raise AuthError("unknown API key")
