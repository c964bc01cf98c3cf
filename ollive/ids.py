"""Identifiers: UUIDv7 request ids and W3C trace-context trace/span ids (stdlib only).

The one id maker of the package: the SDK's spans, records and the ingest side all draw
their ids here. Trace and span ids come from :mod:`random` like OpenTelemetry's
``RandomIdGenerator`` (cheap on a hot path; the module re-seeds itself after ``fork``).
"""

from __future__ import annotations

import os
import random
import secrets
import threading
import time
import uuid

__all__ = ["new_span_id", "new_trace_id", "uuid7", "uuid7_from_ms", "uuid7_str"]

_lock = threading.Lock()
_last_ms = 0
_seq = 0
_getrandbits = random.getrandbits


def uuid7() -> uuid.UUID:
    """A UUIDv7 (RFC 9562): 48-bit Unix milliseconds, then a 12-bit counter, then random bits.

    Monotonic within a process: ids made in the same millisecond sort in creation order.
    """
    global _last_ms, _seq
    ms = time.time_ns() // 1_000_000
    with _lock:
        if ms <= _last_ms:
            _seq += 1
            if _seq > 0xFFF:  # counter overflow: borrow the next millisecond
                _last_ms += 1
                _seq = 0
            ms = _last_ms
        else:
            _last_ms = ms
            _seq = secrets.randbits(8)  # leave room for the counter to grow
        seq = _seq
    return _build(ms, seq, int.from_bytes(os.urandom(8), "big"))


def uuid7_from_ms(ms: int, rand: int) -> uuid.UUID:
    """A UUIDv7 for a given timestamp and 74 random bits (used by synthetic data)."""
    return _build(ms, (rand >> 62) & 0xFFF, rand)


def uuid7_str(ms: int) -> str:
    """``str(uuid7_from_ms(ms, random.getrandbits(74)))``, formatted in one step.

    The SDK's export thread makes many per second, so no :class:`uuid.UUID` is built:
    48-bit ms, version 7, a 12-bit counter from the random bits, variant ``10``, 62 random
    bits (the layout of :func:`uuid7_from_ms`).
    """
    rand = _getrandbits(74)
    return "%08x-%04x-7%03x-%04x-%012x" % (  # noqa: UP031 - the fastest form here
        (ms >> 16) & 0xFFFF_FFFF,
        ms & 0xFFFF,
        (rand >> 62) & 0xFFF,
        0x8000 | ((rand >> 48) & 0x3FFF),
        rand & 0xFFFF_FFFF_FFFF,
    )


def _build(ms: int, seq: int, rand62: int) -> uuid.UUID:
    value = (ms & 0xFFFF_FFFF_FFFF) << 80
    value |= 0x7 << 76 | (seq & 0xFFF) << 64
    value |= 0b10 << 62 | (rand62 & ((1 << 62) - 1))
    return uuid.UUID(int=value)


def new_trace_id() -> str:
    """A W3C trace-context trace id: 32 lowercase hex digits, never all zero."""
    value = _getrandbits(128)
    while not value:  # pragma: no cover - one chance in 2**128
        value = _getrandbits(128)
    return f"{value:032x}"


def new_span_id() -> str:
    """A W3C trace-context span id: 16 lowercase hex digits, never all zero."""
    value = _getrandbits(64)
    while not value:  # pragma: no cover - one chance in 2**64
        value = _getrandbits(64)
    return f"{value:016x}"
