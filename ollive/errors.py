"""Ollive's error tree.

Every error Ollive raises on purpose derives from :class:`OlliveError` and also from the
builtin it most resembles, so ``except ValueError`` keeps working for callers that do not
know about Ollive::

    OlliveError
    ├── ConfigError(ValueError)            a setting or URL is wrong; the message names the accepted forms
    ├── ContractError(ValueError)          an event does not satisfy the wire contract; carries .errors
    ├── PricingError(LookupError)          a price table or override file is malformed
    ├── StorageError(RuntimeError)         the warehouse failed; carries the server's code when there is one
    │   ├── WarehouseUnavailableError(ConnectionError)   unreachable within the timeout
    │   ├── WarehouseLockedError           the chDB directory is held by another process
    │   ├── SpoolFullError(OSError)        no space left for the write-ahead log; nothing was accepted
    │   └── MigrationError                 a numbered DDL file failed; re-running resumes
    ├── IngestError(RuntimeError)          the ingest pipeline refused or failed a batch
    │   ├── AuthError(PermissionError)     missing, unknown or revoked API key
    │   ├── MediaTypeError                 a body in a media type ingest does not read
    │   ├── PayloadTooLargeError           a body or batch over the configured limits
    │   └── BackpressureError              writers are saturated; retry after ``retry_after_s``
    ├── RedactionError(RuntimeError)       redaction failed for a text; policy decides what happens
    ├── DatasetError(LookupError)          no such dataset/version, or a source that cannot become one
    ├── ExperimentError(RuntimeError)      no such run, or two runs that cannot be compared
    └── EvaluatorError(ValueError)         an evaluator returned something that is not a score
        └── JudgeError                     the judge model's reply is not a verdict, after retries
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AuthError",
    "BackpressureError",
    "ConfigError",
    "ContractError",
    "DatasetError",
    "EvaluatorError",
    "ExperimentError",
    "IngestError",
    "JudgeError",
    "MediaTypeError",
    "MigrationError",
    "OlliveError",
    "PayloadTooLargeError",
    "PricingError",
    "RedactionError",
    "SpoolFullError",
    "StorageError",
    "WarehouseLockedError",
    "WarehouseUnavailableError",
]


class OlliveError(Exception):
    """Root of every error Ollive raises on purpose."""


class ConfigError(OlliveError, ValueError):
    """A setting, URL or file given by the user is wrong."""


class ContractError(OlliveError, ValueError):
    """An event does not satisfy the wire contract.

    ``errors`` is a list of ``{"loc": "events[3].latency_ms", "msg": "..."}``.
    """

    def __init__(self, message: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or []


class PricingError(OlliveError, LookupError):
    """A price table or a user override file is malformed."""


class StorageError(OlliveError, RuntimeError):
    """The warehouse failed. ``code`` is the server's error code when there is one."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class WarehouseUnavailableError(StorageError, ConnectionError):
    """The warehouse could not be reached within the timeout."""


class WarehouseLockedError(StorageError):
    """The chDB data directory is held by another process (go through its actor)."""


class SpoolFullError(StorageError, OSError):
    """The write-ahead log's disk is full (or over quota): the events were not accepted and
    can be sent again; writes succeed again by themselves once there is space."""


class MigrationError(StorageError):
    """A numbered migration failed; re-running ``ollive migrate`` resumes from it."""


class IngestError(OlliveError, RuntimeError):
    """The ingest pipeline refused or failed a batch."""


class AuthError(IngestError, PermissionError):
    """Missing, unknown or revoked API key."""


class MediaTypeError(IngestError, ValueError):
    """The body's Content-Type is not one ingest reads (415)."""


class PayloadTooLargeError(IngestError, ValueError):
    """The body (decompressed) or its event count is over the configured limit (413)."""


class BackpressureError(IngestError):
    """Writers are saturated; the client should retry after ``retry_after_s``."""

    def __init__(self, message: str, retry_after_s: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class RedactionError(OlliveError, RuntimeError):
    """Redaction failed for a text; the configured policy decides what happens to the event."""


class EvaluatorError(OlliveError, ValueError):
    """An evaluator returned something that is not a score (the message says what it returned
    and what is allowed), or a score that is not a finite number."""


class JudgeError(EvaluatorError):
    """An LLM judge's reply could not be read as a verdict, after its retries; the message
    quotes the start of the last reply."""


class DatasetError(OlliveError, LookupError):
    """No such dataset or version, or a source that cannot become one; the message names the
    datasets (or versions) that exist, or what to change."""


class ExperimentError(OlliveError, RuntimeError):
    """No such experiment run, a run name reused for another dataset version, or two runs
    that cannot be compared."""
