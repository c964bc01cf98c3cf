"""The SDK's API: ``init``, ``conversation``, ``inference``, ``tool``, ``score``, ``flush``,
``shutdown``, ``stats``.

Before :func:`init` (and with ``OLLIVE_DISABLED=1``) every call is a no-op: decorated
functions run and return as usual, context managers hand out a span whose setters do
nothing.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar, overload

from pydantic import ValidationError

from ollive.config import Settings
from ollive.errors import ConfigError
from ollive.sdk._context import (
    Scope,
    current_scope,
    current_span,
    is_sampled,
    new_trace_id,
    otel_parent,
)
from ollive.sdk._records import ScoreRecord
from ollive.sdk._wrappers import wrap
from ollive.sdk.exporter import HttpExporter
from ollive.sdk.processor import BatchProcessor, Redactor
from ollive.sdk.spans import NOOP_SPAN, InferenceSpan, NoopSpan, ToolSpan

if TYPE_CHECKING:  # pragma: no cover
    import httpx

__all__ = [
    "Runtime",
    "conversation",
    "current_inference",
    "flush",
    "inference",
    "init",
    "is_enabled",
    "score",
    "shutdown",
    "stats",
    "tool",
]

log = logging.getLogger("ollive.sdk")
F = TypeVar("F", bound=Callable[..., Any])
_SCORE_SOURCES = ("user", "model", "human")


class Runtime:
    """What ``init`` sets up: the processor and the per-process knobs spans read."""

    def __init__(self, processor: BatchProcessor, service: str, sample_rate: float) -> None:
        self.processor = processor
        self.service = service
        self.sample_rate = sample_rate


_runtime: Runtime | None = None
_init_lock = threading.Lock()
_atexit_registered = False
_shutdown_timeout_s = 5.0  # the deadline of the flush at interpreter exit
_ZERO_STATS = dict.fromkeys(
    ("enqueued", "queued", "sent", "failed", "retried", "dropped", "internal_errors"), 0
)


def init(
    endpoint: str | None = None,
    api_key: str | None = None,
    service: str | None = None,
    sample_rate: float | None = None,
    *,
    disabled: bool | None = None,
    max_queue_size: int | None = None,
    max_batch_events: int | None = None,
    max_batch_bytes: int | None = None,
    flush_interval_s: float | None = None,
    export_timeout_s: float | None = None,
    max_retries: int | None = None,
    retry_backoff_s: float = 0.5,
    shutdown_timeout_s: float = 5.0,
    redact: Redactor | None = None,
    transport: httpx.BaseTransport | None = None,
    settings: Settings | None = None,
) -> bool:
    """Start the SDK: arguments win over ``OLLIVE_*`` settings. True when it is enabled.

    Raises :class:`~ollive.errors.ConfigError` for a malformed ``OLLIVE_*`` variable (the
    one place the SDK raises: at wiring time, never on a call path).

    ``redact`` runs on the export thread with each event dict and returns it (changed or
    not) or ``None`` to drop it. ``transport`` goes to the ``httpx.Client`` (tests).
    Calling ``init`` again flushes and replaces the previous setup. Pending events are
    flushed at interpreter exit, within ``shutdown_timeout_s``.
    """
    global _runtime, _atexit_registered, _shutdown_timeout_s
    try:
        s = settings or Settings()  # type: ignore[call-arg]  # values come from the environment
    except ValidationError as exc:
        raise ConfigError(f"ollive.init: invalid OLLIVE_* setting: {exc}") from None
    with _init_lock:
        old, _runtime = _runtime, None
        if old is not None:
            old.processor.shutdown(shutdown_timeout_s)
        if s.disabled if disabled is None else disabled:
            return False
        exporter = HttpExporter(
            endpoint or s.endpoint,
            api_key or s.api_key,
            timeout_s=export_timeout_s or s.export_timeout_s,
            max_retries=s.max_retries if max_retries is None else max_retries,
            backoff_base_s=retry_backoff_s,
            transport=transport,
        )
        processor = BatchProcessor(
            exporter,
            service=service or s.service,
            max_queue_size=max_queue_size or s.max_queue_size,
            max_batch_events=max_batch_events or s.max_batch_events,
            max_batch_bytes=max_batch_bytes or s.max_batch_bytes,
            flush_interval_s=flush_interval_s or s.flush_interval_s,
            redact=redact,
        )
        rate = s.sample_rate if sample_rate is None else min(max(sample_rate, 0.0), 1.0)
        _runtime = Runtime(processor, service or s.service, rate)
        _shutdown_timeout_s = shutdown_timeout_s
        if not _atexit_registered:
            atexit.register(_at_exit)
            _atexit_registered = True
        return True


def _at_exit() -> None:
    shutdown(_shutdown_timeout_s)


def is_enabled() -> bool:
    """True between :func:`init` and :func:`shutdown` (and not disabled)."""
    return _runtime is not None


def flush(timeout_s: float = 5.0) -> bool:
    """Send everything queued so far; True when it was exported within ``timeout_s``."""
    rt = _runtime
    return True if rt is None else rt.processor.flush(timeout_s)


def shutdown(timeout_s: float = 5.0) -> bool:
    """Flush within ``timeout_s`` and stop the SDK; later calls are no-ops until ``init``."""
    global _runtime
    with _init_lock:
        rt, _runtime = _runtime, None
    return True if rt is None else rt.processor.shutdown(timeout_s)


def stats() -> dict[str, int]:
    """The transport's counters: enqueued, queued, sent, failed, retried, dropped,
    internal_errors (all zero before ``init``)."""
    rt = _runtime
    return dict(_ZERO_STATS) if rt is None else rt.processor.stats()


@contextmanager
def conversation(
    conversation_id: str | None = None,
    *,
    session_id: str | None = None,
    user_id: str | None = None,
) -> Iterator[Scope]:
    """Scope the calls inside to one conversation (and one trace).

    Everything started inside carries these ids; a tool that runs after its inference
    finished links to the most recent inference of the scope. Works across ``await`` and
    the tasks created inside; a new thread needs ``contextvars.copy_context().run``.
    """
    parent = current_span.get()
    outer = current_scope.get()
    if parent is not None:
        trace_id, sampled = parent.trace_id, parent.sampled
    else:
        otel = otel_parent()
        trace_id = otel[0] if otel is not None else new_trace_id()
        rt = _runtime
        sampled = True if rt is None else is_sampled(trace_id, rt.sample_rate)
    scope = Scope(
        trace_id,
        sampled,
        conversation_id if conversation_id is not None else getattr(outer, "conversation_id", None),
        session_id if session_id is not None else getattr(outer, "session_id", None),
        user_id if user_id is not None else getattr(outer, "user_id", None),
    )
    token = current_scope.set(scope)
    try:
        yield scope
    finally:
        current_scope.reset(token)


class _InferenceDecorator:
    """What ``ollive.inference(...)`` returns when the SDK is off: a no-op that can decorate."""

    def __init__(self, provider: str, model: str, options: dict[str, Any]) -> None:
        self._args = (provider, model, options)

    def __call__(self, fn: F) -> F:
        return _decorate_inference(fn, *self._args)

    def __enter__(self) -> NoopSpan:
        return NOOP_SPAN

    def __exit__(self, *exc: Any) -> None:
        return None

    async def __aenter__(self) -> NoopSpan:
        return NOOP_SPAN

    async def __aexit__(self, *exc: Any) -> None:
        return None


class _LiveInference(InferenceSpan):
    """An inference span that can also decorate a function (each call gets its own span)."""

    def __call__(self, fn: F) -> F:
        options = {"input": self._input, "metadata": self.metadata}
        return _decorate_inference(fn, self.provider, self.model, options)


def inference(
    provider: str,
    model: str,
    *,
    input: Any = None,
    stream: bool = False,
    metadata: dict[str, Any] | None = None,
) -> Any:
    """One model call, as a context manager (sync or async) or a decorator.

    ``with ollive.inference("openai", "gpt-4o-mini", input=prompt) as span:`` then
    ``span.set_usage(...)``, ``span.set_output(...)``, ``span.record_first_token()``...
    As a decorator it wraps sync, async, generator and async-generator functions; a string
    result becomes the output preview, an OpenAI completion or LangChain message is read
    for usage, output and tool calls; yielded chunks record TTFT.
    """
    rt = _runtime
    if rt is None:
        return _InferenceDecorator(
            provider, model, {"input": input, "stream": stream, "metadata": metadata}
        )
    span = _LiveInference(rt, provider, model)
    if input is not None:
        span._input = input
    if stream:
        span.stream = True
    if metadata:
        span.metadata = dict(metadata)
    return span


def _decorate_inference(fn: F, provider: str, model: str, options: dict[str, Any]) -> F:
    metadata = options.get("metadata")
    fixed_input = options.get("input")

    def begin(args: tuple[Any, ...], kwargs: dict[str, Any], activate: bool) -> Any:
        rt = _runtime
        if rt is None:
            return None
        try:
            span = InferenceSpan(rt, provider, model)
            span._input = fixed_input if fixed_input is not None else _guess_input(args, kwargs)
            if metadata:
                span.metadata = dict(metadata)
            span._start(activate)
            return span
        except Exception:  # pragma: no cover - fail open
            rt.processor.count_internal_error()
            return None

    return wrap(fn, begin)  # type: ignore[return-value]


def _guess_input(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    for key in ("messages", "prompt", "input"):
        if key in kwargs:
            return kwargs[key]
    return args[0] if len(args) == 1 else None


@overload
def tool(fn: F, /) -> F: ...
@overload
def tool(
    *, name: str | None = None, metadata: dict[str, Any] | None = None
) -> Callable[[F], F]: ...
def tool(
    fn: F | None = None, /, *, name: str | None = None, metadata: dict[str, Any] | None = None
) -> Any:
    """Record each call of a tool function (sync, async, generator) as a tool execution.

    ``@ollive.tool`` or ``@ollive.tool(name="lookup")``. Arguments and result are previewed
    (at most 500 characters); ``parent_request_id`` links to the enclosing inference, or to
    the most recent inference of the same ``ollive.conversation`` scope (agent loops).
    """

    def decorate(func: F) -> F:
        tool_name: str = name or getattr(func, "__name__", None) or "tool"

        def begin(args: tuple[Any, ...], kwargs: dict[str, Any], activate: bool) -> Any:
            rt = _runtime
            if rt is None:
                return None
            try:
                span = ToolSpan(rt, tool_name, args, kwargs)
                if metadata:
                    span.metadata = dict(metadata)
                span._start(activate)
                return span
            except Exception:  # pragma: no cover - fail open
                rt.processor.count_internal_error()
                return None

        return wrap(func, begin)  # type: ignore[return-value]

    return decorate(fn) if fn is not None else decorate


def current_inference() -> Any:
    """The inference span running now (inside ``ollive.inference``), else a no-op span."""
    span = current_span.get()
    return span if isinstance(span, InferenceSpan) else NOOP_SPAN


def score(
    target_request_id: Any,
    name: str,
    value: float | bool,
    comment: str | None = None,
    *,
    source: str = "user",
    metadata: dict[str, Any] | None = None,
) -> None:
    """Record feedback or an evaluation (``source``: user, model or human) about an event."""
    rt = _runtime
    if rt is None or target_request_id is None:
        return
    if source not in _SCORE_SOURCES:
        source = "user"
    record = ScoreRecord(
        time.time(), str(target_request_id), name, float(value), comment, source, metadata
    )
    rt.processor.on_end(record)
