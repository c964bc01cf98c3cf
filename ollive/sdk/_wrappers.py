"""One decorator core for the four kinds of callables: sync, async, generator, async generator.

``begin(args, kwargs, activate)`` returns a started span (or ``None`` when the SDK is off);
every path ends it through the public ``span.end(error, result)``, which never raises, and
generators make it current with ``span.activate()`` / ``span.deactivate(token)``: the same
life cycle an integration drives. The wrapped function's own
exceptions are re-raised unchanged.

Generators: the span is made current only while the generator body runs (around each
``next``/``send``), never while the consumer holds a yielded value, so the consumer's context
is left as it was. Each yielded item counts as a streamed chunk (TTFT on the first one;
string chunks make the output preview). Closing a generator early ends its span as
``cancelled``.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncGenerator, Callable, Generator
from typing import Any

__all__ = ["wrap"]

Begin = Callable[[tuple[Any, ...], dict[str, Any], bool], Any]


def wrap(fn: Callable[..., Any], begin: Begin) -> Callable[..., Any]:
    """``fn`` wrapped so that each call runs inside a span made by ``begin``."""
    if inspect.isasyncgenfunction(fn):
        return _wrap_async_gen(fn, begin)
    if inspect.isgeneratorfunction(fn):
        return _wrap_gen(fn, begin)
    if inspect.iscoroutinefunction(fn):
        return _wrap_async(fn, begin)
    return _wrap_sync(fn, begin)


def _wrap_sync(fn: Callable[..., Any], begin: Begin) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        span = begin(args, kwargs, True)
        if span is None:
            return fn(*args, **kwargs)
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:
            span.end(exc)
            raise
        span.end(None, result)
        return result

    return wrapper


def _wrap_async(fn: Callable[..., Any], begin: Begin) -> Callable[..., Any]:
    @functools.wraps(fn)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        span = begin(args, kwargs, True)
        if span is None:
            return await fn(*args, **kwargs)
        try:
            result = await fn(*args, **kwargs)
        except BaseException as exc:
            span.end(exc)
            raise
        span.end(None, result)
        return result

    return wrapper


def _wrap_gen(fn: Callable[..., Any], begin: Begin) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Generator[Any, Any, Any]:
        span = begin(args, kwargs, False)
        if span is None:
            return (yield from fn(*args, **kwargs))
        gen = fn(*args, **kwargs)
        sent: Any = None
        thrown: BaseException | None = None
        try:
            while True:
                token = span.activate()
                try:
                    if thrown is not None:
                        exc, thrown = thrown, None
                        item = gen.throw(exc)
                    else:
                        item = gen.send(sent)
                finally:
                    span.deactivate(token)
                _chunk(span, item)
                try:
                    sent = yield item
                except GeneratorExit:
                    raise
                except BaseException as exc:  # thrown in by the consumer: pass it on
                    thrown, sent = exc, None
        except StopIteration as stop:
            span.end(None)
            return stop.value
        except GeneratorExit as exc:
            gen.close()
            span.end(exc)
            raise
        except BaseException as exc:
            span.end(exc)
            raise

    return wrapper


def _wrap_async_gen(fn: Callable[..., Any], begin: Begin) -> Callable[..., Any]:
    @functools.wraps(fn)
    async def wrapper(*args: Any, **kwargs: Any) -> AsyncGenerator[Any, Any]:
        span = begin(args, kwargs, False)
        agen = fn(*args, **kwargs)
        if span is None:
            async for item in agen:
                yield item
            return
        sent: Any = None
        thrown: BaseException | None = None
        try:
            while True:
                token = span.activate()
                try:
                    if thrown is not None:
                        exc, thrown = thrown, None
                        item = await agen.athrow(exc)
                    else:
                        item = await agen.asend(sent)
                finally:
                    span.deactivate(token)
                _chunk(span, item)
                try:
                    sent = yield item
                except GeneratorExit:
                    raise
                except BaseException as exc:
                    thrown, sent = exc, None
        except StopAsyncIteration:
            span.end(None)
        except GeneratorExit as exc:
            await agen.aclose()
            span.end(exc)
            raise
        except BaseException as exc:
            span.end(exc)
            raise

    return wrapper


def _chunk(span: Any, item: Any) -> None:
    add = getattr(span, "_add_chunk", None)
    if add is not None:
        try:  # noqa: SIM105 - hot path
            add(item)
        except Exception:  # pragma: no cover - fail open
            pass
