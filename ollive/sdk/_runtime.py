"""The SDK's process-wide state: the :class:`Runtime` that ``ollive.init`` installs.

A module of its own so that the API, the spans and the integration hooks all read it
without importing each other. Spans read :func:`current` on every start; :func:`swap`
(under a lock) is what ``init`` and ``shutdown`` do.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from ollive.sdk.processor import BatchProcessor

__all__ = ["Runtime", "current", "swap"]


class Runtime:
    """What ``init`` sets up: the processor and the per-process knobs spans read."""

    __slots__ = ("processor", "sample_rate", "service")

    def __init__(self, processor: BatchProcessor, service: str, sample_rate: float) -> None:
        self.processor = processor
        self.service = service
        self.sample_rate = sample_rate


_active: Runtime | None = None
_lock = threading.Lock()


def current() -> Runtime | None:
    """The installed runtime; ``None`` before ``init``, after ``shutdown`` or when disabled."""
    return _active


def swap(new: Runtime | None) -> Runtime | None:
    """Install ``new`` and return the runtime it replaces (the caller shuts that one down)."""
    global _active
    with _lock:
        old, _active = _active, new
    return old
