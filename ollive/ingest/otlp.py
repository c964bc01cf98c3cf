"""OTLP/HTTP trace exports -> Ollive events (``POST /v1/traces``), pure and Ray-free.

A body is an ``ExportTraceServiceRequest`` in protobuf (``application/x-protobuf``) or in the
OTLP JSON encoding (``application/json``: hex trace/span ids, 64-bit integers as strings,
``kvlistValue``/``arrayValue`` attributes). Spans that follow the OpenTelemetry GenAI
semantic conventions (``gen_ai.*``) or OpenInference (``openinference.span.kind``, ``llm.*``)
become wire-contract events, as plain dicts that the ingest pipeline then validates like any
``POST /v1/logs`` body:

- model calls (GenAI ``chat``/``text_completion``/``generate_content``/``embeddings``,
  OpenInference ``LLM``/``EMBEDDING``) -> ``inference``;
- tool calls (GenAI ``execute_tool``, OpenInference ``TOOL``) -> ``tool_execution``, linked to
  the latest model call of the same trace that ended before the tool started.

A model call's prompt (contract v1.1) comes from ``gen_ai.prompt.name`` and
``gen_ai.prompt.version`` (GenAI), ``llm.prompt_template.version`` and the hash of
``llm.prompt_template.template`` (OpenInference, whose conventions have no prompt name).

Every other span (HTTP, database, agent and chain spans...) is ignored and counted; its
session, conversation and user ids are still inherited by the GenAI spans below it. The
``request_id`` of an event is a UUIDv5 of ``trace_id:span_id``, so a re-exported span is a
duplicate for the ordinary request_id dedupe. Cost is taken from ``llm.cost.total`` (or
``gen_ai.usage.cost``) when given, else the price table fills it at ingest.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from google.protobuf import json_format
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from ollive.errors import ContractError
from ollive.events import MAX_NAME_CHARS, MAX_PROMPT_VERSION_CHARS, template_hash
from ollive.ingest._genai import GenAISpan, span_role

__all__ = [
    "OTLP_JSON",
    "OTLP_PROTOBUF",
    "SPAN_NAMESPACE",
    "SpanConversion",
    "convert_spans",
    "decode_trace_request",
    "encode_export_response",
    "span_request_id",
]

OTLP_PROTOBUF = "application/x-protobuf"
OTLP_JSON = "application/json"
#: namespace of the UUIDv5 request ids of span events
SPAN_NAMESPACE = uuid.UUID("5f0c3c1e-8a5e-4c43-9d0e-0771a3e7d8b1")
_ID_KEYS = ("traceId", "spanId", "parentSpanId")
#: where a span names its prompt template: GenAI semantic conventions, then OpenInference
_PROMPT_NAME_KEYS = ("gen_ai.prompt.name",)
_PROMPT_VERSION_KEYS = ("gen_ai.prompt.version", "llm.prompt_template.version")
_PROMPT_TEMPLATE_KEY = "llm.prompt_template.template"


@dataclass(slots=True)
class SpanConversion:
    """The events made from one export request, and how many spans were looked at."""

    events: list[dict[str, Any]] = field(default_factory=list)
    spans: int = 0
    ignored: int = 0


def span_request_id(trace_id: str, span_id: str) -> str:
    """The deterministic request_id of the event made from span ``span_id`` of ``trace_id``."""
    return str(uuid.uuid5(SPAN_NAMESPACE, f"{trace_id}:{span_id}"))


def decode_trace_request(body: bytes, content_type: str) -> ExportTraceServiceRequest:
    """Parse an (already decompressed) export body; raises ContractError (400) when malformed."""
    ctype = content_type.split(";")[0].strip().lower()
    request = ExportTraceServiceRequest()
    if ctype == OTLP_PROTOBUF:
        try:
            request.ParseFromString(body)
        except DecodeError as exc:
            raise ContractError(f"malformed OTLP protobuf: {exc}") from None
        return request
    if ctype == OTLP_JSON:
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise ContractError(f"malformed JSON: {exc}") from None
        if not isinstance(data, dict):
            raise ContractError('an OTLP JSON body is an object: {"resourceSpans": [...]}')
        try:
            json_format.ParseDict(_hex_ids_to_base64(data), request, ignore_unknown_fields=True)
        except (json_format.ParseError, ValueError) as exc:
            raise ContractError(f"malformed OTLP JSON: {exc}") from None
        return request
    raise ContractError(
        f"Content-Type must be {OTLP_PROTOBUF} or {OTLP_JSON}, not {ctype or 'missing'!r}"
    )


def encode_export_response(rejected_spans: int, error_message: str, content_type: str) -> bytes:
    """An ``ExportTraceServiceResponse`` (partial success when spans were rejected)."""
    response = ExportTraceServiceResponse()
    if rejected_spans or error_message:
        response.partial_success.rejected_spans = rejected_spans
        response.partial_success.error_message = error_message
    if content_type.split(";")[0].strip().lower() == OTLP_PROTOBUF:
        return response.SerializeToString()  # type: ignore[no-any-return]
    return json_format.MessageToJson(response, indent=None).encode()


def convert_spans(request: ExportTraceServiceRequest) -> SpanConversion:
    """Turn the GenAI and OpenInference spans of ``request`` into event dicts."""
    out = SpanConversion()
    for resource_spans in request.resource_spans:
        resource = _attributes(resource_spans.resource.attributes)
        service = str(resource.get("service.name") or "default")
        spans = [
            (scope_spans.scope.name, span)
            for scope_spans in resource_spans.scope_spans
            for span in scope_spans.spans
        ]
        out.spans += len(spans)
        made = _convert_resource(spans, service)
        out.ignored += len(spans) - len(made)
        out.events.extend(made)
    return out


def _convert_resource(spans: list[tuple[str, Span]], service: str) -> list[dict[str, Any]]:
    views: dict[tuple[str, str], GenAISpan] = {}
    for scope, span in spans:
        view = _view(span, scope)
        views[(view.trace_id, view.span_id)] = view
    for view in views.values():
        _inherit_ids(view, views)
    inferences = [v for v in views.values() if v.role == "inference"]
    events = []
    for view in views.values():
        if view.role == "inference":
            events.append(_with_prompt(view.inference_event(service), view.attrs))
        elif view.role == "tool":
            events.append(view.tool_event(service, _asking_inference(view, inferences)))
    return events


def _view(span: Span, scope: str) -> GenAISpan:
    attrs = _attributes(span.attributes)
    trace_id, span_id = span.trace_id.hex(), span.span_id.hex()
    code = span.status.code
    return GenAISpan(
        trace_id=trace_id,
        span_id=span_id,
        parent_span_id=span.parent_span_id.hex() or None,
        request_id=span_request_id(trace_id, span_id),
        name=span.name,
        scope=scope,
        started_at=_time(span.start_time_unix_nano),
        finished_at=_time(max(span.end_time_unix_nano, span.start_time_unix_nano)),
        attrs=attrs,
        failed=code == Status.STATUS_CODE_ERROR,
        status_message=span.status.message,
        role=span_role(attrs),
        event_attrs=[(e.name, _attributes(e.attributes)) for e in span.events],
    )


def _inherit_ids(view: GenAISpan, views: dict[tuple[str, str], GenAISpan]) -> None:
    """Fill missing session/conversation/user ids from the span's ancestors in this export."""
    parent_id = view.parent_span_id
    seen = 0
    while parent_id and seen < 64 and not view.has_all_ids():
        parent = views.get((view.trace_id, parent_id))
        if parent is None:
            return
        view.adopt_ids(parent)
        parent_id = parent.parent_span_id
        seen += 1


