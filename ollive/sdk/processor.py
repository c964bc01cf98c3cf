"""BatchProcessor: a bounded queue and one daemon worker that batches events to an exporter.

On the caller's thread :meth:`BatchProcessor.on_end` only appends to a deque, so it never
blocks and never raises. The worker wakes every ``flush_interval_s`` (or as soon as a batch
is full, or on ``flush``), renders each queued item as JSON (through the optional redaction
hook when there is one) and hands batches (by count and by bytes) to the exporter.

Overflow policy: the queue holds at most ``max_queue_size`` items and about
``max_queue_bytes`` of encoded events (estimated from the sizes the worker encodes). Past
either bound, new events are encoded on the caller's thread and written to a bounded
:class:`~ollive.sdk._spill.DiskBuffer` (``spill``), and keep going there until the worker has
sent everything on disk: order is kept, memory stays bounded. Only past both bounds (or with
no disk buffer) are events dropped and counted (``dropped``), with one warning when dropping
starts. After ``fork`` the child gets an empty queue, a fresh exporter client, its own disk
buffer and its own worker (started by its first event).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

from ollive.sdk import _render
from ollive.sdk._spill import DiskBuffer
from ollive.sdk.exporter import ExportResult

__all__ = ["BatchProcessor", "Exporter", "Redactor"]

log = logging.getLogger("ollive.sdk")
Redactor = Callable[[dict[str, Any]], dict[str, Any] | None]
_live: weakref.WeakSet[BatchProcessor] = weakref.WeakSet()
_worker_thread = threading.local()  # .active is True on export threads (logging guard)


class Exporter(Protocol):
    """What the processor needs from an exporter."""

    def export(self, events: list[bytes]) -> ExportResult: ...
    def set_deadline(self, deadline: float) -> None: ...
    def shutdown(self) -> None: ...
    def after_fork(self) -> None: ...


class _Marker:
    """Put in the queue by ``flush``: set once everything queued before it is exported."""

    __slots__ = ("done",)

    def __init__(self) -> None:
        self.done = threading.Event()


def on_export_thread() -> bool:
    """True on a processor's worker thread (the logging handler ignores records from there)."""
    return getattr(_worker_thread, "active", False)


