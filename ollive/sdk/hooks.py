"""The integration surface: what an integration needs to turn another library's calls into
Ollive events, shaped like OpenTelemetry's tracer API.

Ollive's own integrations (LangChain, OpenAI) and its logging handler use only these names,
and a third-party integration can do the same::

    from ollive.sdk import current_context, inference_span

    span = inference_span("acme", "acme-large", input=messages)  # None while the SDK is off
    if span is not None:
        span.start()  # not current: children are nested with start(parent=span.context)
        token = span.activate()  # ... or made current around the library's call
        try:
            response = call_the_model()
        except BaseException as exc:
            span.end(exc)
            raise
        finally:
            span.deactivate(token)
        span.end(result=response)  # never raises; reads usage, output, tool calls

An inference span started inside ``ollive.prompt(...)`` carries that prompt; an integration
that knows better (a LangChain prompt template that ran just before the model) calls
``span.set_prompt(name, version, template)``, and can ask :func:`current_prompt` first.

Every function here is cheap and never raises into the app (failures are counted as
``internal_errors`` in :func:`ollive.stats`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from ollive.sdk import _context, _runtime
from ollive.sdk._context import SpanContext, current_context, current_scope, current_span
from ollive.sdk._records import ApplicationRecord, level_name
from ollive.sdk.prompts import Prompt
from ollive.sdk.spans import InferenceSpan, ToolSpan

__all__ = [
    "SpanContext",
    "count_internal_error",
    "current_context",
    "current_prompt",
    "current_service",
    "emit_log",
    "inference_span",
    "is_enabled",
    "tool_span",
]


def is_enabled() -> bool:
    """True between ``ollive.init`` and ``ollive.shutdown`` (and not disabled)."""
    return _runtime.current() is not None


def current_service() -> str | None:
    """The service name events are stamped with; ``None`` while the SDK is off."""
    rt = _runtime.current()
    return None if rt is None else rt.service


def current_prompt() -> Prompt | None:
    """The innermost ``ollive.prompt`` around the caller (what an inference started now
    would carry), else ``None``. Works while the SDK is off too."""
    return _context.current_prompt.get()  # type: ignore[no-any-return]


def inference_span(
    provider: str,
    model: str,
    *,
    input: Any = None,
    stream: bool = False,
    metadata: Mapping[str, Any] | None = None,
) -> InferenceSpan | None:
    """A new inference span, not started; ``None`` while the SDK is off.

    Then ``span.start(activate=False, parent=None)``, the ``set_*`` methods, and
    ``span.end(error=None, result=None)``.
    """
    rt = _runtime.current()
    if rt is None:
        return None
    span = InferenceSpan(rt, provider, model)
    if input is not None:
        span.set_input(input)
    if stream:
        span.stream = True
    if metadata:
        span.metadata = dict(metadata)
    return span


def tool_span(
    name: str,
    *,
    args: tuple[Any, ...] = (),
    kwargs: dict[str, Any] | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> ToolSpan | None:
    """A new tool span, not started; ``None`` while the SDK is off.

    ``args``/``kwargs`` make the arguments preview. Started with no ``parent``, it links to
    the enclosing inference (or the conversation's latest one); ``set_parent_inference``
    links it explicitly.
    """
    rt = _runtime.current()
    if rt is None:
        return None
    span = ToolSpan(rt, name, args, kwargs)
    if metadata:
        span.metadata = dict(metadata)
    return span


def count_internal_error() -> None:
    """Count an instrumentation failure an integration swallowed (``stats()["internal_errors"]``)."""
    rt = _runtime.current()
    if rt is not None:
        rt.processor.count_internal_error()


def emit_log(
    level: int | str,
    logger: str,
    message: str,
    attributes: Mapping[str, Any] | None = None,
    *,
    timestamp: float | None = None,
) -> None:
    """Queue an ``application`` event carrying the trace, span and conversation ids current now.

    ``level``: a :mod:`logging` level number or a name (``"INFO"``...); ``attributes``:
    JSON-able key/values; ``timestamp``: epoch seconds (default: now). A no-op while the SDK
    is off; never raises.
    """
    rt = _runtime.current()
    if rt is None:
        return
    try:
        rt.processor.on_end(_log_record(level, logger, message, attributes, timestamp))
    except Exception:
        rt.processor.count_internal_error()


def _log_record(
    level: int | str,
    logger: str,
    message: str,
    attributes: Mapping[str, Any] | None,
    timestamp: float | None,
) -> ApplicationRecord:
    name = level_name(level) if isinstance(level, int) else str(level).upper()
    if name == "WARN":
        name = "WARNING"
    when = time.time() if timestamp is None else timestamp
    trace_id, span_id, ids = _log_context()
    attrs = dict(attributes) if attributes else {}
    return ApplicationRecord(when, name, logger, message, attrs, trace_id, span_id, *ids)


def _log_context() -> tuple[str | None, str | None, tuple[Any, Any, Any]]:
    """(trace_id, span_id, (conversation, session, user)) of the current span or scope."""
    span = current_span.get()
    if span is not None:
        return span.trace_id, span.span_id, (span.conversation_id, span.session_id, span.user_id)
    scope = current_scope.get()
    if scope is not None:
        return scope.trace_id, None, (scope.conversation_id, scope.session_id, scope.user_id)
    return None, None, (None, None, None)
