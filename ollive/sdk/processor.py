"""BatchProcessor: a bounded queue and one daemon worker that batches events to an exporter.

On the caller's thread :meth:`BatchProcessor.on_end` only appends to a deque, so it never
blocks and never raises. The worker wakes every ``flush_interval_s`` (or as soon as a batch
is full, or on ``flush``), renders each queued item as JSON (through the optional redaction
hook when there is one) and hands batches (by count and by bytes) to the exporter.

Overflow policy: when ``max_queue_size`` items are waiting, new items are dropped and counted
(``dropped``); what is already queued is kept. After ``fork`` the child gets an empty queue,
a fresh exporter client and its own worker (started by its first event).
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
        max_batch_events: int = 500,
        max_batch_bytes: int = 1_000_000,
        flush_interval_s: float = 1.0,
        redact: Redactor | None = None,
    ) -> None:
        self.exporter = exporter
        self.service = service
        self._max_queue_size = max_queue_size
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
        """Queue a finished span or record; drop and count it when the queue is full."""
        if not self._started:
            self._start()
        queue = self._queue
        if len(queue) < self._max_queue_size and not self._closed:
            queue.append(item)
            if len(queue) >= self._max_batch_events and not self._wake.is_set():
                self._wake.set()
        else:
            with self._lock:
                self._dropped += 1

    def count_internal_error(self) -> None:
        """Count an instrumentation failure that was swallowed."""
        with self._lock:
            self._internal_errors += 1

    def stats(self) -> dict[str, int]:
        """Counters since start (or since fork, in a child), in events.

        ``enqueued`` accepted into the queue; ``queued`` waiting now; ``sent`` accepted by
        ingest (duplicates included); ``failed`` refused or given up on; ``retried`` re-sent
        after a failed attempt; ``dropped`` lost to a full queue, dropped by the redaction
        hook, or left at a shutdown deadline; ``internal_errors`` instrumentation failures
        that were swallowed.
        """
        queued = max(len(self._queue) - self._markers, 0)
        return {
            "enqueued": self._popped + queued,
            "queued": queued,
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
        if left:
            with self._lock:
                self._dropped += left
            self._queue.clear()
        self.exporter.shutdown()
        return done and not left

    # --- fork -----------------------------------------------------------------------------
    def _after_fork_in_child(self) -> None:
        closed = self._closed
        self._reset_state()
        self._closed = closed
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
        queue = self._queue
        batch: list[bytes] = []
        size = 0
        while queue:
            item = queue.popleft()
            if isinstance(item, _Marker):
                with self._lock:
                    self._markers -= 1
                self._send(batch)
                batch, size = [], 0
                item.done.set()
                continue
            self._popped += 1
            encoded = self._encode(item)
            if encoded is None:
                continue
            if batch and (size + len(encoded) > self._max_batch_bytes):
                self._send(batch)
                batch, size = [], 0
            batch.append(encoded)
            size += len(encoded) + 1
            if len(batch) >= self._max_batch_events:
                self._send(batch)
                batch, size = [], 0
        self._send(batch)

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


def _after_fork_in_child() -> None:
    for processor in list(_live):
        with contextlib.suppress(Exception):
            processor._after_fork_in_child()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
