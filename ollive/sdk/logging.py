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

from ollive.sdk import api
from ollive.sdk._context import current_scope, current_span
from ollive.sdk._records import ApplicationRecord, level_name
from ollive.sdk.processor import on_export_thread

__all__ = ["LoggingHandler"]

_IGNORED_PREFIXES = ("ollive.sdk", "httpx", "httpcore", "hpack", "h2")
_STANDARD = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys()
    | {"message", "asctime", "taskName"}
)


class LoggingHandler(logging.Handler):
    """A :class:`logging.Handler` that queues records for Ollive (never blocks, never raises)."""

    def emit(self, record: logging.LogRecord) -> None:
        rt = api._runtime
        if rt is None or record.name.startswith(_IGNORED_PREFIXES) or on_export_thread():
            return
        try:
            message = record.getMessage()
            if record.exc_info and record.exc_info[0] is not None:
                message = f"{message}\n{logging.Formatter().formatException(record.exc_info)}"
            attributes: dict[str, Any] = {
                key: value for key, value in record.__dict__.items() if key not in _STANDARD
            }
            if record.levelno >= logging.WARNING:
                attributes.setdefault("code.location", f"{record.pathname}:{record.lineno}")
            span = current_span.get()
            if span is not None:
                trace_id, span_id = span.trace_id, span.span_id
                conv, sess, user = span.conversation_id, span.session_id, span.user_id
            else:
                scope = current_scope.get()
                span_id = None
                if scope is not None:
                    trace_id = scope.trace_id
                    conv, sess, user = scope.conversation_id, scope.session_id, scope.user_id
                else:
                    trace_id = conv = sess = user = None
            rt.processor.on_end(
                ApplicationRecord(
                    record.created,
                    level_name(record.levelno),
                    record.name,
                    message,
                    attributes,
                    trace_id,
                    span_id,
                    conv,
                    sess,
                    user,
                )
            )
        except Exception:
            rt.processor.count_internal_error()
