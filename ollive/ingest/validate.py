"""Parse and validate a ``POST /v1/logs`` body, one event at a time.

A body is one event (a JSON object with ``log_type``) or ``{"events": [...]}``. Each event
is validated on its own: a bad event is listed by its index with field paths and never
rejects its batch mates. A ``project`` field in the body is ignored (the project comes from
the API key). Malformed JSON or a wrong top-level shape raises :class:`ContractError`
(answered 400); too many events raises :class:`BatchTooLargeError` (answered 413).

Plain events are vouched for by a fast path (:mod:`ollive.ingest._fast_validate`) that
builds the models pydantic would; pydantic decides every other event, so the decisions and
the errors stay its own.
"""

from __future__ import annotations

import gzip
import zlib
from dataclasses import dataclass, field
from typing import Any

import orjson

from ollive.errors import ContractError, PayloadTooLargeError
from ollive.events import (
    ApplicationEvent,
    InferenceEvent,
    ScoreEvent,
    ToolExecutionEvent,
    parse_event,
)

try:
    from ollive.ingest._fast_validate import vouch_for
except ImportError:  # msgspec comes with the platform extra; without it pydantic checks all
    vouch_for = None  # type: ignore[assignment]

__all__ = ["AnyEvent", "BatchTooLargeError", "ParsedBody", "Rejection", "decode_body", "parse_body"]

AnyEvent = InferenceEvent | ToolExecutionEvent | ApplicationEvent | ScoreEvent


class BatchTooLargeError(PayloadTooLargeError):
    """The body (decompressed) or its event count is over the configured limit (413)."""


@dataclass(slots=True)
class Rejection:
    """One rejected event: its index in the body and ``[{"loc", "msg"}]`` errors."""

    index: int
    errors: list[dict[str, str]]

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "errors": self.errors}


@dataclass(slots=True)
class ParsedBody:
    """Valid events with their body indexes, and the rejected ones."""

    events: list[AnyEvent] = field(default_factory=list)
    indexes: list[int] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)

    def reject(self, index: int, loc: str, msg: str) -> None:
        """Move the event at body ``index`` from ``events`` to ``rejected``."""
        pos = self.indexes.index(index)
        del self.events[pos]
        del self.indexes[pos]
        self.rejected.append(Rejection(index, [{"loc": loc, "msg": msg}]))
        self.rejected.sort(key=lambda r: r.index)


def decode_body(body: bytes, content_encoding: str | None, max_body_bytes: int) -> bytes:
    """Undo ``gzip``/``deflate`` (bounded, so a zip bomb is a 413, not an OOM)."""
    encoding = (content_encoding or "identity").strip().lower()
    if encoding in ("", "identity"):
        if len(body) > max_body_bytes:
            raise BatchTooLargeError(f"body is {len(body)} bytes; the limit is {max_body_bytes}")
        return body
    if encoding not in ("gzip", "x-gzip", "deflate"):
        raise ContractError(f"unsupported Content-Encoding {encoding!r}; use gzip or none")
    wbits = 16 + zlib.MAX_WBITS if encoding != "deflate" else zlib.MAX_WBITS
    decoder = zlib.decompressobj(wbits)
    try:
        out = decoder.decompress(body, max_body_bytes + 1)
    except (zlib.error, gzip.BadGzipFile) as exc:
        raise ContractError(f"body is not valid {encoding}: {exc}") from None
    if len(out) > max_body_bytes or decoder.unconsumed_tail:
        raise BatchTooLargeError(f"decompressed body is over the limit of {max_body_bytes} bytes")
    return out


def parse_body(body: bytes, max_events: int, *, fast: bool = True) -> ParsedBody:
    """Validate every event of a body; see the module docstring for the shapes.

    ``fast=False`` validates every event with pydantic alone: the decisions are the same (the
    fast path accepts only what pydantic would accept, as pydantic would build it), which is
    what comparing the two shows.
    """
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        data = _overflowing_numbers(body, exc)
        fast = False  # the standard library lets lone surrogates through: pydantic checks them
    if isinstance(data, dict) and "events" in data and "log_type" not in data:
        extra = sorted(set(data) - {"events", "project"})
        if extra:
            raise ContractError(f"unknown top-level fields {extra}; expected only 'events'")
        items = data["events"]
        if not isinstance(items, list):
            raise ContractError("'events' must be a JSON array of events")
    elif isinstance(data, dict):
        items = [data]
    else:
        raise ContractError('body must be one event (object) or {"events": [...]}')
    if len(items) > max_events:
        raise BatchTooLargeError(f"{len(items)} events in one body; the limit is {max_events}")
    return _validate_items(items, fast)


# --- a number too large for a double (1e400) rejects its event, not its batch ---
def _overflowing_numbers(body: bytes, exc: orjson.JSONDecodeError) -> Any:
    """Parse again with the standard library (1e400 -> inf, which the contract rejects per
    event) when orjson only refused an overflowing number; else raise ContractError."""
    if "infinity" not in str(exc):
        raise ContractError(f"malformed JSON: {exc}") from None
    import json

    def _no_constants(name: str) -> Any:
        raise ValueError(f"{name} is not JSON")

    try:
        return json.loads(body, parse_constant=_no_constants)
    except (ValueError, RecursionError) as again:  # UnicodeDecodeError is a ValueError
        raise ContractError(f"malformed JSON: {again}") from None


def _validate_items(items: list[Any], fast: bool) -> ParsedBody:
    """The fast path vouches for the plain events; pydantic decides the rest, and words the
    errors of those it rejects."""
    for item in items:
        if isinstance(item, dict):
            item.pop("project", None)
    vouched: list[AnyEvent | None] = (
        vouch_for(items) if fast and vouch_for is not None else [None] * len(items)
    )
    parsed = ParsedBody()
    for index, (item, event) in enumerate(zip(items, vouched, strict=True)):
        if event is None:
            try:
                event = parse_event(item)
            except ContractError as exc:
                parsed.rejected.append(Rejection(index, exc.errors))
                continue
        parsed.events.append(event)
        parsed.indexes.append(index)
    return parsed
