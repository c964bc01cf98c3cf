"""The Ollive SDK: instrument an LLM app and ship its events to ingest in the background.

Shaped like OpenTelemetry's SDK: the API (:mod:`ollive.sdk.api`) makes spans and manages
context; a :class:`BatchProcessor` queues them without blocking; an :class:`HttpExporter`
sends gzip'd JSON batches with retries. See ``docs/sdk.md``.
"""

from __future__ import annotations

from ollive.sdk.api import (
    conversation,
    current_inference,
    flush,
    inference,
    init,
    is_enabled,
    score,
    shutdown,
    stats,
    tool,
)
from ollive.sdk.exporter import ExportResult, HttpExporter
from ollive.sdk.logging import LoggingHandler
from ollive.sdk.processor import BatchProcessor
from ollive.sdk.spans import InferenceSpan, NoopSpan, ToolSpan

__all__ = [
    "BatchProcessor",
    "ExportResult",
    "HttpExporter",
    "InferenceSpan",
    "LoggingHandler",
    "NoopSpan",
    "ToolSpan",
    "conversation",
    "current_inference",
    "flush",
    "inference",
    "init",
    "is_enabled",
    "score",
    "shutdown",
    "stats",
    "tool",
]
