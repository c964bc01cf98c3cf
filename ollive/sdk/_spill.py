"""DiskBuffer: the SDK's overflow on local disk, first in, first out, bounded in bytes.

When a burst outruns the transport and the in-memory queue is at its bound, the processor
writes the encoded events here instead of dropping them, and its worker sends them once the
queue ahead of them is empty. Events are JSON lines (JSON text never holds a raw newline) in
segment files under a directory of this process (``<root>/<pid>-<random>``); a segment is
closed at ``segment_bytes`` or when the reader reaches it, read whole, and deleted once read.
Nothing here blocks for long: appends go through a buffered file, reads happen on the
worker thread, and every file error turns into a ``False`` (the caller counts a drop).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
import uuid
from collections import deque
from pathlib import Path
from typing import IO

__all__ = ["DiskBuffer", "default_spill_root"]

_SEGMENT_BYTES = 8 * 1024 * 1024


def default_spill_root() -> Path:
    """``$XDG_CACHE_HOME/ollive/spill`` (``~/.cache/ollive/spill`` when unset)."""
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "ollive" / "spill"


class DiskBuffer:
    """A FIFO of encoded events on disk, at most ``max_bytes`` of them at a time."""

    def __init__(self, root: Path, max_bytes: int, segment_bytes: int = _SEGMENT_BYTES) -> None:
        self.root = Path(root)
        self.max_bytes = max_bytes
        self._segment_bytes = segment_bytes
        self._lock = threading.Lock()
        self._dir: Path | None = None
        self._closed: deque[tuple[Path, int, int]] = deque()  # (path, events, bytes)
        self._writer: IO[bytes] | None = None
        self._writer_path: Path | None = None
        self._writer_events = 0
        self._writer_bytes = 0
        self._next = 0
        self.events = 0  # waiting on disk now
        self.bytes = 0

    # --- the producer side (caller's thread, under the processor's spill lock) -----------
    def append(self, line: bytes) -> bool:
        """Write one encoded event; False when it does not fit or the disk refused it."""
        size = len(line) + 1
        with self._lock:
            if self.bytes + size > self.max_bytes:
                return False
            try:
                writer = self._writer or self._open_segment()
                writer.write(line)
                writer.write(b"\n")
            except OSError:
                return False
            self._writer_events += 1
            self._writer_bytes += size
            self.events += 1
            self.bytes += size
            if self._writer_bytes >= self._segment_bytes:
                self._close_segment()
            return True

    # --- the consumer side (the worker thread) --------------------------------------------
    def take_segment(self) -> tuple[list[bytes], int]:
        """The oldest segment's events, removed from the buffer, and how many of the events
        written to it could not be read back (a disk error); ``([], 0)`` when it is empty."""
        with self._lock:
            if not self._closed and self._writer is not None:
                self._close_segment()
            if not self._closed:
                return [], 0
            path, events, size = self._closed.popleft()
            self.events -= events
            self.bytes -= size
        try:
            with open(path, "rb") as segment:
                lines = segment.read().splitlines()
        except OSError:
            lines = []
        with contextlib.suppress(OSError):
            path.unlink()
        return lines, max(events - len(lines), 0)

    def clear(self) -> int:
        """Delete every segment and this process's directory; the events that were waiting."""
        with self._lock:
            left = self.events
            if self._writer is not None:
                with contextlib.suppress(OSError):
                    self._writer.close()
            self._writer = self._writer_path = None
            self._closed.clear()
            self.events = self.bytes = self._writer_events = self._writer_bytes = 0
            if self._dir is not None:
                shutil.rmtree(self._dir, ignore_errors=True)
                self._dir = None
            return left

    # --- segments --------------------------------------------------------------------------
    def _open_segment(self) -> IO[bytes]:
        if self._dir is None:
            self._dir = self.root / f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
            self._dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._next += 1
        self._writer_path = self._dir / f"{self._next:08d}.jsonl"
        self._writer = open(self._writer_path, "ab", buffering=256 * 1024)  # noqa: SIM115
        self._writer_events = self._writer_bytes = 0
        return self._writer

    def _close_segment(self) -> None:
        assert self._writer is not None and self._writer_path is not None
        # a tail that does not reach the disk shows up as lost when the segment is read
        with contextlib.suppress(OSError):
            self._writer.close()
        self._closed.append((self._writer_path, self._writer_events, self._writer_bytes))
        self._writer = self._writer_path = None
        self._writer_events = self._writer_bytes = 0
