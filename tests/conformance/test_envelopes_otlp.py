"""The same envelopes as OpenTelemetry GenAI spans through ``POST /v1/traces`` (OTLP JSON)
of the real ingest app, read back through ``ollive.connect()``.

Only what has a GenAI equivalent travels: inferences (``chat`` spans, status and
``error.type``, tool calls as ``tool_call`` parts of ``gen_ai.output.messages``) and tool
executions (``execute_tool``), and an inference's prompt (``gen_ai.prompt.name``/``version``
and the OpenInference template, whose hash must be the envelope's ``prompt_hash``).
Application logs and scores have none; ``stream``/``ttft_ms`` and ``metadata`` have none
either.
"""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
import pytest

from ollive.events import template_hash
from ollive.ingest.otlp import span_request_id

from ._envelopes import load, names, parse_time, read_rows, to_ms
from .conftest import KEY, PROJECT, Ingest

pytestmark = pytest.mark.slow

SPANNED = [n for n in names() if load(n)["log_type"] in ("inference", "tool_execution")]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: the text of the templates the envelopes name by hash (``prompt_hash``)
TEMPLATES = {
    template_hash(text): text
    for text in (
        "You are Acme's support assistant. Answer the customer's question about {topic} in "
        "at most three sentences.",
    )
}


def _nanos(text: str) -> int:
    """Unix nanoseconds of an RFC 3339 timestamp, nanosecond fractions kept."""
    match = re.search(r"\.(\d{1,9})", text)
    fraction = int((match[1] + "000000000")[:9]) if match else 0
    whole = parse_time(re.sub(r"\.\d{1,9}", "", text))
    return int((whole - _EPOCH).total_seconds()) * 1_000_000_000 + fraction


def _attr(key: str, value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"key": key, "value": {"boolValue": value}}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    if isinstance(value, float):
        return {"key": key, "value": {"doubleValue": value}}
    if isinstance(value, list):
        return {
            "key": key,
            "value": {"arrayValue": {"values": [{"stringValue": v} for v in value]}},
        }
    return {"key": key, "value": {"stringValue": value}}


def _calls(envelope: dict[str, Any]) -> list[dict[str, Any]] | None:
    summary = envelope.get("tool_calls_summary")
    return summary if isinstance(summary, list) and summary else None


def _span(envelope: dict[str, Any]) -> dict[str, Any]:
    e = envelope
    attrs: dict[str, Any] = {
        "gen_ai.conversation.id": e["conversation_id"],
        "session.id": e["session_id"],
    }
    if e["user_id"] is not None:
        attrs["user.id"] = e["user_id"]
    if e["log_type"] == "inference":
        attrs |= {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": e["provider"],
            "gen_ai.request.model": e["model"],
            "gen_ai.usage.input_tokens": int(e["prompt_tokens"]),
            "gen_ai.usage.output_tokens": int(e["completion_tokens"]),
            "gen_ai.usage.cache_read.input_tokens": int(e["cached_prompt_tokens"]),
            "gen_ai.usage.cost": float(e["cost_usd"]),
        }
        if e["finish_reason"]:
            attrs["gen_ai.response.finish_reasons"] = [e["finish_reason"]]
        if e.get("prompt_name"):
            attrs["gen_ai.prompt.name"] = e["prompt_name"]
            attrs["gen_ai.prompt.version"] = e["prompt_version"]  # an int travels as intValue
            attrs["llm.prompt_template.template"] = TEMPLATES[e["prompt_hash"]]
        if e["input_preview"]:
            attrs["gen_ai.prompt.0.content"] = e["input_preview"]
        if e["output_preview"]:
            attrs["gen_ai.completion.0.content"] = e["output_preview"]
        if calls := _calls(e):
            parts = [
                {"type": "tool_call", "name": c["name"], "arguments": json.loads(c["args_preview"])}
                if c.get("args_preview")
                else {"type": "tool_call", "name": c["name"]}
                for c in calls
            ]
            attrs["gen_ai.output.messages"] = json.dumps([{"role": "assistant", "parts": parts}])
        name = f"chat {e['model']}"
    else:
        attrs |= {
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": e["tool_name"],
            "gen_ai.tool.call.arguments": e["args_preview"],
            "gen_ai.tool.call.result": e["result_preview"],
        }
        name = f"execute_tool {e['tool_name']}"
    if e["error_code"]:
        attrs["error.type"] = e["error_code"]
    span: dict[str, Any] = {
        "traceId": e["trace_id"],
        "spanId": e["span_id"],
        "name": name,
        "kind": 3,
        "startTimeUnixNano": str(_nanos(e["started_at"])),
        "endTimeUnixNano": str(_nanos(e["finished_at"])),
        "attributes": [_attr(k, v) for k, v in attrs.items()],
    }
    if e["parent_span_id"]:
        span["parentSpanId"] = e["parent_span_id"]
    if e["status"] != "ok":
        span["status"] = {"code": 2, "message": e["error_message"]}
    return span


