"""Turning what the app handed us into contract-valid JSON values (runs on the export thread).

Everything here is defensive: a value that cannot be rendered becomes a placeholder string,
never an exception into the app.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from ollive.events import (
    MAX_MESSAGE_CHARS,
    MAX_METADATA_BYTES,
    MAX_METADATA_DEPTH,
    MAX_PREVIEW_CHARS,
)

__all__ = ["cut", "dumps", "iso", "metadata", "name", "preview", "quote", "status_of"]

_MAX_NAME = 256

#: JSON text of a string (quotes and escapes; non-ASCII kept as is).
quote = json.encoder.encode_basestring  # type: ignore[attr-defined]
#: JSON text of any plain value (no NaN/Infinity; unknown objects via ``str``).
dumps = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=str
).encode
_CANCELLED = frozenset({"CancelledError", "GeneratorExit", "KeyboardInterrupt"})


def cut(text: str, limit: int = MAX_PREVIEW_CHARS) -> str:
    """``text`` cut to ``limit`` characters, ending in an ellipsis when cut (as the contract does)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def name(value: Any, default: str = "unknown") -> str:
    """A non-empty name of at most 256 characters."""
    text = str(value) if value is not None else ""
    return text[:_MAX_NAME] if text else default


_quoted: dict[str, str] = {}


def quote_cached(text: str) -> str:
    """:func:`quote` for the few strings that repeat on every event (the service name)."""
    quoted = _quoted.get(text)
    if quoted is None:
        if len(_quoted) >= 256:
            _quoted.clear()
        quoted = _quoted[text] = quote(text)
    return quoted


_second_cache: tuple[int, str] = (-1, "")


def iso(epoch_s: float) -> str:
    """An epoch time as an ISO 8601 UTC timestamp with microseconds (``...T12:00:00.000001+00:00``).

    The date-time prefix is cached per second: the export thread formats many per second.
    """
    global _second_cache
    second = int(epoch_s)
    cached_second, prefix = _second_cache
    if second != cached_second:
        prefix = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")
        _second_cache = (second, prefix)
    micros = int((epoch_s - second) * 1_000_000)
    return f"{prefix}.{min(micros, 999_999):06d}+00:00"


def _message_text(message: Any) -> str | None:
    """The text of one chat message: a dict with ``content`` or an object with ``.content``."""
    content = (
        message.get("content") if isinstance(message, dict) else getattr(message, "content", None)
    )
    if content is None:
        return None
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts: [{"type": "text", "text": ...}, ...]
        parts = [p.get("text", "") if isinstance(p, dict) else str(p) for p in content]
        return " ".join(p for p in parts if p)
    return str(content)


def preview(value: Any, limit: int = MAX_PREVIEW_CHARS) -> str | None:
    """A preview of at most ``limit`` characters.

    Strings are cut; a list of chat messages previews its last message; anything else is
    rendered as JSON (``str`` for what JSON cannot hold).
    """
    if value is None:
        return None
    if isinstance(value, str):
        return cut(value, limit)
    try:
        if isinstance(value, bytes):
            return cut(value.decode("utf-8", "replace"), limit)
        if isinstance(value, list | tuple) and value:
            text = _message_text(value[-1]) if _looks_like_message(value[-1]) else None
            if text is not None:
                return cut(text, limit)
        if _looks_like_message(value):
            text = _message_text(value)
            if text is not None:
                return cut(text, limit)
        return cut(json.dumps(value, default=str, ensure_ascii=False), limit)
    except Exception:
        try:
            return cut(repr(value), limit)
        except Exception:
            return "<unrepresentable>"


def _looks_like_message(value: Any) -> bool:
    if isinstance(value, dict):
        return "content" in value and ("role" in value or "type" in value)
    return hasattr(value, "content") and (hasattr(value, "type") or hasattr(value, "role"))


def args_preview(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str | None:
    """A preview of a tool's arguments: JSON of the keyword arguments, positionals first."""
    if not args and not kwargs:
        return None
    if not args:
        return preview(kwargs)
    if not kwargs and len(args) == 1:
        return preview(args[0])
    return preview({"args": list(args), **kwargs})


def message(text: Any) -> str | None:
    """An error or log message cut to the contract's limit."""
    if text is None:
        return None
    try:
        return cut(str(text), MAX_MESSAGE_CHARS)
    except Exception:
        return "<unrepresentable>"


def _depth(value: Any, level: int = 1) -> int:
    if isinstance(value, dict):
        return max([level, *(_depth(v, level + 1) for v in value.values())])
    if isinstance(value, list):
        return max([level, *(_depth(v, level + 1) for v in value)])
    return level - 1


def metadata(value: dict[str, Any] | None) -> dict[str, Any]:
    """Metadata as plain JSON within the contract's size and depth limits, else a note why not."""
    if not value:
        return {}
    try:
        plain = json.loads(json.dumps(value, default=str, allow_nan=False, ensure_ascii=False))
    except (TypeError, ValueError) as exc:
        return {"ollive_dropped": f"metadata is not plain JSON: {exc}"[:200]}
    if not isinstance(plain, dict):
        return {}
    if _depth(plain) > MAX_METADATA_DEPTH:
        return {"ollive_dropped": f"metadata nested deeper than {MAX_METADATA_DEPTH} levels"}
    if len(json.dumps(plain, ensure_ascii=False).encode()) > MAX_METADATA_BYTES:
        return {"ollive_dropped": f"metadata larger than {MAX_METADATA_BYTES} bytes"}
    return plain


def status_of(exc: BaseException | None) -> str:
    """The contract status of an outcome: ok, error, timeout or cancelled.

    ``timeout``: ``TimeoutError`` (and ``asyncio.TimeoutError``) or any exception whose class
    (or a base class) is named like ``*Timeout*`` (httpx timeouts, ``openai.APITimeoutError``).
    ``cancelled``: ``asyncio.CancelledError``, ``GeneratorExit`` (a stream closed early),
    ``KeyboardInterrupt``.
    """
    if exc is None:
        return "ok"
    for klass in type(exc).__mro__:
        if klass.__name__ in _CANCELLED:
            return "cancelled"
    if isinstance(exc, TimeoutError):
        return "timeout"
    for klass in type(exc).__mro__:
        if "Timeout" in klass.__name__:
            return "timeout"
    return "error"