class BatchProcessor:
    """Queue, batch and export events in the background. Counters: see :meth:`stats`."""

    def __init__(
        self,
        exporter: Exporter,
        *,
        service: str = "default",
        max_queue_size: int = 20_000,
        max_queue_bytes: int = 64 * 1024 * 1024,
        max_batch_events: int = 500,
        max_batch_bytes: int = 1_000_000,
        flush_interval_s: float = 1.0,
        redact: Redactor | None = None,
        spill: DiskBuffer | None = None,
    ) -> None:
        self.exporter = exporter
        self.service = service
        self.spill = spill
        self._max_queue_size = max_queue_size
        self._max_queue_bytes = max_queue_bytes
        self._max_batch_events = max_batch_events
        self._max_batch_bytes = max_batch_bytes
        self._flush_interval_s = flush_interval_s
        self._redact = redact
        self._reset_state()
        _live.add(self)

    def _reset_state(self) -> None:
        self._queue: deque[Any] = deque()
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._spill_lock = threading.Lock()
        self._spilling = False  # new events go to disk until the worker has emptied it
        self._spilled = 0
        self._event_bytes = 1024.0  # running mean of an encoded event's size
        self._drop_warned = False
        self._closed = False
        self._stopping = False
        self._worker: threading.Thread | None = None
        self._started = False
        self._popped = 0
        self._markers = 0  # flush markers in the queue (not events)
        self._dropped = 0
        self._sent = 0
        self._failed = 0
        self._retried = 0
        self._internal_errors = 0

    # --- caller's thread ------------------------------------------------------------------
    def on_end(self, item: Any) -> None:
        """Queue a finished span or record; past the queue's bounds, write it to the disk
        buffer; drop and count it only when that is full too."""
        if not self._started:
            self._start()
        if self._closed:  # after shutdown: counted, not worth a warning
            with self._lock:
                self._dropped += 1
            return
        queue = self._queue
        if not self._spilling and self._has_room(len(queue)):
            queue.append(item)
            if len(queue) >= self._max_batch_events and not self._wake.is_set():
                self._wake.set()
            return
        self._overflow(item)

    def _has_room(self, queued: int) -> bool:
        return queued < self._max_queue_size and queued * self._event_bytes < self._max_queue_bytes

    def _overflow(self, item: Any) -> None:
        """The queue is at its bounds (or events are going to disk already): to disk, in order."""
        with self._spill_lock:
            if not self._spilling and self._has_room(len(self._queue)):
                self._queue.append(item)  # the worker caught up meanwhile
                return
            if self.spill is None:
                self._drop(1, "the queue is full and no disk buffer is set")
                return
            self._spilling = True
            encoded = self._encode(item)
            if encoded is None:
                return
            if not self.spill.append(encoded):
                self._drop(1, f"the queue and the disk buffer ({self.spill.root}) are full")
                return
            self._spilled += 1
        if not self._wake.is_set():
            self._wake.set()

    def _drop(self, count: int, why: str) -> None:
        with self._lock:
            self._dropped += count
            warn = not self._drop_warned
            self._drop_warned = True
        if warn:
            log.warning(
                "ollive: dropping events: %s (queue bounds: %d events, %d MiB in memory; "
                "ollive.stats() counts them; raise OLLIVE_MAX_QUEUE_BYTES or "
                "OLLIVE_MAX_SPILL_BYTES)",
                why,
                self._max_queue_size,
                self._max_queue_bytes // 2**20,
            )

    def count_internal_error(self) -> None:
        """Count an instrumentation failure that was swallowed."""
        with self._lock:
            self._internal_errors += 1

    def stats(self) -> dict[str, int]:
        """Counters since start (or since fork, in a child), in events.

        ``enqueued`` accepted (into the queue or the disk buffer); ``queued`` waiting now (in
        memory or on disk); ``spilled`` written to the disk buffer; ``sent`` accepted by
        ingest (duplicates included); ``failed`` refused or given up on; ``retried`` re-sent
        after a failed attempt; ``dropped`` lost to a full queue and disk buffer, dropped by
        the redaction hook, or left at a shutdown deadline; ``internal_errors``
        instrumentation failures that were swallowed.
        """
        in_memory = max(len(self._queue) - self._markers, 0)
        on_disk = self.spill.events if self.spill is not None else 0
        return {
            "enqueued": self._popped + in_memory + self._spilled,
            "queued": in_memory + on_disk,
            "spilled": self._spilled,
            "sent": self._sent,
            "failed": self._failed,
            "retried": self._retried,
            "dropped": self._dropped,
            "internal_errors": self._internal_errors,
        }

    def flush(self, timeout_s: float = 5.0) -> bool:
        """Export everything queued so far; True when done within ``timeout_s``."""
        if self._closed or not self._started:
            return not self._queue
        marker = _Marker()
        with self._lock:
            self._markers += 1
        self._queue.append(marker)
        self._wake.set()
        return marker.done.wait(timeout_s)

    def shutdown(self, timeout_s: float = 5.0) -> bool:
        """Flush within ``timeout_s``, stop the worker, close the exporter. Idempotent."""
        if self._closed:
            return True
        deadline = time.monotonic() + timeout_s
        done = self.flush(timeout_s) if self._started else True
        self._closed = True
        self._stopping = True
        self.exporter.set_deadline(deadline)
        self._wake.set()
        worker = self._worker
        if worker is not None and worker is not threading.current_thread():
            worker.join(max(deadline - time.monotonic(), 0.0) + 0.05)
        left = sum(1 for item in self._queue if not isinstance(item, _Marker))
        self._queue.clear()
        if self.spill is not None:
            left += self.spill.clear()
        if left:
            with self._lock:
                self._dropped += left
        self.exporter.shutdown()
        return done and not left

    # --- fork -----------------------------------------------------------------------------
    def _after_fork_in_child(self) -> None:
        closed = self._closed
        self._reset_state()
        self._closed = closed
        if self.spill is not None:  # the parent's files are the parent's to send
            self.spill = DiskBuffer(self.spill.root, self.spill.max_bytes)
        self.exporter.after_fork()

    # --- worker thread --------------------------------------------------------------------
    def _start(self) -> None:
        with self._lock:
            if self._started:
                return
            self._worker = threading.Thread(target=self._run, name="ollive-export", daemon=True)
            self._started = True
            self._worker.start()

    def _run(self) -> None:
        _worker_thread.active = True
        while True:
            self._wake.wait(self._flush_interval_s)
            self._wake.clear()
            try:
                self._drain()
            except Exception:  # pragma: no cover - keep the worker alive whatever happens
                self.count_internal_error()
            if self._stopping and not self._queue:
                return

    def _drain(self) -> None:
        """Send the queue in order, then what waits on disk (queued after it)."""
        queue = self._queue
        batch = _Batch(self._max_batch_events, self._max_batch_bytes, self._send)
        while queue:
            item = queue.popleft()
            if isinstance(item, _Marker):
                with self._lock:
                    self._markers -= 1
                batch.send()
                self._drain_spill(batch)  # events spilled before the marker count too
                item.done.set()
                continue
            self._popped += 1
            encoded = self._encode(item)
            if encoded is None:
                continue
            self._event_bytes += (len(encoded) - self._event_bytes) / 64
            batch.add(encoded)
        batch.send()
        self._drain_spill(batch)

    def _drain_spill(self, batch: _Batch) -> None:
        """Send the disk buffer, oldest first, until it is empty; then new events go to the
        queue again."""
        spill = self.spill
        if spill is None:
            return
        while True:
            lines, lost = spill.take_segment()
            if lost:
                self._drop(lost, "the disk buffer lost events it had written")
            if lines:
                for line in lines:
                    batch.add(line)
                batch.send()
                continue
            with self._spill_lock:
                if spill.events == 0:
                    self._spilling = False
                    return

    def _encode(self, item: Any) -> bytes | None:
        try:
            if self._redact is None:
                return item.to_json(self.service).encode("utf-8", "replace")
            event = self._redact(item.to_event(self.service))
            if event is None:
                with self._lock:
                    self._dropped += 1
                return None
            return _render.dumps(event).encode("utf-8", "replace")
        except Exception as exc:
            with self._lock:
                self._failed += 1
                self._internal_errors += 1
            log.debug("ollive: could not encode an event: %r", exc)
            return None

    def _send(self, batch: list[bytes]) -> None:
        if not batch:
            return
        result = self.exporter.export(batch)
        with self._lock:
            self._sent += result.sent
            self._failed += result.failed
            self._retried += result.retried


class _Batch:
    """Encoded events collected up to a count and a byte size, then handed to ``send``."""

    __slots__ = ("_lines", "_max_bytes", "_max_events", "_send", "_size")

    def __init__(self, max_events: int, max_bytes: int, send: Callable[[list[bytes]], None]):
        self._max_events = max_events
        self._max_bytes = max_bytes
        self._send = send
        self._lines: list[bytes] = []
        self._size = 0

    def add(self, encoded: bytes) -> None:
        if self._lines and self._size + len(encoded) > self._max_bytes:
            self.send()
        self._lines.append(encoded)
        self._size += len(encoded) + 1
        if len(self._lines) >= self._max_events:
            self.send()

    def send(self) -> None:
        if self._lines:
            lines, self._lines, self._size = self._lines, [], 0
            self._send(lines)


def _after_fork_in_child() -> None:
    for processor in list(_live):
        with contextlib.suppress(Exception):
            processor._after_fork_in_child()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
