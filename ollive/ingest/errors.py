"""The one table from Ollive's errors to HTTP answers (the idea of httpx's ``map_exceptions``).

The ingest routes only decode and store; whatever they raise is answered here, so a status
code is chosen in exactly one place. The most specific class in an error's MRO wins.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ollive.errors import (
    AuthError,
    BackpressureError,
    ContractError,
    MediaTypeError,
    OlliveError,
    PayloadTooLargeError,
    SpoolFullError,
    StorageError,
)

__all__ = ["HTTP_STATUS", "ErrorAnswer", "answer_for"]

#: error class -> HTTP status; looked up along the raised error's MRO
HTTP_STATUS: dict[type[OlliveError], int] = {
    AuthError: 401,
    ContractError: 400,
    MediaTypeError: 415,
    PayloadTooLargeError: 413,
    BackpressureError: 429,
    StorageError: 503,
    OlliveError: 500,
}


@dataclass(frozen=True, slots=True)
class ErrorAnswer:
    """What ingest answers for an error: status, ``{"detail": message}``, headers."""

    status: int
    detail: str
    headers: dict[str, str] = field(default_factory=dict)


def answer_for(exc: OlliveError) -> ErrorAnswer:
    """The HTTP answer for ``exc``: its status from :data:`HTTP_STATUS` and the headers a
    client needs to act (``WWW-Authenticate`` on 401, ``Retry-After`` on 429 and 503)."""
    status = next(HTTP_STATUS[k] for k in type(exc).__mro__ if k in HTTP_STATUS)
    headers: dict[str, str] = {}
    detail = str(exc)
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    elif isinstance(exc, BackpressureError):
        headers["Retry-After"] = str(max(1, round(exc.retry_after_s)))
    elif isinstance(exc, SpoolFullError):
        headers["Retry-After"] = "10"
        detail = f"write-ahead log full: {exc}"
    elif status == 503:
        headers["Retry-After"] = "2"
        detail = f"storage unavailable: {exc}"
    return ErrorAnswer(status, detail, headers)
