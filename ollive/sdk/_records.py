"""Queued records that are not spans: log records (application events) and scores.

Built on the caller's thread from plain values; turned into event dicts on the export thread.
"""

from __future__ import annotations

from typing import Any

from ollive.ids import uuid7_str
from ollive.sdk import _render

__all__ = ["ApplicationRecord", "ScoreRecord"]

_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def _rid(epoch_s: float) -> str:
    return uuid7_str(int(epoch_s * 1000))


def level_name(levelno: int) -> str:
    """A stdlib level number as the contract's level (custom levels round down)."""
    if levelno >= 50:
        return "CRITICAL"
    if levelno >= 40:
        return "ERROR"
    if levelno >= 30:
        return "WARNING"
    if levelno >= 20:
        return "INFO"
    return "DEBUG"


class ApplicationRecord:
    """One log record with the trace and conversation ids that were current when it was made."""

    __slots__ = (
        "attributes",
        "conversation_id",
        "level",
        "logger",
        "message",
        "session_id",
        "span_id",
        "timestamp",
        "trace_id",
        "user_id",
    )

    def __init__(
        self,
        timestamp: float,
        level: str,
        logger: str,
        message: str,
        attributes: dict[str, Any] | None,
        trace_id: str | None,
        span_id: str | None,
        conversation_id: str | None,
        session_id: str | None,
        user_id: str | None,
    ) -> None:
        self.timestamp = timestamp
        self.level = level
        self.logger = logger
        self.message = message
        self.attributes = attributes
        self.trace_id = trace_id
        self.span_id = span_id
        self.conversation_id = conversation_id
        self.session_id = session_id
        self.user_id = user_id

    def to_json(self, service: str) -> str:
        """The event as JSON text (export thread)."""
        return _render.dumps(self.to_event(service))

    def to_event(self, service: str) -> dict[str, Any]:
        """The contract's ``application`` event as a plain dict."""
        return {
            "schema_version": "1.0",
            "log_type": "application",
            "request_id": _rid(self.timestamp),
            "timestamp": _render.iso(self.timestamp),
            "service": service,
            "level": self.level if self.level in _LEVELS else "INFO",
            "logger": self.logger[:256],
            "message": _render.message(self.message) or "",
            "attributes": _render.metadata(self.attributes),
            "trace_id": self.trace_id,
            "span_id": self.span_id,
            "conversation_id": None
            if self.conversation_id is None
            else _render.name(self.conversation_id),
            "session_id": None if self.session_id is None else _render.name(self.session_id),
            "user_id": None if self.user_id is None else _render.name(self.user_id),
            "metadata": {},
        }


class ScoreRecord:
    """Feedback or an evaluation of another event."""

    __slots__ = ("comment", "metadata", "name", "source", "target_request_id", "timestamp", "value")

    def __init__(
        self,
        timestamp: float,
        target_request_id: str,
        name: str,
        value: float,
        comment: str | None,
        source: str,
        metadata: dict[str, Any] | None,
    ) -> None:
        self.timestamp = timestamp
        self.target_request_id = target_request_id
        self.name = name
        self.value = value
        self.comment = comment
        self.source = source
        self.metadata = metadata

    def to_json(self, service: str) -> str:
        """The event as JSON text (export thread)."""
        return _render.dumps(self.to_event(service))

    def to_event(self, service: str) -> dict[str, Any]:
        """The contract's ``score`` event as a plain dict."""
        return {
            "schema_version": "1.0",
            "log_type": "score",
            "request_id": _rid(self.timestamp),
            "timestamp": _render.iso(self.timestamp),
            "service": service,
            "target_request_id": str(self.target_request_id),
            "name": _render.name(self.name, "score"),
            "value": float(self.value),
            "comment": _render.message(self.comment),
            "source": self.source,
            "metadata": _render.metadata(self.metadata),
        }
