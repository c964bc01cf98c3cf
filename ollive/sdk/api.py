"""The SDK's API: ``init``, ``conversation``, ``prompt``, ``inference``, ``tool``, ``score``,
``flush``, ``shutdown``, ``stats``.

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
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, overload

from ollive.config.sdk import SdkConfig, SdkSettings, resolve_sdk_config
from ollive.ids import new_trace_id
from ollive.sdk import _runtime
from ollive.sdk._context import Scope, current_scope, current_span, is_sampled, otel_parent
from ollive.sdk._records import ScoreRecord
from ollive.sdk._runtime import Runtime
from ollive.sdk._spill import DiskBuffer, default_spill_root
from ollive.sdk._wrappers import wrap
from ollive.sdk.exporter import HttpExporter
from ollive.sdk.hooks import count_internal_error, inference_span, is_enabled, tool_span
from ollive.sdk.processor import BatchProcessor, Redactor
from ollive.sdk.prompts import Prompt
from ollive.sdk.spans import NOOP_SPAN, InferenceSpan, NoopSpan

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
    "prompt",
    "score",
    "shutdown",
    "stats",
    "tool",
]

log = logging.getLogger("ollive.sdk")
F = TypeVar("F", bound=Callable[..., Any])
_SCORE_SOURCES = ("user", "model", "human")


_init_lock = threading.Lock()
_atexit_registered = False
_shutdown_timeout_s = 5.0  # the deadline of the flush at interpreter exit
_ZERO_STATS = dict.fromkeys(
    ("enqueued", "queued", "spilled", "sent", "failed", "retried", "dropped", "internal_errors"),
    0,
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
    max_queue_bytes: int | None = None,
    max_spill_bytes: int | None = None,
    spill_dir: str | None = None,
    retry_backoff_s: float = 0.5,
    shutdown_timeout_s: float = 5.0,
    redact: Redactor | None = None,
    transport: httpx.BaseTransport | None = None,
    settings: SdkSettings | None = None,
) -> bool:
    """Start the SDK. True when it is enabled.

    Each argument left ``None`` comes from ``settings`` when given, else from its
    ``OLLIVE_*`` environment variable, else its default; a value passed is used as is
    (``max_retries=0`` retries zero times, ``sample_rate=0.0`` keeps nothing; a sample rate
    outside [0, 1] is clamped). Raises :class:`~ollive.errors.ConfigError` for a malformed
    ``OLLIVE_*`` variable or an out-of-range value (the one place the SDK raises: at wiring
    time, never on a call path).

    A burst that outruns the transport fills the in-memory queue up to ``max_queue_size``
    events and ``max_queue_bytes`` (64 MiB), then goes to a disk buffer of at most
    ``max_spill_bytes`` (1 GiB; 0 turns it off) under ``spill_dir`` (``~/.cache/ollive/spill``),
    sent in order once the queue ahead of it is empty; only past both are events dropped
    (counted in :func:`stats`, one warning when it starts, a summary at exit).

    ``redact`` runs on the export thread with each event dict and returns it (changed or
    not) or ``None`` to drop it. ``transport`` goes to the ``httpx.Client`` (tests).
    Calling ``init`` again flushes and replaces the previous setup. Pending events are
    flushed at interpreter exit, within ``shutdown_timeout_s``.
    """
    global _atexit_registered, _shutdown_timeout_s
    config = resolve_sdk_config(
        endpoint,
        api_key,
        service,
        None if sample_rate is None else min(max(sample_rate, 0.0), 1.0),
        disabled=disabled,
        max_queue_size=max_queue_size,
        max_batch_events=max_batch_events,
        max_batch_bytes=max_batch_bytes,
        flush_interval_s=flush_interval_s,
        export_timeout_s=export_timeout_s,
        max_retries=max_retries,
        max_queue_bytes=max_queue_bytes,
        max_spill_bytes=max_spill_bytes,
        spill_dir=spill_dir,
        settings=settings,
    )
    with _init_lock:
        old = _runtime.swap(None)
        if old is not None:
            old.processor.shutdown(shutdown_timeout_s)
        if config.disabled:
            return False
        _runtime.swap(_build_runtime(config, retry_backoff_s, redact, transport))
        _shutdown_timeout_s = shutdown_timeout_s
        if not _atexit_registered:
            atexit.register(_at_exit)
            _atexit_registered = True
        return True


def _build_runtime(
    config: SdkConfig,
    retry_backoff_s: float,
    redact: Redactor | None,
    transport: httpx.BaseTransport | None,
) -> Runtime:
    exporter = HttpExporter(
        config.endpoint,
        config.api_key,
        timeout_s=config.export_timeout_s,
        max_retries=config.max_retries,
        backoff_base_s=retry_backoff_s,
        transport=transport,
    )
    spill = None
    if config.max_spill_bytes > 0:
        root = Path(config.spill_dir) if config.spill_dir else default_spill_root()
        spill = DiskBuffer(root, config.max_spill_bytes)
    processor = BatchProcessor(
        exporter,
        service=config.service,
        spill=spill,
        max_queue_size=config.max_queue_size,
        max_queue_bytes=config.max_queue_bytes,
        max_batch_events=config.max_batch_events,
        max_batch_bytes=config.max_batch_bytes,
        flush_interval_s=config.flush_interval_s,
        redact=redact,
    )
    return Runtime(processor, config.service, config.sample_rate)


def _at_exit() -> None:
    rt = _runtime.current()
    shutdown(_shutdown_timeout_s)
    counts = rt.processor.stats() if rt is not None else _ZERO_STATS
    if counts["dropped"]:
        log.warning(
            "ollive: %d of %d events were not sent (dropped: full queue and disk buffer, the "
            "redaction hook, or the exit deadline); %d sent, %d failed, %d went through the "
            "disk buffer",
            counts["dropped"],
            counts["enqueued"] + counts["dropped"],
            counts["sent"],
            counts["failed"],
            counts["spilled"],
        )


def flush(timeout_s: float = 5.0) -> bool:
    """Send everything queued so far; True when it was exported within ``timeout_s``."""
    rt = _runtime.current()
    return True if rt is None else rt.processor.flush(timeout_s)


def shutdown(timeout_s: float = 5.0) -> bool:
    """Flush within ``timeout_s`` and stop the SDK; later calls are no-ops until ``init``."""
    with _init_lock:
        rt = _runtime.swap(None)
    return True if rt is None else rt.processor.shutdown(timeout_s)


def stats() -> dict[str, int]:
    """The transport's counters: enqueued, queued, spilled, sent, failed, retried, dropped,
    internal_errors (all zero before ``init``); see :meth:`BatchProcessor.stats`."""
    rt = _runtime.current()
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
        rt = _runtime.current()
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


def prompt(name: str, *, version: str | int | None = None, template: str | None = None) -> Prompt:
    """The prompt template the inferences inside are made from (contract v1.1).

    ``with ollive.prompt("support-answer", version=3, template=TEMPLATE):`` (or ``async
    with``, or as a decorator): every inference span started inside carries
    ``prompt_name``, ``prompt_version`` (``3`` is sent as ``"3"``) and ``prompt_hash``, the
    first 16 hex digits of the SHA-256 of ``template``. Nested prompts: the innermost wins.
    Make the object once and reuse it to hash the template once. Works before ``init`` too
    (spans are no-ops then); never raises.
    """
    return Prompt(name, version, template)


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
    rt = _runtime.current()
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
        try:
            span = inference_span(provider, model, metadata=metadata)
            if span is not None:
                span.set_input(
                    fixed_input if fixed_input is not None else _guess_input(args, kwargs)
                )
                span.start(activate=activate)
            return span
        except Exception:  # pragma: no cover - fail open
            count_internal_error()
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
            try:
                span = tool_span(tool_name, args=args, kwargs=kwargs, metadata=metadata)
                if span is not None:
                    span.start(activate=activate)
                return span
            except Exception:  # pragma: no cover - fail open
                count_internal_error()
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
    rt = _runtime.current()
    if rt is None or target_request_id is None:
        return
    if source not in _SCORE_SOURCES:
        source = "user"
    record = ScoreRecord(
        time.time(), str(target_request_id), name, float(value), comment, source, metadata
    )
    rt.processor.on_end(record)
