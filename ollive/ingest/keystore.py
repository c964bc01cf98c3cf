"""API keys stored hashed in the warehouse (``api_keys``), and the cached ring ingest uses.

A key reads ``olk_<key_id>_<secret>``. The warehouse keeps the key_id, the project, a random
salt and ``SHA-256(salt || secret)``: never the key. :func:`create_key` returns the key once;
:func:`revoke_key` writes a newer version of the row with ``revoked = 1``.

Ingest replicas hold a :class:`StoredKeyRing`: the embedded static keys (by default the demo
key ``ollive-demo`` -> project ``demo``) plus every active stored key, reloaded from the
warehouse every ``refresh_s`` seconds (5 by default) by a daemon thread, so a revocation is
effective within ``refresh_s`` plus one query. When a reload fails the last known table is
kept (logged), so a warehouse outage does not lock every client out.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pyarrow as pa

from ollive.errors import AuthError, ConfigError
from ollive.ingest.keys import KeyRing

if TYPE_CHECKING:  # pragma: no cover
    from ollive.store.base import Warehouse

__all__ = [
    "KEY_TABLE",
    "ApiKey",
    "StoredKeyRing",
    "create_key",
    "list_keys",
    "revoke_key",
]

log = logging.getLogger(__name__)

KEY_TABLE = "api_keys"
_PREFIX = "olk"
_KEY = re.compile(r"^olk_([0-9a-f]{16})_([A-Za-z0-9_-]{20,})$")
_PROJECT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_SCHEMA = pa.schema(
    [
        ("key_id", pa.string()),
        ("project", pa.string()),
        ("name", pa.string()),
        ("salt", pa.string()),
        ("key_hash", pa.string()),
        ("created_at", pa.timestamp("ms", tz="UTC")),
        ("revoked", pa.uint8()),
        ("revoked_at", pa.timestamp("ms", tz="UTC")),
        ("version", pa.uint64()),
    ]
)


@dataclass(frozen=True, slots=True)
class ApiKey:
    """One stored key (never the secret): what ``ollive keys list`` shows."""

    key_id: str
    project: str
    name: str
    created_at: datetime
    revoked: bool
    revoked_at: datetime | None
    salt: str = ""
    key_hash: str = ""
    version: int = 1


def _hash(salt: str, secret: str) -> str:
    return hashlib.sha256(bytes.fromhex(salt) + secret.encode()).hexdigest()


def _insert(warehouse: Warehouse, key: ApiKey) -> None:
    row = {
        "key_id": [key.key_id],
        "project": [key.project],
        "name": [key.name],
        "salt": [key.salt],
        "key_hash": [key.key_hash],
        "created_at": [key.created_at],
        "revoked": [int(key.revoked)],
        "revoked_at": [key.revoked_at],
        "version": [key.version],
    }
    warehouse.insert_arrow(KEY_TABLE, pa.table(row, schema=_SCHEMA))


def create_key(warehouse: Warehouse, project: str, name: str = "") -> tuple[ApiKey, str]:
    """Create a key for ``project``; returns the stored record and the key (shown once)."""
    if not _PROJECT.match(project):
        raise ConfigError(
            f"invalid project name {project!r}: use 1-64 letters, digits, '_', '.', '-'"
        )
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    salt = secrets.token_hex(16)
    record = ApiKey(
        key_id, project, name, datetime.now(UTC), False, None, salt, _hash(salt, secret)
    )
    _insert(warehouse, record)
    return record, f"{_PREFIX}_{key_id}_{secret}"


def list_keys(warehouse: Warehouse, project: str | None = None) -> list[ApiKey]:
    """Every stored key (latest version of each), oldest first; only ``project``'s if given."""
    from ollive.store.quoting import sql_literal

    where = f"WHERE project = {sql_literal(project)}" if project is not None else ""
    rows = warehouse.query_arrow(
        "SELECT key_id, project, name, created_at, revoked, revoked_at, salt, key_hash, version "
        f"FROM {KEY_TABLE} FINAL {where} ORDER BY created_at, key_id"
    ).to_pylist()
    return [
        ApiKey(
            r["key_id"],
            r["project"],
            r["name"],
            r["created_at"],
            bool(r["revoked"]),
            r["revoked_at"],
            r["salt"],
            r["key_hash"],
            int(r["version"]),
        )
        for r in rows
    ]


def revoke_key(warehouse: Warehouse, key_id: str, project: str | None = None) -> ApiKey:
    """Revoke a key by its id (``ollive keys list`` shows ids); raises ConfigError if unknown."""
    found = [k for k in list_keys(warehouse, project) if k.key_id == key_id]
    if not found:
        where = f" in project {project!r}" if project else ""
        raise ConfigError(f"no API key {key_id!r}{where}; `ollive keys list` shows the ids")
    key = found[0]
    if key.revoked:
        return key
    revoked = ApiKey(
        key.key_id,
        key.project,
        key.name,
        key.created_at,
        True,
        datetime.now(UTC),
        key.salt,
        key.key_hash,
        key.version + 1,
    )
    _insert(warehouse, revoked)
    return revoked


class StoredKeyRing(KeyRing):
    """A :class:`KeyRing` that also knows the active keys stored in the warehouse.

    ``warehouse`` is a warehouse or a function opening one (called on first refresh, e.g.
    on the refresh thread of a Serve replica, where the actor proxy may block).

    ``static`` keys (default: the embedded demo key) always resolve; stored keys come from
    the last :meth:`refresh`. :meth:`start` runs refreshes every ``refresh_s`` on a daemon
    thread; :meth:`stop` ends it.
    """

    def __init__(
        self,
        warehouse: Warehouse | Callable[[], Warehouse],
        static: Mapping[str, str] | None = None,
        refresh_s: float = 5.0,
    ) -> None:
        super().__init__(static)
        self._warehouse_or_factory = warehouse
        self._warehouse: Warehouse | None = None
        self.refresh_s = refresh_s
        self._stored: dict[str, ApiKey] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def refresh(self) -> int:
        """Reload the active stored keys now; returns how many there are."""
        if self._warehouse is None:
            source = self._warehouse_or_factory
            self._warehouse = source() if callable(source) else source
        keys = {k.key_id: k for k in list_keys(self._warehouse) if not k.revoked}
        self._stored = keys
        return len(keys)

    def start(self) -> StoredKeyRing:
        """Load once (failures logged), then refresh every ``refresh_s`` in the background."""
        self._refresh_logged()
        self._thread = threading.Thread(target=self._loop, name="ollive-keyring", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        while not self._stop.wait(self.refresh_s):
            self._refresh_logged()

    def _refresh_logged(self) -> None:
        try:
            self.refresh()
        except Exception as exc:  # keep the last known table; retried next period
            log.warning(
                "API key refresh failed, keeping %d cached keys: %s", len(self._stored), exc
            )

    def project_for(self, authorization: str | None) -> str:
        """The project of ``Bearer <key>``: a static key, else an active stored key."""
        try:
            return super().project_for(authorization)
        except AuthError:
            scheme, _, key = (authorization or "").strip().partition(" ")
            match = _KEY.match(key.strip()) if scheme.lower() == "bearer" else None
            stored = self._stored.get(match[1]) if match else None
            if (
                match
                and stored
                and hmac.compare_digest(_hash(stored.salt, match[2]), stored.key_hash)
            ):
                return stored.project
            raise
