"""Context the SDK carries across calls: the current conversation scope, the current span
and the current prompt (``ollive.prompt``).

Both live in :mod:`contextvars`, so they follow ``asyncio`` tasks (a task copies the context
it was created in) and stay separate per thread (a new thread starts with an empty context;
use ``contextvars.copy_context().run`` or ``asyncio.to_thread`` to carry it over).

Ids follow W3C trace context and come from :mod:`ollive.ids`. :class:`SpanContext` is the
public picture of "where a new span goes" (OpenTelemetry's parent context).
"""

from __future__ import annotations

import sys
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from ollive.ids import new_trace_id
from ollive.sdk import _runtime

__all__ = [
    "Scope",
    "SpanContext",
    "current_context",
    "current_prompt",
    "current_scope",
    "current_span",
    "enter_prompt",
    "exit_prompt",
]

_UINT64 = (1 << 64) - 1


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
#: the innermost ``ollive.prompt`` (an ``ollive.sdk.prompts.Prompt``); inference spans read it
#: once, when they start
current_prompt: ContextVar[Any] = ContextVar("ollive_prompt", default=None)
#: the prompts ``with`` blocks replaced, innermost last: a ``Prompt`` object may be entered
#: by many tasks at once, so what to restore is kept per context, not on the object
_outer_prompts: ContextVar[tuple[Any, ...]] = ContextVar("ollive_outer_prompts", default=())


def enter_prompt(prompt: Any) -> None:
    """Make ``prompt`` the current one until the matching :func:`exit_prompt`."""
    _outer_prompts.set((*_outer_prompts.get(), current_prompt.get()))
    current_prompt.set(prompt)


def exit_prompt() -> None:
    """Restore the prompt that was current before the matching :func:`enter_prompt`."""
    outer = _outer_prompts.get()
    if outer:
        _outer_prompts.set(outer[:-1])
        current_prompt.set(outer[-1])


@dataclass(frozen=True, slots=True)
class SpanContext:
    """Where a span sits, or where a new one would go: what ``span.start(parent=...)`` takes.

    ``trace_id`` and ``sampled`` are the trace and its head-sampling decision; ``span_id``
    the span that would be the parent (``None`` at a trace's root); the three ids are the
    conversation's. Immutable: ``dataclasses.replace(ctx, user_id="u-7")`` makes a changed
    copy. Get one from :func:`current_context` or from a started span's ``context``.
    """

    trace_id: str
    span_id: str | None = None
    sampled: bool = True
    conversation_id: str | None = None
    session_id: str | None = None
    user_id: str | None = None
    #: the span this context describes (a tool started under it links to its inference)
    _span: Any = field(default=None, repr=False, compare=False)
    #: the ``ollive.conversation`` scope (inferences become its latest inference)
    _scope: Scope | None = field(default=None, repr=False, compare=False)


def current_context() -> SpanContext:
    """The context a span started now would get: the current span's, else the current
    ``ollive.conversation``'s, else a new trace (under the current OpenTelemetry span, if
    any) with the SDK's sampling decision for it (``sampled`` is True while the SDK is off)."""
    span = current_span.get()
    if span is not None:
        return span.context  # type: ignore[no-any-return]
    scope = current_scope.get()
    if scope is not None:
        return SpanContext(
            scope.trace_id,
            None,
            scope.sampled,
            scope.conversation_id,
            scope.session_id,
            scope.user_id,
            _scope=scope,
        )
    otel = otel_parent()
    trace_id, span_id = otel if otel is not None else (new_trace_id(), None)
    rt = _runtime.current()
    sampled = True if rt is None else is_sampled(trace_id, rt.sample_rate)
    return SpanContext(trace_id, span_id, sampled)
