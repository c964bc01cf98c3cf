"""The writers' spool: Arrow IPC files on local disk, a write-ahead log and a dead-letter queue.

Every flush is written here before it is inserted (``wal.<table>.<token>.arrow``). After
the insert succeeds the file becomes ``done.<table>.<token>.arrow`` and is kept for
``keep_done_s`` so a restarted writer knows which request_ids it already stored; after the
retries fail it stays a ``wal`` file: that is the dead-letter queue, replayed (with the same
idempotency token, so a replay never stores a row twice) when the warehouse recovers and by
``ollive dlq replay``.

Two ways to write a flush's file: :meth:`Spool.write` writes it whole (one Arrow IPC
stream) just before the insert; a :class:`WalSegment` (:meth:`Spool.open_segment`) is
opened by the flush's first request and appended to by every request that joins the flush,
each append a length-prefixed IPC stream that is fsync'd before that request is answered.
A segment cut short by a crash reads back to its last whole append (what was fsync'd and
acknowledged is whole; a torn tail was never acknowledged).
"""

from __future__ import annotations

import contextlib
import errno
import os
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc

from ollive.errors import SpoolFullError

__all__ = [
    "ReplayReport",
    "Spool",
    "SpoolEntry",
    "WalSegment",
    "replay_spool",
    "spools_under",
]

WAL = "wal"
DONE = "done"
_SEGMENT_MAGIC = b"OLLIVE-WAL-SEGMENT 1\n"
_FRAME = struct.Struct("<Q")


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
            raise _translate(exc, self.directory) from exc
        return SpoolEntry(final, WAL, table, token, time.time())

    def open_segment(self, table: str, token: str) -> WalSegment:
        """A new write-ahead segment for one flush of ``table`` (see the module docstring)."""
        return WalSegment(self.directory / f"{WAL}.{table}.{token}.arrow", table, token)

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
        """The rows of a spool file (a segment: every whole append, in order)."""
        with open(entry.path, "rb") as f:
            head = f.read(len(_SEGMENT_MAGIC))
        if head == _SEGMENT_MAGIC:
            return _read_segment(entry.path)
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


class WalSegment:
    """One flush's write-ahead file, appended to by each request that joins the flush.

    :meth:`append` writes a request's rows (one length-prefixed IPC stream) and :meth:`sync`
    makes every append so far durable (``fdatasync``); the writer answers a request after
    the sync that covers its append. :meth:`close` syncs and closes before the insert.
    Thread-safe: the fsync runs in a worker thread while the event loop appends.
    """

    def __init__(self, path: Path, table: str, token: str) -> None:
        self.path, self.table, self.token = path, table, token
        self._lock = threading.Lock()
        self._size = 0
        self._dirty = False
        self.closed = False
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            self._write(_SEGMENT_MAGIC)
        except OSError:
            os.close(self._fd)
            path.unlink(missing_ok=True)
            raise

    @property
    def size(self) -> int:
        """Bytes written so far (the position to :meth:`truncate` back to)."""
        return self._size

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(self._fd, view) :]
        except OSError as exc:
            raise _translate(exc, self.path.parent) from exc
        self._size += len(data)

    def append(self, data: pa.Table) -> int:
        """Append ``data``; returns the size before it. A failed append leaves no torn tail."""
        sink = pa.BufferOutputStream()
        with ipc.new_stream(sink, data.schema) as stream:
            stream.write_table(data)
        blob = sink.getvalue()
        with self._lock:
            if self.closed:
                raise ValueError(f"segment {self.path.name} is closed")
            before = self._size
            try:
                self._write(_FRAME.pack(blob.size) + blob.to_pybytes())
            except OSError:
                self._truncate(before)
                raise
            self._dirty = True
            return before

    def truncate(self, size: int) -> None:
        """Drop every append after ``size`` (a request refused after part of it was written)."""
        with self._lock:
            if not self.closed:
                self._truncate(size)

    def _truncate(self, size: int) -> None:
        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, size)
            os.lseek(self._fd, size, os.SEEK_SET)
            self._size = size

    def sync(self) -> None:
        """Make every append so far durable."""
        with self._lock:
            if not self.closed and self._dirty:
                os.fdatasync(self._fd)
                self._dirty = False

    def close(self) -> SpoolEntry:
        """Sync and close; the file is then an ordinary ``wal`` spool entry."""
        with self._lock:
            if not self.closed:
                try:
                    if self._dirty:
                        os.fdatasync(self._fd)
                finally:
                    os.close(self._fd)
                    self.closed = True
        return SpoolEntry(self.path, WAL, self.table, self.token, time.time())


def _read_segment(path: Path) -> pa.Table:
    """Every whole append of a segment; a torn tail (a crash mid-append) is left out."""
    data = path.read_bytes()
    pos, tables = len(_SEGMENT_MAGIC), []
    while pos + _FRAME.size <= len(data):
        (n,) = _FRAME.unpack_from(data, pos)
        if pos + _FRAME.size + n > len(data):
            break
        blob = pa.py_buffer(data[pos + _FRAME.size : pos + _FRAME.size + n])
        try:
            tables.append(ipc.open_stream(blob).read_all())
        except pa.ArrowInvalid:
            break
        pos += _FRAME.size + n
    if not tables:
        return pa.table({"request_id": pa.array([], pa.string())})
    return pa.concat_tables(tables).combine_chunks()


def _translate(exc: OSError, directory: Path) -> OSError:
    """A full disk as :class:`SpoolFullError` (answered 503 with Retry-After)."""
    if _out_of_space(exc):
        return SpoolFullError(
            f"no space left for the write-ahead log in {directory} ({exc}); the "
            "events were not accepted: free disk space there (or move OLLIVE_HOME); "
            "writes succeed again by themselves once there is room"
        )
    return exc


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
            if data.num_rows:  # an empty segment (its only request was refused): nothing to do
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