def _asking_inference(tool: GenAISpan, inferences: Iterable[GenAISpan]) -> str | None:
    """request_id of the latest model call of the tool's trace that ended before it started."""
    best: GenAISpan | None = None
    for candidate in inferences:
        if candidate.trace_id != tool.trace_id or candidate.finished_at > tool.started_at:
            continue
        if best is None or candidate.finished_at > best.finished_at:
            best = candidate
    return best.request_id if best else None


def _with_prompt(event: dict[str, Any], attrs: dict[str, Any]) -> dict[str, Any]:
    """``event`` with the prompt fields its span's attributes give (a v1.1 event then)."""
    fields: dict[str, Any] = {}
    name = _first_text(attrs, _PROMPT_NAME_KEYS)
    if name:
        fields["prompt_name"] = name[:MAX_NAME_CHARS]
    version = _first_text(attrs, _PROMPT_VERSION_KEYS)
    if version:
        fields["prompt_version"] = version[:MAX_PROMPT_VERSION_CHARS]
    template = attrs.get(_PROMPT_TEMPLATE_KEY)
    if isinstance(template, str) and template:
        fields["prompt_hash"] = template_hash(template)
    if fields:
        event |= fields | {"schema_version": "1.1"}
    return event


def _first_text(attrs: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        value = attrs.get(key)
        if isinstance(value, str | int) and not isinstance(value, bool) and value != "":
            return str(value)
    return None


def _time(unix_nano: int) -> str:
    seconds, nanos = divmod(int(unix_nano), 1_000_000_000)
    moment = datetime.fromtimestamp(seconds, tz=UTC).replace(microsecond=nanos // 1000)
    return moment.isoformat()


def _attributes(items: Iterable[KeyValue]) -> dict[str, Any]:
    return {kv.key: _value(kv.value) for kv in items}


def _value(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [_value(v) for v in value.array_value.values]
    if kind == "kvlist_value":
        return _attributes(value.kvlist_value.values)
    if kind == "bytes_value":
        return value.bytes_value.hex()
    return getattr(value, kind)


def _hex_ids_to_base64(node: Any) -> Any:
    """OTLP JSON writes ids as hex; protobuf's JSON mapping expects base64 for bytes."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key in _ID_KEYS and isinstance(value, str):
                out[key] = _hex_to_base64(key, value)
            else:
                out[key] = _hex_ids_to_base64(value)
        return out
    if isinstance(node, list):
        return [_hex_ids_to_base64(v) for v in node]
    return node


def _hex_to_base64(key: str, value: str) -> str:
    try:
        return base64.b64encode(bytes.fromhex(value)).decode()
    except ValueError:
        raise ContractError(f"OTLP JSON {key} must be hex, got {value[:40]!r}") from None
