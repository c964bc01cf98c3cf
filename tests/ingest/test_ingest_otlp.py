"""OTLP/HTTP trace exports -> Ollive events, with hand-built protobuf and OTLP JSON payloads."""

from __future__ import annotations

import gzip
import json
import uuid
from typing import Any

import orjson
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

from ollive.errors import ContractError
from ollive.events import parse_event
from ollive.ingest import IngestPipeline, decode_body
from ollive.ingest.otlp import (
    OTLP_JSON,
    OTLP_PROTOBUF,
    convert_spans,
    decode_trace_request,
    encode_export_response,
    span_request_id,
)

TRACE = bytes.fromhex("0af7651916cd43dd8448eb211c80319c")
T0 = 1_767_225_600_000_000_000  # 2026-01-01T00:00:00Z in ns


def _any(value: Any) -> AnyValue:
    if isinstance(value, bool):
        return AnyValue(bool_value=value)
    if isinstance(value, int):
        return AnyValue(int_value=value)
    if isinstance(value, float):
        return AnyValue(double_value=value)
    if isinstance(value, list):
        return AnyValue(array_value=ArrayValue(values=[_any(v) for v in value]))
    return AnyValue(string_value=str(value))


def _span(
    span_id: int,
    attrs: dict[str, Any],
    parent: int | None = None,
    start_ms: int = 0,
    end_ms: int = 100,
    error: str | None = None,
    name: str = "span",
) -> Span:
    return Span(
        trace_id=TRACE,
        span_id=span_id.to_bytes(8, "big"),
        parent_span_id=parent.to_bytes(8, "big") if parent else b"",
        name=name,
        start_time_unix_nano=T0 + start_ms * 1_000_000,
        end_time_unix_nano=T0 + end_ms * 1_000_000,
        attributes=[KeyValue(key=k, value=_any(v)) for k, v in attrs.items()],
        status=Status(code=Status.STATUS_CODE_ERROR, message=error) if error else Status(),
    )


def _request(*spans: Span, service: str = "support-bot") -> ExportTraceServiceRequest:
    resource = ResourceSpans(scope_spans=[ScopeSpans(spans=list(spans))])
    resource.resource.attributes.append(KeyValue(key="service.name", value=_any(service)))
    return ExportTraceServiceRequest(resource_spans=[resource])


GENAI_CHAT = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "openai",
    "gen_ai.request.model": "gpt-4o-mini",
    "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
    "gen_ai.usage.input_tokens": 120,
    "gen_ai.usage.output_tokens": 30,
    "gen_ai.response.finish_reasons": ["tool_calls"],
    "gen_ai.conversation.id": "conv-1",
    "user.id": "u-7",
}


def _by_type(events: list[dict[str, Any]], log_type: str) -> list[dict[str, Any]]:
    return [e for e in events if e["log_type"] == log_type]


def test_genai_chat_and_tool_spans_become_events_that_validate() -> None:
    root = _span(1, {"http.route": "/ask"}, end_ms=500, name="POST /ask")
    chat = _span(2, GENAI_CHAT, parent=1, start_ms=10, end_ms=210, name="chat gpt-4o-mini")
    tool = _span(
        3,
        {
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": "lookup_order",
            "gen_ai.tool.call.arguments": '{"order_id": "A1"}',
        },
        parent=1,
        start_ms=220,
        end_ms=260,
    )
    result = convert_spans(_request(root, chat, tool))
    assert (result.spans, result.ignored, len(result.events)) == (3, 1, 2)
    [inference] = _by_type(result.events, "inference")
    [execution] = _by_type(result.events, "tool_execution")
    event = parse_event(inference)
    assert (event.provider, event.model) == ("openai", "gpt-4o-mini-2024-07-18")
    assert (event.prompt_tokens, event.completion_tokens, event.total_tokens) == (120, 30, 150)
    assert event.finish_reason == "tool_calls"
    assert event.latency_ms == pytest.approx(200)
    assert (event.conversation_id, event.user_id, event.service) == ("conv-1", "u-7", "support-bot")
    assert event.trace_id == TRACE.hex() and event.span_id == (2).to_bytes(8, "big").hex()
    assert event.status == "ok" and event.cost_usd is None  # priced later by the pipeline
    tool_event = parse_event(execution)
    assert tool_event.tool_name == "lookup_order"
    assert tool_event.args_preview == '{"order_id": "A1"}'
    assert str(tool_event.parent_request_id) == inference["request_id"]


