"""An OTLP span's prompt attributes become the v1.1 prompt fields (fast: no Ray, no warehouse).

GenAI: ``gen_ai.prompt.name`` and ``gen_ai.prompt.version``; OpenInference:
``llm.prompt_template.version`` and the template itself (``llm.prompt_template.template``),
whose hash becomes ``prompt_hash``.
"""

from __future__ import annotations

from typing import Any

import orjson

from ollive.events import InferenceEvent, parse_event, template_hash
from ollive.ingest.otlp import OTLP_JSON, convert_spans, decode_trace_request

TEMPLATE = "Answer {question} in one line."


def _event(attrs: dict[str, Any]) -> InferenceEvent:
    values = []
    for key, value in attrs.items():
        kind = "intValue" if isinstance(value, int) else "stringValue"
        values.append({"key": key, "value": {kind: str(value) if kind == "intValue" else value}})
    span = {"traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b174",
            "name": "chat gpt-4o-mini", "kind": 3, "startTimeUnixNano": "1900000000000000000",
            "endTimeUnixNano": "1900000000500000000", "attributes": values}  # fmt: skip
    body = {"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]}
    (event,) = convert_spans(decode_trace_request(orjson.dumps(body), OTLP_JSON)).events
    parsed = parse_event(event)
    assert isinstance(parsed, InferenceEvent)
    return parsed


def test_genai_prompt_name_and_version() -> None:
    event = _event({"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o-mini",
                    "gen_ai.prompt.name": "support-answer", "gen_ai.prompt.version": 3})  # fmt: skip
    assert (event.prompt_name, event.prompt_version, event.prompt_hash) == (
        "support-answer",
        "3",
        None,
    )
    assert event.schema_version == "1.1"


def test_openinference_template_and_version() -> None:
    event = _event({"openinference.span.kind": "LLM", "llm.model_name": "gpt-4o-mini",
                    "llm.prompt_template.template": TEMPLATE,
                    "llm.prompt_template.version": "v2"})  # fmt: skip
    assert (event.prompt_name, event.prompt_version, event.prompt_hash) == (
        None,
        "v2",
        template_hash(TEMPLATE),
    )


def test_a_span_without_prompt_attributes_stays_v1_0() -> None:
    event = _event({"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o-mini",
                    "gen_ai.prompt.0.content": "hello"})  # fmt: skip
    assert (event.prompt_name, event.prompt_version, event.prompt_hash) == (None, None, None)
    assert event.schema_version == "1.0" and event.input_preview == "hello"
