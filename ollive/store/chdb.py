"""The embedded warehouse: chDB (the ClickHouse engine in-process) on a data directory.

chDB allows one data directory per process, and one process per directory. On a running
platform the directory is held by the warehouse actor, and every other process goes through
:class:`~ollive.store.actor.ActorWarehouse` (``ollive.connect()`` does so by itself).
"""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path

import pyarrow as pa

from ollive.errors import StorageError, WarehouseLockedError
from ollive.store.base import Warehouse
from ollive.store.quoting import column_list

__all__ = ["ChdbWarehouse"]

_CODE = re.compile(r"Code: (\d+)")
_open_lock = threading.Lock()
_open_path: Path | None = None  # chDB holds one directory per process


class ChdbWarehouse(Warehouse):
    """chDB on ``path`` (created if missing). Thread-safe; one instance per process."""

    engine = "chdb"

    def __init__(self, path: str | os.PathLike[str]) -> None:
        super().__init__()
        global _open_path
        self.path = Path(path).expanduser().resolve()
        self.url = f"chdb://{self.path}"
        self._lock = threading.RLock()
        with _open_lock:
            if _open_path is not None and _open_path != self.path:
                raise StorageError(
                    f"this process already holds the chDB directory {_open_path}; chDB allows "
                    "one directory per process. Close that warehouse first."
                )
            self.path.mkdir(parents=True, exist_ok=True)
            _check_not_locked(self.path)
            from chdb import session

            try:
                self._session = session.Session(str(self.path))
                self._session.query("SELECT 1")
            except Exception as exc:
                raise _translate_open_error(exc, self.path) from exc
            _open_path = self.path
        self._closed = False

    def command(self, sql: str) -> None:
        self._run(sql, "CSV")

    def query_arrow(self, sql: str) -> pa.Table:
        result = self._run(sql, "ArrowTable")
        return result if isinstance(result, pa.Table) else pa.table({})

    def _insert(self, table: str, data: pa.Table, token: str | None) -> None:
        settings = "SETTINGS deduplicate_blocks_in_dependent_materialized_views = 1"
        if token:
            settings += f", insert_deduplication_token = '{_token(token)}'"
        columns = column_list(data.column_names)
        # chDB reads the Arrow table straight from this frame's local variable `data`.
        self._run(
            f"INSERT INTO `{table}` ({columns}) {settings} SELECT {columns} FROM Python(data)",
            "CSV",
            data=data,
        )

    def _run(self, sql: str, fmt: str, data: pa.Table | None = None):  # type: ignore[no-untyped-def]
        with self._lock:
            if self._closed:
                raise StorageError(f"the chDB warehouse {self.path} is closed")
            try:
                return self._session.query(sql, fmt)
            except Exception as exc:
                code = _CODE.search(str(exc))
                raise StorageError(
                    f"chDB ({self.path}): {str(exc).strip()[:2000]}",
                    code=int(code[1]) if code else None,
                ) from exc

    def close(self) -> None:
        global _open_path
        with self._lock, _open_lock:
            if self._closed:
                return
            self._closed = True
            try:
                self._session.close()
            finally:
                if _open_path == self.path:
                    _open_path = None


def _token(token: str) -> str:
    if not re.fullmatch(r"[\w.:/-]{1,256}", token):
        raise StorageError(f"idempotency token {token!r} must be 1-256 of [A-Za-z0-9_.:/-]")
    return token


def _translate_open_error(exc: Exception, path: Path) -> StorageError:
    text = str(exc)
    if "Cannot lock file" in text or "lock" in text.lower():
        return WarehouseLockedError(_locked_message(path))
    if "already initialized" in text:
        return StorageError(
            f"this process already holds another chDB directory; cannot open {path}: {text}"
        )
    return StorageError(f"cannot open the chDB directory {path}: {text}")


def _check_not_locked(path: Path) -> None:
    """Fail with a useful message when another process holds the directory.

    The engine locks ``<dir>/status`` with flock; probing it first keeps this process's
    chDB usable (a failed open would leave it half-initialised).
    """
    import fcntl

    status = path / "status"
    if not status.exists():
        return
    with open(status, "rb") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise _translate_open_error(RuntimeError("Cannot lock file"), path) from None
        fcntl.flock(handle, fcntl.LOCK_UN)


def _lock_holder(path: Path) -> int | None:
    """The pid the engine wrote into ``<dir>/status`` when it opened the directory."""
    try:
        text = (path / "status").read_text(errors="replace")
    except OSError:
        return None
    match = re.search(r"PID:\s*(\d+)", text)
    return int(match[1]) if match else None


def _command_of(pid: int) -> str | None:
    """What ``pid`` runs, as ``ps`` would show it (Linux ``/proc``); None when unknown."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    words = [w.decode(errors="replace") for w in raw.split(b"\0") if w]
    if words and words[0].startswith("ray::"):
        return words[0]  # a Ray worker names its actor
    return " ".join(Path(w).name if i == 0 else w for i, w in enumerate(words))[:160] or None


def _locked_message(path: Path) -> str:
    """Who holds ``path`` and how to reach its data from this process."""
    pid = _lock_holder(path)
    command = _command_of(pid) if pid is not None else None
    who = "another process"
    if pid is not None:
        who = f"pid {pid}" + (f" (`{command}`)" if command else "")
    if command is not None and command.startswith("ray::WarehouseActor"):
        reach = (
            "it is the warehouse actor of a running `ollive up` or `ollive ingest`: reach it "
            "with `ollive.connect()` (no URL) from a process of the same user, or "
            "`ollive.connect('ray://warehouse')`; `ollive status` shows what runs"
        )
    else:
        reach = (
            "stop that process (a notebook kernel or script that opened it with "
            "`ollive.connect()` while nothing was running, or `ollive dashboard` on the "
            "embedded directory), or run the platform (`ollive up`): its warehouse actor "
            "serves every process through `ollive.connect()` (no URL)"
        )
    return (
        f"the chDB directory {path} is held by {who}. chDB allows one process per "
        f"directory; {reach}."
    )