def test_request_id_is_deterministic_from_trace_and_span() -> None:
    request = _request(_span(2, GENAI_CHAT))
    first = convert_spans(request).events[0]["request_id"]
    again = convert_spans(request).events[0]["request_id"]
    assert first == again == span_request_id(TRACE.hex(), (2).to_bytes(8, "big").hex())
    assert uuid.UUID(first).version == 5
    other = convert_spans(_request(_span(4, GENAI_CHAT))).events[0]["request_id"]
    assert other != first


@pytest.mark.parametrize(
    ("error_type", "status"),
    [("RateLimitError", "error"), ("TimeoutError", "timeout"), ("CancelledError", "cancelled")],
)
def test_span_status_and_error_type_give_the_event_status(error_type: str, status: str) -> None:
    attrs = GENAI_CHAT | {"error.type": error_type}
    [event] = convert_spans(_request(_span(2, attrs, error="upstream said no"))).events
    parsed = parse_event(event)
    assert (parsed.status, parsed.error_code, parsed.error_message) == (
        status,
        error_type,
        "upstream said no",
    )


OPENINFERENCE_LLM = {
    "openinference.span.kind": "LLM",
    "llm.model_name": "claude-3-5-haiku",
    "llm.provider": "anthropic",
    "llm.token_count.prompt": 50,
    "llm.token_count.completion": 7,
    "llm.token_count.total": 57,
    "llm.cost.total": 0.00042,
    "llm.input_messages.0.message.role": "system",
    "llm.input_messages.0.message.content": "You are helpful.",
    "llm.input_messages.1.message.role": "user",
    "llm.input_messages.1.message.content": "Where is my order A1?",
    "llm.output_messages.0.message.role": "assistant",
    "llm.output_messages.0.message.content": "Let me check.",
    "llm.output_messages.0.message.tool_calls.0.tool_call.function.name": "lookup_order",
    "input.value": '{"messages": [...]}',
}


def test_openinference_spans_inherit_session_and_user_from_the_chain() -> None:
    chain = _span(
        1, {"openinference.span.kind": "CHAIN", "session.id": "s-9", "user.id": "u-1"}, end_ms=900
    )
    llm = _span(2, OPENINFERENCE_LLM, parent=1, start_ms=5, end_ms=300)
    tool = _span(
        3,
        {
            "openinference.span.kind": "TOOL",
            "tool.name": "lookup_order",
            "input.value": "A1",
            "output.value": '{"status": "shipped"}',
        },
        parent=1,
        start_ms=310,
        end_ms=330,
    )
    result = convert_spans(_request(chain, llm, tool))
    assert result.ignored == 1
    inference = parse_event(_by_type(result.events, "inference")[0])
    assert (inference.provider, inference.model, inference.total_tokens) == (
        "anthropic",
        "claude-3-5-haiku",
        57,
    )
    assert inference.cost_usd == pytest.approx(0.00042)
    assert inference.input_preview == "Where is my order A1?"
    assert inference.output_preview == "Let me check."
    assert inference.tool_calls_count == 1
    assert json.loads(inference.tool_calls_summary) == [
        {"name": "lookup_order", "args_preview": None}
    ]
    assert (inference.session_id, inference.conversation_id, inference.user_id) == (
        "s-9",
        "s-9",
        "u-1",
    )
    tool_event = parse_event(_by_type(result.events, "tool_execution")[0])
    assert (tool_event.tool_name, tool_event.result_preview) == (
        "lookup_order",
        '{"status": "shipped"}',
    )
    assert tool_event.session_id == "s-9"
    assert str(tool_event.parent_request_id) == str(inference.request_id)


def test_non_genai_spans_are_counted_and_ignored() -> None:
    result = convert_spans(
        _request(_span(1, {"http.method": "GET"}), _span(2, {"db.system": "postgresql"}))
    )
    assert (result.spans, result.ignored, result.events) == (2, 2, [])


