"""``POST /v1/traces``: OTLP/HTTP trace exports through the ``/v1/logs`` path of IngestAPI.

The route in :mod:`serve.ingest` authenticates, then :func:`prepare_traces` decodes the body
(gzip/deflate, protobuf or OTLP JSON), turns GenAI spans into events
(:mod:`ollive.ingest.otlp`) and validates, prices and redacts them with the replica's own
:class:`~ollive.ingest.IngestPipeline`. The batch is then stored by the same method as
``/v1/logs`` (dedupe by request_id, i.e. by trace and span id; writers; durable before the
answer), and :func:`otlp_answer` turns that answer into OTLP's:

- stored -> ``200`` with an ``ExportTraceServiceResponse`` in the request's encoding
  (``partial_success.rejected_spans`` counts spans whose event failed validation);
- ``400``/``401``/``413``/``415`` as for ``/v1/logs`` (OTLP exporters do not retry them);
- ``429``/``503`` with ``Retry-After`` (OTLP exporters retry them).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import orjson
from fastapi.responses import JSONResponse, Response

from ollive.errors import MediaTypeError
from ollive.ingest import IngestPipeline, PreparedBatch, decode_body
from ollive.ingest.otlp import (
    OTLP_JSON,
    OTLP_PROTOBUF,
    SpanConversion,
    convert_spans,
    decode_trace_request,
    encode_export_response,
)

__all__ = [
    "TRACES_BODY_DOC",
    "otlp_answer",
    "prepare_traces",
    "store_traces",
    "traces_content_type",
]

log = logging.getLogger(__name__)

#: OpenAPI description of the request body of ``POST /v1/traces``
TRACES_BODY_DOC = {
    "requestBody": {
        "required": True,
        "description": "OTLP ExportTraceServiceRequest (opentelemetry-proto), gzip allowed.",
        "content": {
            OTLP_PROTOBUF: {"schema": {"type": "string", "format": "binary"}},
            OTLP_JSON: {"schema": {"type": "object", "properties": {"resourceSpans": {}}}},
        },
    }
}


def traces_content_type(header: str | None) -> str:
    """The media type of an export (raises MediaTypeError, answered 415, for others)."""
    ctype = (header or "").split(";")[0].strip().lower()
    if ctype not in (OTLP_PROTOBUF, OTLP_JSON):
        raise MediaTypeError(
            f"Content-Type must be {OTLP_PROTOBUF} or {OTLP_JSON}, not {ctype or 'missing'!r}"
        )
    return ctype


def prepare_traces(
    pipeline: IngestPipeline,
    body: bytes,
    content_type: str,
    content_encoding: str | None,
    project: str,
) -> tuple[PreparedBatch, SpanConversion]:
    """Decode an export and prepare its events like a ``/v1/logs`` body (sync; run in a thread).

    Raises ContractError (400) for a malformed body, BatchTooLargeError (413) past the limits.
    """
    raw = decode_body(body, content_encoding, pipeline.max_body_bytes)
    conversion = convert_spans(decode_trace_request(raw, content_type))
    batch = pipeline.prepare(orjson.dumps({"events": conversion.events}), project)
    if conversion.ignored:
        log.debug("%d of %d spans were not GenAI spans", conversion.ignored, conversion.spans)
    return batch, conversion


async def store_traces(
    batch: PreparedBatch, store: Callable[[PreparedBatch], Awaitable[JSONResponse]]
) -> JSONResponse:
    """``store(batch)`` (the ``/v1/logs`` store step), skipped when no span made an event."""
    if batch.events:
        return await store(batch)
    rejected = [r.as_dict() for r in batch.rejected]
    return JSONResponse({"accepted": 0, "duplicates": 0, "rejected": rejected}, status_code=202)


def otlp_answer(stored: JSONResponse, content_type: str) -> Response:
    """The OTLP answer for what the ``/v1/logs`` store step answered."""
    if stored.status_code != 202:
        return stored
    result = orjson.loads(bytes(stored.body))
    rejected = result.get("rejected") or []
    message = ""
    if rejected:
        first = rejected[0]["errors"][0] if rejected[0].get("errors") else {}
        message = (
            f"{len(rejected)} spans rejected; first: {first.get('loc', '')}: {first.get('msg', '')}"
        )
    return Response(
        encode_export_response(len(rejected), message, content_type),
        status_code=200,
        media_type=content_type,
    )
