"""HttpExporter: ships encoded events to ``POST <endpoint>/logs`` and never raises.

One request per batch: a gzip'd JSON body ``{"events": [...]}`` with
``Authorization: Bearer <api_key>``. Network errors, ``429`` and ``5xx`` are retried with
exponential backoff and jitter (``Retry-After`` honoured); any other ``4xx`` is final.
``413`` splits the batch in halves. The body of a batch is built once, so a retried event
carries the same ``request_id`` and ingest's dedupe makes delivery exactly-once.
"""

from __future__ import annotations

import contextlib
import email.utils
import gzip
import json
import logging
import random
import socket
import threading
import time
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:  # pragma: no cover
    import httpx


__all__ = ["ExportResult", "HttpExporter"]

log = logging.getLogger("ollive.sdk")
_RETRY_AFTER_MAX_S = 60.0
_SOCKET_OPTIONS = [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]


class ExportResult(NamedTuple):
    """What happened to one batch, in events."""

    sent: int = 0
    failed: int = 0
    retried: int = 0

    def __add__(self, other: object) -> ExportResult:  # type: ignore[override]
        assert isinstance(other, ExportResult)
        return ExportResult(
            self.sent + other.sent, self.failed + other.failed, self.retried + other.retried
        )


class HttpExporter:
    """Sends batches of JSON-encoded events over HTTP.

    ``transport`` is handed to :class:`httpx.Client` (tests inject ``httpx.MockTransport``).
    After ``fork`` the client is rebuilt on first use, never shared with the parent.
    """

    def __init__(
        self,
        endpoint: str,
        api_key: str | None = None,
        *,
        timeout_s: float = 10.0,
        max_retries: int = 8,
        backoff_base_s: float = 0.5,
        backoff_max_s: float = 30.0,
        compress_level: int = 1,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        import httpx  # at init (wiring time), not at ``import ollive``: httpx imports its CLI

        del httpx
        self.url = endpoint.rstrip("/") + "/logs"
        self._headers = {
            "Content-Type": "application/json",
            "Content-Encoding": "gzip",
            "User-Agent": "ollive-python",
        }
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"
        self._timeout_s = timeout_s
        self._max_retries = max_retries
        self._backoff_base_s = backoff_base_s
        self._backoff_max_s = backoff_max_s
        self._compress_level = compress_level
        self._transport = transport
        self._client: httpx.Client | None = None
        self._deadline = float("inf")
        self._interrupt = threading.Event()
        self._warned: set[str] = set()

    # --- public ---------------------------------------------------------------------------
    def export(self, events: list[bytes]) -> ExportResult:
        """Send ``events`` (each one JSON object as bytes); retry as documented; never raise."""
        if not events:
            return ExportResult()
        try:
            return self._export(events)
        except Exception as exc:  # fail open
            self._warn_once("internal", "ollive: export failed unexpectedly: %r", exc)
            return ExportResult(failed=len(events))

    def set_deadline(self, deadline: float) -> None:
        """Stop retrying at ``deadline`` (``time.monotonic()``); used by flush at shutdown."""
        self._deadline = deadline
        self._interrupt.set()

    def shutdown(self) -> None:
        """Close the HTTP client."""
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):
                client.close()

    def after_fork(self) -> None:
        """Forget the parent's client and sockets (called in a forked child)."""
        self._client = None
        self._interrupt = threading.Event()
        self._deadline = float("inf")

    # --- internals ------------------------------------------------------------------------
    def _http(self) -> httpx.Client:
        import httpx

        client = self._client
        if client is None:
            # TCP_NODELAY: h11 writes headers and body separately; with Nagle's algorithm
            # and the server's delayed ACK each request would stall ~40 ms.
            transport = self._transport or httpx.HTTPTransport(socket_options=_SOCKET_OPTIONS)
            client = self._client = httpx.Client(
                transport=transport, timeout=self._timeout_s, headers=self._headers
            )
        return client

    def _body(self, events: list[bytes]) -> bytes:
        raw = b'{"events":[' + b",".join(events) + b"]}"
        return gzip.compress(raw, compresslevel=self._compress_level, mtime=0)

    def _export(self, events: list[bytes]) -> ExportResult:
        import httpx

        body = self._body(events)
        retried = 0
        attempt = 0
        while True:
            retry_after: float | None = None
            remaining = self._deadline - time.monotonic()
            if remaining <= 0:
                return ExportResult(failed=len(events), retried=retried)
            try:
                response = self._http().post(
                    self.url, content=body, timeout=min(self._timeout_s, remaining)
                )
            except httpx.HTTPError as exc:
                reason = f"{type(exc).__name__}: {exc}"
            else:
                code = response.status_code
                if 200 <= code < 300:
                    return self._accepted(response, len(events), retried)
                if code == 413 and len(events) > 1:
                    half = len(events) // 2
                    split = self._export(events[:half]) + self._export(events[half:])
                    return split + ExportResult(retried=retried)
                if code != 429 and code < 500:
                    self._refused(code, response.text)
                    return ExportResult(failed=len(events), retried=retried)
                reason = f"HTTP {code}"
                retry_after = _retry_after_s(response.headers.get("Retry-After"))
            if attempt >= self._max_retries:
                self._warn_once(
                    "gave-up",
                    "ollive: giving up on a batch after %d tries (%s)",
                    attempt + 1,
                    reason,
                )
                return ExportResult(failed=len(events), retried=retried)
            delay = self._delay(attempt, retry_after)
            if time.monotonic() + delay >= self._deadline:
                return ExportResult(failed=len(events), retried=retried)
            if self._sleep(delay):
                continue  # woken by a new deadline: re-check it before trying again
            attempt += 1
            retried += len(events)

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, _RETRY_AFTER_MAX_S) + random.uniform(
                0, 0.1 * self._backoff_base_s
            )
        cap = min(self._backoff_max_s, self._backoff_base_s * 2**attempt)
        return random.uniform(cap / 2, cap)  # exponential backoff, "equal jitter"

    def _sleep(self, delay: float) -> bool:
        """Sleep ``delay`` seconds; True when woken by :meth:`set_deadline` past the deadline."""
        interrupted = self._interrupt.wait(delay)
        if interrupted:
            self._interrupt.clear()
            return time.monotonic() >= self._deadline
        return False

    def _accepted(self, response: Any, count: int, retried: int) -> ExportResult:
        try:
            answer = response.json()
            rejected = answer.get("rejected") or []
        except (ValueError, AttributeError):
            return ExportResult(sent=count, retried=retried)
        if rejected:
            first = rejected[0].get("errors") if isinstance(rejected[0], dict) else rejected[0]
            self._warn_once(
                "rejected", "ollive: ingest rejected %d event(s), e.g. %s", len(rejected), first
            )
        return ExportResult(sent=count - len(rejected), failed=len(rejected), retried=retried)

    def _refused(self, code: int, text: str) -> None:
        if code in (401, 403):
            self._warn_once(
                "auth", "ollive: ingest refused the API key (HTTP %d); events dropped", code
            )
        else:
            self._warn_once(
                f"http-{code}", "ollive: ingest refused a batch (HTTP %d): %s", code, text[:300]
            )

    def _warn_once(self, key: str, msg: str, *args: object) -> None:
        if key not in self._warned:
            self._warned.add(key)
            log.warning(msg, *args)


def _retry_after_s(value: str | None) -> float | None:
    """``Retry-After`` as seconds: a number or an HTTP date; ``None`` when absent or garbled."""
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
        return max(when.timestamp() - time.time(), 0.0)
    except (TypeError, ValueError):
        return None


def decode_body(body: bytes) -> list[dict[str, object]]:
    """The events of a request body this exporter made (for tests and local sinks)."""
    return list(json.loads(gzip.decompress(body))["events"])