def test_protobuf_body_roundtrip_with_gzip() -> None:
    body = gzip.compress(_request(_span(2, GENAI_CHAT)).SerializeToString())
    request = decode_trace_request(decode_body(body, "gzip", 1_000_000), OTLP_PROTOBUF)
    assert len(convert_spans(request).events) == 1


def _otlp_json() -> dict[str, Any]:
    """The OTLP JSON encoding: hex ids, int64 as strings, enums as integers, kvlistValue."""
    return {
        "resourceSpans": [
            {
                "resource": {
                    "attributes": [{"key": "service.name", "value": {"stringValue": "json-svc"}}]
                },
                "scopeSpans": [
                    {
                        "scope": {"name": "my.instrumentation"},
                        "spans": [
                            {
                                "traceId": TRACE.hex(),
                                "spanId": "00f067aa0ba902b7",
                                "name": "chat gpt-4o",
                                "kind": 3,
                                "startTimeUnixNano": str(T0),
                                "endTimeUnixNano": str(T0 + 1_500_000_000),
                                "attributes": [
                                    {
                                        "key": "gen_ai.operation.name",
                                        "value": {"stringValue": "chat"},
                                    },
                                    {"key": "gen_ai.system", "value": {"stringValue": "openai"}},
                                    {
                                        "key": "gen_ai.request.model",
                                        "value": {"stringValue": "gpt-4o"},
                                    },
                                    {
                                        "key": "gen_ai.usage.input_tokens",
                                        "value": {"intValue": "1000"},
                                    },
                                    {
                                        "key": "gen_ai.usage.output_tokens",
                                        "value": {"intValue": 200},
                                    },
                                    {
                                        "key": "gen_ai.request.temperature",
                                        "value": {"doubleValue": 0.2},
                                    },
                                    {
                                        "key": "gen_ai.response.finish_reasons",
                                        "value": {
                                            "arrayValue": {"values": [{"stringValue": "stop"}]}
                                        },
                                    },
                                    {
                                        "key": "app.extra",
                                        "value": {
                                            "kvlistValue": {
                                                "values": [
                                                    {"key": "a", "value": {"boolValue": True}}
                                                ]
                                            }
                                        },
                                    },
                                ],
                                "status": {"code": 1},
                            }
                        ],
                    }
                ],
            }
        ]
    }


def test_otlp_json_body_with_hex_ids_and_string_int64() -> None:
    body = orjson.dumps(_otlp_json())
    [event] = convert_spans(decode_trace_request(body, "application/json; charset=utf-8")).events
    parsed = parse_event(event)
    assert parsed.span_id == "00f067aa0ba902b7" and parsed.trace_id == TRACE.hex()
    assert (parsed.prompt_tokens, parsed.completion_tokens) == (1000, 200)
    assert parsed.latency_ms == pytest.approx(1500)
    assert (parsed.service, parsed.model, parsed.finish_reason) == ("json-svc", "gpt-4o", "stop")


def test_events_go_through_the_ingest_pipeline_and_get_priced() -> None:
    events = convert_spans(decode_trace_request(orjson.dumps(_otlp_json()), OTLP_JSON)).events
    batch = IngestPipeline(None).prepare(orjson.dumps({"events": events}), "proj")
    assert not batch.rejected
    [event] = batch.events
    assert event.cost_usd is not None and event.cost_usd > 0


@pytest.mark.parametrize(
    ("body", "ctype"),
    [
        (b"\xff\xfe not protobuf", OTLP_PROTOBUF),
        (b"{not json", OTLP_JSON),
        (b"[1, 2]", OTLP_JSON),
        (
            orjson.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "zz"}]}]}]}),
            OTLP_JSON,
        ),
        (b"{}", "text/plain"),
    ],
)
def test_malformed_bodies_raise_contract_errors(body: bytes, ctype: str) -> None:
    with pytest.raises(ContractError):
        decode_trace_request(body, ctype)


def test_export_response_reports_partial_success_in_the_request_encoding() -> None:
    raw = encode_export_response(2, "2 spans rejected", OTLP_PROTOBUF)
    response = ExportTraceServiceResponse.FromString(raw)
    assert response.partial_success.rejected_spans == 2
    assert orjson.loads(encode_export_response(0, "", OTLP_JSON)) == {}
