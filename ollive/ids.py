"""Identifiers: UUIDv7 request ids and W3C trace-context trace/span ids (stdlib only)."""

from __future__ import annotations

import os
import secrets
import threading
import time
import uuid

__all__ = ["new_span_id", "new_trace_id", "uuid7", "uuid7_from_ms"]

_lock = threading.Lock()
_last_ms = 0
_seq = 0


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


def _build(ms: int, seq: int, rand62: int) -> uuid.UUID:
    value = (ms & 0xFFFF_FFFF_FFFF) << 80
    value |= 0x7 << 76 | (seq & 0xFFF) << 64
    value |= 0b10 << 62 | (rand62 & ((1 << 62) - 1))
    return uuid.UUID(int=value)


def new_trace_id() -> str:
    """A W3C trace-context trace id: 32 lowercase hex digits, never all zero."""
    while True:
        value = secrets.token_hex(16)
        if value != "0" * 32:
            return value


def new_span_id() -> str:
    """A W3C trace-context span id: 16 lowercase hex digits, never all zero."""
    while True:
        value = secrets.token_hex(8)
        if value != "0" * 16:
            return value
