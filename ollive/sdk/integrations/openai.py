"""Instrument an official ``openai`` client: every chat completion becomes an inference event.

::

    from openai import OpenAI
    from ollive.integrations.openai import instrument
    client = instrument(OpenAI())
    client.chat.completions.create(model="gpt-4o-mini", messages=[...])

Sync and async clients, streaming included: TTFT at the first content (or tool-call) chunk,
text and tool calls gathered from the deltas, usage from the final chunk when the request
has ``stream_options={"include_usage": True}`` (``instrument(client, stream_usage=True)``
adds it to streamed requests that do not say otherwise: the extra final chunk has no
``choices``, so only turn it on if your code tolerates that). A stream closed before its end
is ``cancelled``. Errors keep their class name as ``error_code`` (``APITimeoutError`` ->
``timeout``). The client's own retries happen inside one event: ``metadata.retries`` counts
them. Only ``client.chat.completions.create`` is instrumented (not ``with_raw_response``);
``client.with_options(...)`` returns an instrumented copy.
"""

from __future__ import annotations

import contextlib
import inspect
from contextvars import ContextVar
from typing import Any, TypeVar

from ollive.sdk import InferenceSpan, count_internal_error, inference_span, is_enabled
from ollive.sdk.shapes import absorb_chunk, absorb_response, finish_stream

__all__ = ["instrument"]

C = TypeVar("C")
_attempts: ContextVar[list[int] | None] = ContextVar("ollive_openai_attempts", default=None)
_MARK = "_ollive_instrumented"


def instrument(client: C, *, provider: str = "openai", stream_usage: bool = False) -> C:
    """Wrap ``client.chat.completions.create`` (sync or async client); returns the client.

    Idempotent; a no-op wrapper costs one check per call until ``ollive.init`` runs.
    """
    completions = client.chat.completions  # type: ignore[attr-defined]
    if getattr(completions, _MARK, False):
        return client
    original = completions.create
    is_async = inspect.iscoroutinefunction(original) or type(completions).__name__.startswith(
        "Async"
    )
    wrapper = _async_create if is_async else _sync_create
    completions.create = wrapper(original, provider, stream_usage)
    setattr(completions, _MARK, True)
    _count_attempts(client, is_async)
    copy = getattr(client, "copy", None)
    if callable(copy):  # client.with_options(...) / client.copy(...) return instrumented copies

        def instrumented_copy(*args: Any, **kwargs: Any) -> Any:
            return instrument(copy(*args, **kwargs), provider=provider, stream_usage=stream_usage)

        client.copy = instrumented_copy  # type: ignore[attr-defined]
        client.with_options = instrumented_copy  # type: ignore[attr-defined]
    return client


def _count_attempts(client: Any, is_async: bool) -> None:
    """Count the HTTP requests of each create call (the client's retries) via httpx hooks."""
    http = getattr(client, "_client", None)
    hooks = getattr(http, "event_hooks", None)
    if hooks is None or getattr(http, _MARK, False):  # copies share their parent's client
        return

    def hook(request: Any) -> None:
        holder = _attempts.get()
        if holder is not None:
            holder[0] += 1

    async def ahook(request: Any) -> None:
        hook(request)

    hooks = dict(hooks)
    hooks["request"] = [*hooks.get("request", []), ahook if is_async else hook]
    http.event_hooks = hooks  # type: ignore[union-attr]
    with contextlib.suppress(AttributeError):
        setattr(http, _MARK, True)


def _begin(provider: str, stream_usage: bool, kwargs: dict[str, Any]) -> InferenceSpan | None:
    if not is_enabled():
        return None
    try:
        if kwargs.get("stream") and stream_usage and "stream_options" not in kwargs:
            kwargs["stream_options"] = {"include_usage": True}
        span = inference_span(
            provider,
            str(kwargs.get("model") or "unknown"),
            input=kwargs.get("messages"),
            stream=bool(kwargs.get("stream")),
        )
        if span is not None:
            span.start(activate=False)
        return span
    except Exception:
        count_internal_error()
        return None


