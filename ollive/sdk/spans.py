"""Spans: what ``ollive.inference`` and ``ollive.tool`` hand you while a call runs.

A span is cheap on the caller's thread: starting it reads two context variables and the
clocks; its setters store references; ending it appends the span itself to the processor's
queue. Previews, timestamps and the event dict are rendered later, on the export thread
(so pass strings, or objects you do not mutate afterwards, to the ``set_*`` methods).

``request_id`` (a UUIDv7) is made the first time someone asks for it, by the app or by the
exporter, and never changes afterwards.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ollive.sdk import _render
from ollive.sdk._context import (
    current_scope,
    current_span,
    is_sampled,
    new_span_id,
    new_trace_id,
    otel_parent,
)

if TYPE_CHECKING:  # pragma: no cover
    from ollive.sdk.api import Runtime

__all__ = ["InferenceSpan", "NoopSpan", "ToolSpan"]

_rid_lock = threading.Lock()
_perf = time.perf_counter
_q = _render.quote
_now = time.time


class _Span:
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
                    rid = self._rid = _render.uuid7_str(int((self.started_at or _now()) * 1000))
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

    # --- life cycle (shared by the context manager and every decorator path) -------------
    def _start(self, activate: bool = True) -> None:
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
                    self.trace_id = new_trace_id()
                rate = self._rt.sample_rate
                if rate < 1.0:
                    self.sampled = is_sampled(self.trace_id, rate)
        self._link(parent)
        self.span_id = new_span_id()
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

    def _finish(self, exc: BaseException | None = None, result: Any = None) -> None:
        """End the span, never raising (instrumentation fails open and is counted)."""
        try:
            if exc is None and result is not None:
                self._absorb(result)
            self._end(exc)
        except Exception:
            self._rt.processor.count_internal_error()

    def _absorb(self, result: Any) -> None:
        """Hook for subclasses: learn what can be learnt from a decorated function's result."""

    def _activate(self) -> Any:
        return current_span.set(self)

    def __enter__(self) -> Any:
        try:
            self._start()
        except Exception:  # pragma: no cover - defensive
            self._rt.processor.count_internal_error()
        return self

    def __exit__(self, et: Any, exc: BaseException | None, tb: Any) -> None:
        self._finish(exc)

    async def __aenter__(self) -> Any:
        return self.__enter__()

    async def __aexit__(self, et: Any, exc: BaseException | None, tb: Any) -> None:
        self._finish(exc)

    def to_event(self, service: str) -> dict[str, Any]:
        """The contract event as a plain dict (for redaction hooks; export uses :meth:`to_json`)."""
        return dict(json.loads(self.to_json(service)))

    def to_json(self, service: str) -> str:  # pragma: no cover - overridden
        raise NotImplementedError

    def _common_json(self, service: str) -> list[str]:
        """The fields every span event has, as JSON text fragments (export thread).

        Written directly rather than through a dict and ``json.dumps``: half the cost, and
        the export thread's cost is what bounds throughput. Fields at the contract's
        default (None, 0, {}) are left out. Ids the SDK made are hex and need no escaping;
        text from the app goes through ``_q`` (JSON string escaping).
        """
        started = self.started_at
        latency_s = self.latency_s
        parts = [
            f'{{"schema_version":"1.0","log_type":"{self._log_type}",'
            f'"request_id":"{self.request_id}","service":{_q(service)},'
            f'"started_at":"{_render.iso(started)}","finished_at":"{_render.iso(started + latency_s)}",'
            f'"latency_ms":{round(latency_s * 1000, 3)!r},"status":"{self.status}"'
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


class InferenceSpan(_Span):
    """One model call. Use the ``set_*`` methods while it runs; everything is optional."""

    _log_type = "inference"
    provider: str = "unknown"
    model: str = "unknown"
    stream: bool = False
    ttft_s: float | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int | None = None
    cached_prompt_tokens: int = 0
    cost_usd: float | None = None
    finish_reason: str | None = None
    tool_calls_count: int = 0
    _tool_calls: Any = None
    _input: Any = None
    _output: Any = None
    _chunks: list[str] | None = None
    _chunk_chars: int = 0

    def __init__(self, runtime: Runtime, provider: str, model: str) -> None:
        self._rt = runtime
        self.provider = provider
        self.model = model

    def set_input(self, value: Any) -> None:
        """The prompt: a string, or chat messages (the last one is previewed)."""
        self._input = value

    def set_output(self, value: Any) -> None:
        """The completion text (previewed, at most 500 characters)."""
        self._output = value

    def set_model(self, model: str, provider: str | None = None) -> None:
        """Correct the model (e.g. the dated name the provider answered with)."""
        self.model = model
        if provider is not None:
            self.provider = provider

    def set_usage(
        self,
        prompt_tokens: int = 0,
        completion_tokens: int = 0,
        total_tokens: int | None = None,
        cached_prompt_tokens: int = 0,
    ) -> None:
        """Token usage; ``total_tokens`` defaults to prompt + completion."""
        self.prompt_tokens = prompt_tokens or 0
        self.completion_tokens = completion_tokens or 0
        self.total_tokens = total_tokens
        self.cached_prompt_tokens = cached_prompt_tokens or 0

    def set_cost(self, cost_usd: float) -> None:
        """The call's cost, when you know it better than ingest's price table."""
        self.cost_usd = cost_usd

    def set_finish_reason(self, reason: str | None) -> None:
        """Why the model stopped (``stop``, ``length``, ``tool_calls``, ...)."""
        self.finish_reason = reason

    def set_tool_calls(self, calls: Sequence[Any]) -> None:
        """The tool calls the model asked for: names, OpenAI-shaped dicts or LangChain dicts."""
        self.tool_calls_count = len(calls)
        self._tool_calls = calls

    def record_first_token(self) -> None:
        """Mark the first streamed token (TTFT); later calls are ignored."""
        if self.ttft_s is None:
            self.ttft_s = _perf() - self._t0
            self.stream = True

    def _add_chunk(self, chunk: Any) -> None:
        if self.ttft_s is None:
            self.ttft_s = _perf() - self._t0
            self.stream = True
        if isinstance(chunk, str) and self._chunk_chars <= 500:
            if self._chunks is None:
                self._chunks = []
            self._chunks.append(chunk)
            self._chunk_chars += len(chunk)

    def _link(self, parent: Any) -> None:
        pass

    def _on_end(self) -> None:
        scope = self._scope
        if scope is not None:
            scope.last_inference = self

    def _absorb(self, result: Any) -> None:
        if isinstance(result, str):
            if self._output is None:
                self._output = result
            return
        from ollive.sdk._shapes import absorb_response

        absorb_response(self, result)

    def to_json(self, service: str) -> str:
        """The contract's ``inference`` event as JSON text (called on the export thread)."""
        parts = self._common_json(service)
        output = self._output
        if output is None and self._chunks:
            output = "".join(self._chunks)
        prompt = max(int(self.prompt_tokens), 0)
        completion = max(int(self.completion_tokens), 0)
        total = self.total_tokens
        total = prompt + completion if total is None else max(int(total), prompt + completion)
        parts.append(
            f',"provider":{_q(_render.name(self.provider))},"model":{_q(_render.name(self.model))}'
            f',"prompt_tokens":{prompt},"completion_tokens":{completion},"total_tokens":{total}'
        )
        if self.stream:
            parts.append(',"stream":true')
        if self.ttft_s is not None:
            ttft_ms = min(round(self.ttft_s * 1000, 3), round(self.latency_s * 1000, 3))
            parts.append(f',"ttft_ms":{max(ttft_ms, 0.0)!r}')
        if self.cached_prompt_tokens:
            parts.append(
                f',"cached_prompt_tokens":{min(max(int(self.cached_prompt_tokens), 0), prompt)}'
            )
        if self.finish_reason is not None:
            parts.append(f',"finish_reason":{_q(_render.name(self.finish_reason))}')
        if self.tool_calls_count:
            parts.append(f',"tool_calls_count":{min(int(self.tool_calls_count), 10_000)}')
            summary = _tool_calls_summary(self._tool_calls)
            if summary is not None:
                parts.append(f',"tool_calls_summary":{_q(summary)}')
        if self._input is not None:
            parts.append(f',"input_preview":{_q(_render.preview(self._input) or "")}')
        if output is not None:
            parts.append(f',"output_preview":{_q(_render.preview(output) or "")}')
        if self.cost_usd is not None:
            parts.append(f',"cost_usd":{_render.dumps(max(float(self.cost_usd), 0.0))}')
        parts.append("}")
        return "".join(parts)


def _tool_call_text(call: Any) -> str:
    if isinstance(call, str):
        return call
    if isinstance(call, dict):
        fn = call.get("function")
        if isinstance(fn, dict):  # OpenAI: {"function": {"name", "arguments"}}
            return f"{fn.get('name')}({fn.get('arguments') or ''})"
        args = call.get("args", call.get("arguments", ""))
        return f"{call.get('name')}({_render.preview(args, 200) if args else ''})"
    fn = getattr(call, "function", None)
    if fn is not None:  # OpenAI SDK objects
        return f"{getattr(fn, 'name', '?')}({getattr(fn, 'arguments', '') or ''})"
    return str(getattr(call, "name", call))


def _tool_calls_summary(calls: Any) -> str | None:
    if not calls:
        return None
    try:
        return _render.cut("; ".join(_tool_call_text(c) for c in calls))
    except Exception:
        return None


class ToolSpan(_Span):
    """One tool call, linked to the inference that asked for it (see ``parent_request_id``)."""

    _log_type = "tool_execution"
    tool_name: str = "tool"
    _args: tuple[Any, ...] = ()
    _kwargs: dict[str, Any] | None = None
    _result: Any = None
    _parent_inference: Any = None

    def __init__(
        self,
        runtime: Runtime,
        tool_name: str,
        args: tuple[Any, ...] = (),
        kwargs: dict[str, Any] | None = None,
    ) -> None:
        self._rt = runtime
        self.tool_name = tool_name
        self._args = args
        self._kwargs = kwargs

    def _link(self, parent: Any) -> None:
        # Rule: the enclosing inference; else the enclosing tool's inference; else the most
        # recent inference that finished in the same conversation scope (agent loops).
        if isinstance(parent, InferenceSpan):
            self._parent_inference = parent
        elif isinstance(parent, ToolSpan):
            self._parent_inference = parent._parent_inference
        elif self._scope is not None:
            self._parent_inference = self._scope.last_inference

    @property
    def parent_request_id(self) -> str | None:
        """request_id of the inference this tool call is linked to (None when there is none)."""
        parent = self._parent_inference
        return None if parent is None else parent.request_id

    def set_args(self, value: Any) -> None:
        """Replace the arguments preview source."""
        self._args, self._kwargs = (value,), None

    def set_result(self, value: Any) -> None:
        """The tool's result (previewed, at most 500 characters)."""
        self._result = value

    def _absorb(self, result: Any) -> None:
        if self._result is None:
            self._result = result

    def to_json(self, service: str) -> str:
        """The contract's ``tool_execution`` event as JSON text (export thread)."""
        parts = self._common_json(service)
        parts.append(f',"tool_name":{_q(_render.name(self.tool_name, "tool"))}')
        parent = self.parent_request_id
        if parent is not None:
            parts.append(f',"parent_request_id":"{parent}"')
        args = _render.args_preview(self._args, self._kwargs or {})
        if args is not None:
            parts.append(f',"args_preview":{_q(args)}')
        if self._result is not None:
            parts.append(f',"result_preview":{_q(_render.preview(self._result) or "")}')
        parts.append("}")
        return "".join(parts)


class NoopSpan:
    """What the API hands out before ``ollive.init``, when disabled, or when not sampled away.

    Every setter does nothing; ``request_id`` is ``None``.
    """

    request_id: str | None = None
    parent_request_id: str | None = None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("set_") or name in ("record_first_token", "record_exception"):
            return _nothing
        raise AttributeError(name)

    def __enter__(self) -> NoopSpan:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    async def __aenter__(self) -> NoopSpan:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        return None


def _nothing(*args: Any, **kwargs: Any) -> None:
    return None


NOOP_SPAN = NoopSpan()
