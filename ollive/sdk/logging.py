"""LoggingHandler: stdlib log records as Ollive ``application`` events.

Each record carries the trace, span and conversation ids current when it was logged, and
its ``extra=`` fields as ``attributes``::

    logging.getLogger().addHandler(ollive.LoggingHandler(level=logging.INFO))

Records from the SDK itself, from httpx/httpcore and from the export thread are ignored, so
shipping logs can never log about itself in a loop. A no-op before ``ollive.init``.
"""

from __future__ import annotations

import logging
from typing import Any

from ollive.sdk.hooks import count_internal_error, emit_log, is_enabled
from ollive.sdk.processor import on_export_thread

__all__ = ["LoggingHandler"]

_IGNORED_PREFIXES = ("ollive.sdk", "httpx", "httpcore", "hpack", "h2")
_STANDARD = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys()
    | {"message", "asctime", "taskName"}
)


class LoggingHandler(logging.Handler):
    """A :class:`logging.Handler` that queues records for Ollive (never blocks, never raises).

    Built on the public integration hook :func:`ollive.sdk.emit_log`.
    """

    def emit(self, record: logging.LogRecord) -> None:
        if not is_enabled() or record.name.startswith(_IGNORED_PREFIXES) or on_export_thread():
            return
        try:
            attributes = _attributes(record)
            message = record.getMessage()
            if record.exc_info and record.exc_info[0] is not None:
                message = f"{message}\n{logging.Formatter().formatException(record.exc_info)}"
        except Exception:
            count_internal_error()
            return
        emit_log(record.levelno, record.name, message, attributes, timestamp=record.created)


def _attributes(record: logging.LogRecord) -> dict[str, Any]:
    """The record's ``extra=`` fields, plus ``code.location`` from WARNING up."""
    attributes = {key: value for key, value in record.__dict__.items() if key not in _STANDARD}
    if record.levelno >= logging.WARNING:
        attributes.setdefault("code.location", f"{record.pathname}:{record.lineno}")
    return attributes
