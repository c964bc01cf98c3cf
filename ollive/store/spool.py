"""The writers' spool: Arrow IPC files on local disk, a write-ahead log and a dead-letter queue.

Every flush is written here before it is inserted (``wal.<table>.<token>.arrow``). After
the insert succeeds the file becomes ``done.<table>.<token>.arrow`` and is kept for
``keep_done_s`` so a restarted writer knows which request_ids it already stored; after the
retries fail it stays a ``wal`` file: that is the dead-letter queue, replayed (with the same
idempotency token, so a replay never stores a row twice) when the warehouse recovers and by
``ollive dlq replay``.
"""

from __future__ import annotations

import contextlib
import errno
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc

from ollive.errors import SpoolFullError

__all__ = ["ReplayReport", "Spool", "SpoolEntry", "replay_spool", "spools_under"]

WAL = "wal"
DONE = "done"


@dataclass(frozen=True, slots=True)
class SpoolEntry:
    """One spooled flush: its file, state (``wal``/``done``), table, token and age."""

    path: Path
    state: str
    table: str
    token: str
    mtime: float

    @property
    def age_s(self) -> float:
        return max(0.0, time.time() - self.mtime)


@dataclass(slots=True)
class ReplayReport:
    """What a replay did: files and rows inserted, files left (the warehouse still refuses)."""

    files: int = 0
    rows: int = 0
    left: int = 0
    error: str | None = None


class Spool:
    """A directory of spooled flushes (one directory per writer)."""

    def __init__(self, directory: Path | str, fsync: bool = False) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.fsync = fsync

    def write(self, table: str, data: pa.Table, token: str) -> SpoolEntry:
        """Write ``data`` as a ``wal`` file atomically (temporary name, then rename)."""
        final = self.directory / f"{WAL}.{table}.{token}.arrow"
        tmp = final.with_suffix(".tmp")
        try:
            with pa.OSFile(str(tmp), "wb") as sink, ipc.new_stream(sink, data.schema) as stream:
                stream.write_table(data)
            if self.fsync:
                fd = os.open(tmp, os.O_RDONLY)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
            tmp.replace(final)
        except OSError as exc:
            tmp.unlink(missing_ok=True)  # a half-written file would hold on to the space
            if _out_of_space(exc):
                raise SpoolFullError(
                    f"no space left for the write-ahead log in {self.directory} ({exc}); the "
                    "events were not accepted: free disk space there (or move OLLIVE_HOME); "
                    "writes succeed again by themselves once there is room"
                ) from exc
            raise
        return SpoolEntry(final, WAL, table, token, time.time())

    def mark_done(self, entry: SpoolEntry) -> None:
        """The flush is in the warehouse: keep it as ``done`` for the recovery window."""
        target = self.directory / f"{DONE}.{entry.table}.{entry.token}.arrow"
        # FileNotFoundError: replayed and marked by someone else (`ollive dlq replay`)
        with contextlib.suppress(FileNotFoundError):
            entry.path.replace(target)

    def entries(self, state: str | None = WAL) -> list[SpoolEntry]:
        """Files in ``state`` (None: all), oldest first."""
        out = []
        for path in self.directory.glob("*.arrow"):
            parts = path.name.split(".")
            if len(parts) != 4 or (state is not None and parts[0] != state):
                continue
            try:
                mtime = path.stat().st_mtime
            except FileNotFoundError:
                continue
            out.append(SpoolEntry(path, parts[0], parts[1], parts[2], mtime))
        return sorted(out, key=lambda e: e.mtime)

    @staticmethod
    def read(entry: SpoolEntry) -> pa.Table:
        with pa.memory_map(str(entry.path)) as source:
            return ipc.open_stream(source).read_all()

    def prune_done(self, older_than_s: float) -> int:
        """Delete ``done`` files older than ``older_than_s``; returns how many."""
        pruned = 0
        for entry in self.entries(DONE):
            if entry.age_s > older_than_s:
                entry.path.unlink(missing_ok=True)
                pruned += 1
        return pruned

    def request_ids(self, newer_than_s: float) -> set[str]:
        """request_ids of every file younger than ``newer_than_s`` (what a restart must not redo)."""
        ids: set[str] = set()
        for entry in self.entries(None):
            if entry.state == WAL or entry.age_s <= newer_than_s:
                table = self.read(entry)
                ids.update(pc.unique(table.column("request_id")).to_pylist())
        return ids

    def depth(self, skip: Callable[[SpoolEntry], bool] = lambda e: False) -> tuple[int, int]:
        """(files, bytes) waiting in the dead-letter queue, leaving out the entries ``skip``
        names (a writer's in-flight flushes: their write-ahead files are not dead letters)."""
        files, size = 0, 0
        for entry in self.entries(WAL):
            if skip(entry):
                continue
            try:
                size += entry.path.stat().st_size
            except FileNotFoundError:  # replayed meanwhile
                continue
            files += 1
        return files, size


def _out_of_space(exc: OSError) -> bool:
    """ENOSPC or EDQUOT, also when pyarrow reports it only in its message."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    text = str(exc).lower()
    return "no space left" in text or "quota exceeded" in text


def replay_spool(
    spool: Spool,
    insert: Callable[[str, pa.Table, str], object],
    skip: Callable[[SpoolEntry], bool] = lambda e: False,
) -> ReplayReport:
    """Insert every ``wal`` file with its own token, oldest first; stop at the first failure."""
    report = ReplayReport()
    entries = [e for e in spool.entries(WAL) if not skip(e)]
    for pos, entry in enumerate(entries):
        try:
            data = spool.read(entry)
            insert(entry.table, data, entry.token)
        except FileNotFoundError:
            continue
        except Exception as exc:
            report.left = len(entries) - pos
            report.error = f"{type(exc).__name__}: {exc}"
            break
        spool.mark_done(entry)
        report.files += 1
        report.rows += data.num_rows
    return report


def spools_under(root: Path | str) -> list[Spool]:
    """Every writer's spool below ``root`` (``<spool_dir>/<writer>/``)."""
    base = Path(root)
    if not base.is_dir():
        return []
    return [Spool(path) for path in sorted(base.iterdir()) if path.is_dir()]