def _note_attempts(span: InferenceSpan, holder: list[int]) -> None:
    if holder[0] > 1:
        span.set_metadata(retries=holder[0] - 1)


def _finish(span: InferenceSpan, response: Any) -> None:
    try:
        absorb_response(span, response)
        model = getattr(response, "model", None)
        if model and model != span.model:
            span.set_metadata(response_model=model)
    except Exception:
        count_internal_error()
    span.end()


def _sync_create(original: Any, provider: str, stream_usage: bool) -> Any:
    def create(*args: Any, **kwargs: Any) -> Any:
        span = _begin(provider, stream_usage, kwargs)
        if span is None:
            return original(*args, **kwargs)
        holder = [0]
        token = _attempts.set(holder)
        span_token = span.activate()
        try:
            response = original(*args, **kwargs)
        except BaseException as exc:
            span.end(exc)
            raise
        finally:
            _attempts.reset(token)
            span.deactivate(span_token)
        _note_attempts(span, holder)
        if kwargs.get("stream"):
            return _Stream(response, span)
        _finish(span, response)
        return response

    create.__wrapped__ = original  # type: ignore[attr-defined]
    return create


def _async_create(original: Any, provider: str, stream_usage: bool) -> Any:
    async def create(*args: Any, **kwargs: Any) -> Any:
        span = _begin(provider, stream_usage, kwargs)
        if span is None:
            return await original(*args, **kwargs)
        holder = [0]
        token = _attempts.set(holder)
        span_token = span.activate()
        try:
            response = await original(*args, **kwargs)
        except BaseException as exc:
            span.end(exc)
            raise
        finally:
            _attempts.reset(token)
            span.deactivate(span_token)
        _note_attempts(span, holder)
        if kwargs.get("stream"):
            return _AsyncStream(response, span)
        _finish(span, response)
        return response

    create.__wrapped__ = original  # type: ignore[attr-defined]
    return create


class _StreamBase:
    """What the sync and async stream proxies share: chunk bookkeeping and the span's end."""

    def __init__(self, stream: Any, span: InferenceSpan) -> None:
        self._stream = stream
        self._span: InferenceSpan | None = span
        self._state: dict[str, Any] = {}

    def _chunk(self, chunk: Any) -> None:
        if self._span is not None:
            try:
                absorb_chunk(self._span, chunk, self._state)
            except Exception:
                count_internal_error()

    def _done(self, exc: BaseException | None) -> None:
        span, self._span = self._span, None
        if span is not None:
            try:
                finish_stream(span, self._state)
            except Exception:
                count_internal_error()
            span.end(exc)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)

    def __del__(self) -> None:
        if getattr(self, "_span", None) is not None:
            self._done(GeneratorExit())


class _Stream(_StreamBase):
    """A proxy for ``openai.Stream`` that records the stream into the span."""

    def __iter__(self) -> _Stream:
        return self

    def __next__(self) -> Any:
        try:
            chunk = next(self._iterator())
        except StopIteration:
            self._done(None)
            raise
        except BaseException as exc:
            self._done(exc)
            raise
        self._chunk(chunk)
        return chunk

    def _iterator(self) -> Any:
        it = self.__dict__.get("_it")
        if it is None:
            it = self.__dict__["_it"] = iter(self._stream)
        return it

    def close(self) -> None:
        if self._span is not None:
            self._done(GeneratorExit())
        self._stream.close()

    def __enter__(self) -> _Stream:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class _AsyncStream(_StreamBase):
    """A proxy for ``openai.AsyncStream`` that records the stream into the span."""

    def __aiter__(self) -> _AsyncStream:
        return self

    async def __anext__(self) -> Any:
        it = self.__dict__.get("_it")
        if it is None:
            it = self.__dict__["_it"] = self._stream.__aiter__()
        try:
            chunk = await it.__anext__()
        except StopAsyncIteration:
            self._done(None)
            raise
        except BaseException as exc:
            self._done(exc)
            raise
        self._chunk(chunk)
        return chunk

    async def close(self) -> None:
        if self._span is not None:
            self._done(GeneratorExit())
        await self._stream.close()

    async def __aenter__(self) -> _AsyncStream:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()
