"""The span base class: ids, context, timing, status and the trip to the processor.

Shared by :class:`~ollive.sdk.spans.InferenceSpan` and :class:`~ollive.sdk.spans.ToolSpan`.
One life cycle for every path (the context manager, the four decorator kinds, the
integrations): :meth:`Span.start`, optionally :meth:`Span.activate` /
:meth:`Span.deactivate`, then :meth:`Span.end`. None of them raises into the app.
"""

from __future__ import annotations

import json
import threading
import time
from typing import TYPE_CHECKING, Any

from ollive import ids
from ollive.sdk import _render
from ollive.sdk._context import (
    SpanContext,
    current_scope,
    current_span,
    is_sampled,
    otel_parent,
)

if TYPE_CHECKING:  # pragma: no cover
    from contextvars import Token

    from ollive.sdk._runtime import Runtime

__all__ = ["Span"]

_rid_lock = threading.Lock()
_perf = time.perf_counter
_q = _render.quote
_now = time.time
_new_trace_id = ids.new_trace_id
_new_span_id = ids.new_span_id


class Span:
    """What inference and tool spans share: ids, context, timing, status, enqueue on end."""

    # Class-level defaults keep the per-call cost to the attributes actually set.
    _rid: str | None = None
    trace_id: str = ""
    span_id: str = ""
    parent_span_id: str | None = None
    conversation_id: str | None = None
    session_id: str | None = None
    user_id: str | None = None
    sampled: bool = True
    status: str = "ok"
    error_code: str | None = None
    error_message: str | None = None
    metadata: dict[str, Any] | None = None
    started_at: float = 0.0
    latency_s: float = 0.0
    _t0: float = 0.0
    _token: Any = None
    _scope: Any = None
    _ended: bool = False
    _log_type: str = ""

    def __init__(self, runtime: Runtime) -> None:
        self._rt = runtime

    @property
    def request_id(self) -> str:
        """This event's UUIDv7, made on first use; stable afterwards (and across retries)."""
        rid = self._rid
        if rid is None:
            with _rid_lock:
                rid = self._rid
                if rid is None:
                    rid = self._rid = ids.uuid7_str(int((self.started_at or _now()) * 1000))
        return rid

    def set_metadata(self, **values: Any) -> None:
        """Attach JSON-able key/values (``metadata`` in the event; 16 KB, 5 levels at most)."""
        if self.metadata is None:
            self.metadata = {}
        self.metadata.update(values)

    def record_exception(self, exc: BaseException) -> None:
        """Mark the span failed by ``exc`` without raising (status from the exception type)."""
        self.status = _render.status_of(exc)
        self.error_code = type(exc).__name__
        self.error_message = str(exc)

    @property
    def context(self) -> SpanContext:
        """This span as a parent: pass it as ``start(parent=...)`` to start a child."""
        return SpanContext(
            self.trace_id,
            self.span_id,
            self.sampled,
            self.conversation_id,
            self.session_id,
            self.user_id,
            _span=self,
            _scope=self._scope,
        )

    # --- life cycle (shared by the context manager and every decorator path) -------------
    def start(self, *, activate: bool = False, parent: SpanContext | None = None) -> None:
        """Start the clock and take ids and conversation from ``parent`` (default: the
        current span, else the current ``ollive.conversation``, else a new trace).

        ``activate=True`` also makes it the current span until :meth:`end`. Never raises.
        """
        try:
            if parent is None:
                self._start(activate)
            else:
                self._start_under(parent, activate)
        except Exception:  # pragma: no cover - fail open
            self._rt.processor.count_internal_error()

    def _start_under(self, parent: SpanContext, activate: bool) -> None:
        self.trace_id = parent.trace_id
        self.parent_span_id = parent.span_id
        self.sampled = parent.sampled
        self.conversation_id = parent.conversation_id
        self.session_id = parent.session_id
        self.user_id = parent.user_id
        self._scope = parent._scope
        self._link(parent._span)
        self._begin(activate)

    def _start(self, activate: bool) -> None:
        parent = current_span.get()
        if parent is not None:
            self.trace_id = parent.trace_id
            self.parent_span_id = parent.span_id
            self.sampled = parent.sampled
            self.conversation_id = parent.conversation_id
            self.session_id = parent.session_id
            self.user_id = parent.user_id
            self._scope = parent._scope
        else:
            scope = current_scope.get()
            if scope is not None:
                self._scope = scope
                self.trace_id = scope.trace_id
                self.sampled = scope.sampled
                self.conversation_id = scope.conversation_id
                self.session_id = scope.session_id
                self.user_id = scope.user_id
            else:
                otel = otel_parent()
                if otel is not None:
                    self.trace_id, self.parent_span_id = otel
                else:
                    self.trace_id = _new_trace_id()
                rate = self._rt.sample_rate
                if rate < 1.0:
                    self.sampled = is_sampled(self.trace_id, rate)
        self._link(parent)
        self._begin(activate)

    def _begin(self, activate: bool) -> None:
        self.span_id = _new_span_id()
        if activate:
            self._token = current_span.set(self)
        self.started_at = _now()
        self._t0 = _perf()

    def _link(self, parent: Any) -> None:
        """Hook for subclasses: record links to the enclosing spans."""

    def _end(self, exc: BaseException | None = None) -> None:
        if self._ended:
            return
        self._ended = True
        self.latency_s = _perf() - self._t0
        token = self._token
        if token is not None:
            self._token = None
            try:  # noqa: SIM105 - hot path, cheaper than contextlib.suppress
                current_span.reset(token)
            except ValueError:  # ended in another context (e.g. a different task)
                pass
        if exc is not None:
            self.record_exception(exc)
        self._on_end()
        if self.sampled:
            self._rt.processor.on_end(self)

    def _on_end(self) -> None:
        """Hook for subclasses, run on the caller's thread before the span is queued."""

    def end(self, error: BaseException | None = None, result: Any = None) -> None:
        """End the span and queue it (once; later calls do nothing). Never raises.

        ``error``: the exception the call failed with (status and error fields from it).
        ``result``: what the call returned, read for what can be learnt from it (an
        inference reads a string as its output, an OpenAI completion or a LangChain message
        for usage, output, finish reason and tool calls; a tool keeps it as its result).
        """
        try:
            if error is None and result is not None:
                self._absorb(result)
            self._end(error)
        except Exception:
            self._rt.processor.count_internal_error()

    def _absorb(self, result: Any) -> None:
        """Hook for subclasses: learn what can be learnt from a decorated function's result."""

    def activate(self) -> Token[Any]:
        """Make this span the current one (its children nest under it); give the token back
        to :meth:`deactivate`. For a span started with ``activate=False``."""
        return current_span.set(self)

    def deactivate(self, token: Token[Any]) -> None:
        """Undo :meth:`activate`; never raises (a token from another context, or one already
        given back, is ignored)."""
        try:  # noqa: SIM105 - hot path, cheaper than contextlib.suppress
            current_span.reset(token)
        except (ValueError, RuntimeError):  # made in another context, or already used
            pass

    def __enter__(self) -> Any:
        self.start(activate=True)
        return self

    def __exit__(self, et: Any, exc: BaseException | None, tb: Any) -> None:
        self.end(exc)

    async def __aenter__(self) -> Any:
        return self.__enter__()

    async def __aexit__(self, et: Any, exc: BaseException | None, tb: Any) -> None:
        self.end(exc)

    def to_event(self, service: str) -> dict[str, Any]:
        """The contract event as a plain dict (for redaction hooks; export uses :meth:`to_json`)."""
        return dict(json.loads(self.to_json(service)))

    def to_json(self, service: str) -> str:  # pragma: no cover - overridden
        raise NotImplementedError

    def _common_json(self, service: str, schema_version: str = "1.0") -> list[str]:
        """The fields every span event has, as JSON text fragments (export thread).

        Written directly rather than through a dict and ``json.dumps``: half the cost, and
        the export thread's cost is what bounds throughput. Fields at the contract's
        default (None, 0, {}) are left out. Ids the SDK made are hex and need no escaping;
        text from the app goes through ``_q`` (JSON string escaping).
        """
        started = self.started_at
        latency_s = self.latency_s
        parts = [
            f'{{"schema_version":"{schema_version}","log_type":"{self._log_type}",'
            f'"request_id":"{self._rid or self.request_id}","service":{_render.quote_cached(service)},'
            f'"started_at":"{_render.iso(started)}","finished_at":"{_render.iso(started + latency_s)}",'
            f'"latency_ms":{latency_s * 1000:.3f},"status":"{self.status}"'
        ]
        if self.trace_id:
            parts.append(f',"trace_id":"{self.trace_id}","span_id":"{self.span_id}"')
        if self.parent_span_id is not None:
            parts.append(f',"parent_span_id":"{self.parent_span_id}"')
        if self.conversation_id is not None:
            parts.append(f',"conversation_id":{_q(_render.name(self.conversation_id))}')
        if self.session_id is not None:
            parts.append(f',"session_id":{_q(_render.name(self.session_id))}')
        if self.user_id is not None:
            parts.append(f',"user_id":{_q(_render.name(self.user_id))}')
        if self.metadata:
            parts.append(f',"metadata":{_render.dumps(_render.metadata(self.metadata))}')
        if self.error_code is not None:
            parts.append(f',"error_code":{_q(_render.name(self.error_code))}')
            message = _render.message(self.error_message)
            if message is not None:
                parts.append(f',"error_message":{_q(message)}')
        return parts