def _expected(envelope: dict[str, Any]) -> dict[str, Any]:
    """The row's fields that have a GenAI equivalent, as the envelope sets them."""
    e = envelope
    out: dict[str, Any] = {
        k: e[k] or ""
        for k in ("trace_id", "span_id", "parent_span_id", "conversation_id", "session_id")
    }
    out |= {
        "user_id": e["user_id"] or "",
        "service": e["service"],
        "started_at": to_ms(parse_time(e["started_at"])),
        "finished_at": to_ms(parse_time(e["finished_at"])),
        "status": e["status"],
        "error_code": e["error_code"] or "",
        "error_message": e["error_message"] or "",
    }
    if e["log_type"] == "inference":
        out |= {
            k: e[k]
            for k in ("provider", "model", "prompt_tokens", "completion_tokens", "total_tokens")
        }
        out |= {
            "cached_prompt_tokens": e["cached_prompt_tokens"],
            "cost_usd": float(e["cost_usd"]),
            "finish_reason": e["finish_reason"] or "",
            "input_preview": e["input_preview"] or "",
            "prompt_name": e.get("prompt_name") or "",
            "prompt_version": str(e.get("prompt_version") or ""),
            "prompt_hash": e.get("prompt_hash") or "",
            "schema_version": "1.1" if e.get("prompt_name") else "1.0",
        }
        if calls := _calls(e):
            out["tool_calls_count"] = len(calls)
            out["tool_calls_summary"] = [
                {"name": c["name"], "args_preview": c.get("args_preview")} for c in calls
            ]
        else:  # gen_ai.output.messages would stand in for the output preview otherwise
            out["output_preview"] = e["output_preview"] or ""
    else:
        out |= {k: e[k] or "" for k in ("tool_name", "args_preview", "result_preview")}
        out["parent_request_id"] = span_request_id(e["trace_id"], "219b2cf347022c27")
    return out


@pytest.fixture(scope="module")
def exported(ingest: Ingest) -> httpx.Response:
    body = {
        "resourceSpans": [
            {
                "resource": {"attributes": [_attr("service.name", "conformance")]},
                "scopeSpans": [
                    {
                        "scope": {"name": "conformance"},
                        "spans": [_span(load(n)) for n in SPANNED],
                    }
                ],
            }
        ]
    }
    return httpx.post(
        ingest.url + "/v1/traces",
        content=orjson.dumps(body),
        headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"},
        timeout=60,
    )


def test_the_spans_are_accepted(exported: httpx.Response) -> None:
    assert exported.status_code == 200, exported.text
    assert exported.json() == {}  # no partial_success: nothing rejected


@pytest.mark.parametrize("name", SPANNED)
def test_every_genai_field_reads_back(ingest: Ingest, exported: httpx.Response, name: str) -> None:
    import ollive

    envelope = load(name)
    table = "inference_logs" if envelope["log_type"] == "inference" else "tool_executions"
    request_id = span_request_id(envelope["trace_id"], envelope["span_id"])
    con = ollive.connect("ray://warehouse", project=PROJECT)
    deadline = time.monotonic() + 60
    while not (rows := read_rows(con, table, PROJECT, [request_id])) and (
        time.monotonic() < deadline
    ):
        time.sleep(0.3)
    assert len(rows) == 1, name
    row = rows[0]
    problems = []
    for column, want in _expected(envelope).items():
        got = row[column]
        if column == "tool_calls_summary":
            got = json.loads(got)
        if isinstance(got, datetime):
            got = got.astimezone(UTC)
        if got != want:
            problems.append(f"{column}: expected {want!r}, got {got!r}")
    span_ms = (parse_time(envelope["finished_at"]) - parse_time(envelope["started_at"])) / (
        datetime.resolution * 1000
    )
    if abs(row["latency_ms"] - span_ms) > 0.01:
        problems.append(f"latency_ms: expected {span_ms}, got {row['latency_ms']}")
    assert problems == []
