"""Context the SDK carries across calls: the current conversation scope and the current span.

Both live in :mod:`contextvars`, so they follow ``asyncio`` tasks (a task copies the context
it was created in) and stay separate per thread (a new thread starts with an empty context;
use ``contextvars.copy_context().run`` or ``asyncio.to_thread`` to carry it over).

Ids follow W3C trace context (like OpenTelemetry's ``RandomIdGenerator``): trace ids are 32
and span ids 16 lowercase hex digits, drawn from :mod:`random` (re-seeded after ``fork``).
"""

from __future__ import annotations

import random
import sys
from contextvars import ContextVar
from typing import Any

__all__ = ["Scope", "current_scope", "current_span", "new_span_id", "new_trace_id"]

_getrandbits = random.getrandbits
_UINT64 = (1 << 64) - 1


def new_trace_id() -> str:
    """A W3C trace id: 32 lowercase hex digits, never all zero."""
    value = _getrandbits(128)
    while not value:  # pragma: no cover - one chance in 2**128
        value = _getrandbits(128)
    return f"{value:032x}"


def new_span_id() -> str:
    """A W3C span id: 16 lowercase hex digits, never all zero."""
    value = _getrandbits(64)
    while not value:  # pragma: no cover
        value = _getrandbits(64)
    return f"{value:016x}"


def is_sampled(trace_id: str, sample_rate: float) -> bool:
    """Head sampling, deterministic from the trace id (OpenTelemetry's TraceIdRatioBased rule).

    Every process that sees the same trace id takes the same decision.
    """
    if sample_rate >= 1.0:
        return True
    if sample_rate <= 0.0:
        return False
    return (int(trace_id[16:], 16) & _UINT64) < round(sample_rate * 2**64)


def otel_parent() -> tuple[str, str] | None:
    """The (trace_id, span_id) of the current OpenTelemetry span, if OTel is already imported.

    Never imports OpenTelemetry itself: an app that does not use it pays nothing.
    """
    trace = sys.modules.get("opentelemetry.trace")
    if trace is None:
        return None
    try:
        ctx = trace.get_current_span().get_span_context()
        if ctx.is_valid:
            return f"{ctx.trace_id:032x}", f"{ctx.span_id:016x}"
    except Exception:  # pragma: no cover - a broken OTel install must not break the app
        return None
    return None


class Scope:
    """One conversation scope: a trace plus the conversation, session and user ids.

    ``last_inference`` is the most recent inference span that finished in this scope: a tool
    that runs after its inference returned (an agent loop) links to it.
    """

    __slots__ = (
        "conversation_id",
        "last_inference",
        "sampled",
        "session_id",
        "trace_id",
        "user_id",
    )

    def __init__(
        self,
        trace_id: str,
        sampled: bool,
        conversation_id: str | None = None,
        session_id: str | None = None,
        user_id: str | None = None,
    ) -> None:
        self.trace_id = trace_id
        self.sampled = sampled
        self.conversation_id = conversation_id
        self.session_id = session_id
        self.user_id = user_id
        self.last_inference: Any = None


current_scope: ContextVar[Scope | None] = ContextVar("ollive_scope", default=None)
current_span: ContextVar[Any] = ContextVar("ollive_span", default=None)
