"""The Ollive SDK: instrument an LLM app and ship its events to ingest in the background.

Shaped like OpenTelemetry's SDK: the API (:mod:`ollive.sdk.api`) makes spans and manages
context; a :class:`BatchProcessor` queues them without blocking; an :class:`HttpExporter`
sends gzip'd JSON batches with retries. :mod:`ollive.sdk.hooks` is the surface an
integration builds on (``inference_span``, ``tool_span``, ``current_context``,
``current_prompt``, ``emit_log``, ``span.start/activate/deactivate/end``,
``span.set_prompt``); :mod:`ollive.sdk.shapes` reads OpenAI and LangChain responses onto a
span. ``ollive.prompt`` (:mod:`ollive.sdk.prompts`) names the prompt template of the
inferences inside it. See ``docs/sdk.md``.
"""

from __future__ import annotations

from ollive.sdk.api import (
    conversation,
    current_inference,
    flush,
    inference,
    init,
    prompt,
    score,
    shutdown,
    stats,
    tool,
)
from ollive.sdk.exporter import ExportResult, HttpExporter
from ollive.sdk.hooks import (
    SpanContext,
    count_internal_error,
    current_context,
    current_prompt,
    current_service,
    emit_log,
    inference_span,
    is_enabled,
    tool_span,
)
from ollive.sdk.logging import LoggingHandler
from ollive.sdk.processor import BatchProcessor
from ollive.sdk.prompts import Prompt
from ollive.sdk.spans import InferenceSpan, NoopSpan, ToolSpan

__all__ = [
    "BatchProcessor",
    "ExportResult",
    "HttpExporter",
    "InferenceSpan",
    "LoggingHandler",
    "NoopSpan",
    "Prompt",
    "SpanContext",
    "ToolSpan",
    "conversation",
    "count_internal_error",
    "current_context",
    "current_inference",
    "current_prompt",
    "current_service",
    "emit_log",
    "flush",
    "inference",
    "inference_span",
    "init",
    "is_enabled",
    "prompt",
    "score",
    "shutdown",
    "stats",
    "tool",
    "tool_span",
]
