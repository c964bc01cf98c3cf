"""``POST /v1/traces`` on the real ingest app: the OpenTelemetry SDK's OTLP/HTTP exporter, OTLP
JSON, and a LangChain run instrumented by OpenInference, all landing in the warehouse.

One Serve app for the module (1 replica, 2 writers) over a real Valkey and the chDB warehouse
actor; each test counts its rows by a unique ``service.name``.
"""

from __future__ import annotations

import gzip
import time
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

import httpx
import orjson
import pytest

from ollive.bench import count_service_rows
from tests.serve._serve import Ingest, running_ingest

pytestmark = pytest.mark.slow

KEY = "test-otlp-key"
PROJECT = "otlp-test"
APP = "otlp-test"
RAW = ("inference_logs", "tool_executions", "application_logs", "scores")


@pytest.fixture(scope="module")
def ingest(ray_session: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ingest]:
    home = tmp_path_factory.mktemp("otlp-home")
    with running_ingest(
        ray_session, home, APP, shards=2, replica_cpus=0.5, api_keys={KEY: PROJECT}
    ) as ingest:
        yield ingest


def _wait_rows(
    ingest: Ingest, service: str, expected: int, timeout_s: float = 60
) -> dict[str, int]:
    deadline = time.monotonic() + timeout_s
    while True:
        counts = count_service_rows(ingest.warehouse, service)
        if sum(counts[t] for t in RAW) >= expected or time.monotonic() > deadline:
            return counts
        time.sleep(0.3)


def _genai_spans(service: str) -> Sequence[Any]:
    """Finished SDK spans: an HTTP root, a GenAI chat call and a tool execution under it."""
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from opentelemetry.trace import Status, StatusCode

    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("test.genai")
    with tracer.start_as_current_span("POST /ask", attributes={"http.route": "/ask"}):
        with tracer.start_as_current_span("chat gpt-4o-mini") as chat:
            chat.set_attributes(
                {
                    "gen_ai.operation.name": "chat",
                    "gen_ai.provider.name": "openai",
                    "gen_ai.request.model": "gpt-4o-mini",
                    "gen_ai.usage.input_tokens": 200,
                    "gen_ai.usage.output_tokens": 40,
                    "gen_ai.response.finish_reasons": ["tool_calls"],
                    "gen_ai.conversation.id": "conv-otlp",
                    "user.id": "alice@example.com",
                }
            )
            time.sleep(0.01)
        with tracer.start_as_current_span("execute_tool lookup_order") as tool:
            tool.set_attributes(
                {
                    "gen_ai.operation.name": "execute_tool",
                    "gen_ai.tool.name": "lookup_order",
                    "gen_ai.conversation.id": "conv-otlp",
                }
            )
            tool.set_status(Status(StatusCode.ERROR, "order service down"))
            tool.set_attribute("error.type", "ConnectionError")
    provider.shutdown()
    return memory.get_finished_spans()


def test_sdk_otlp_http_exporter_spans_land_once(ingest: Ingest) -> None:
    from opentelemetry.exporter.otlp.proto.http import Compression
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace.export import SpanExportResult

    service = f"otlp-{uuid.uuid4().hex[:8]}"
    spans = _genai_spans(service)
    exporter = OTLPSpanExporter(
        endpoint=ingest.url + "/v1/traces",
        headers={"Authorization": f"Bearer {KEY}"},
        compression=Compression.Gzip,
        timeout=30,
    )
    assert exporter.export(spans) == SpanExportResult.SUCCESS
    assert exporter.export(spans) == SpanExportResult.SUCCESS  # a re-export: duplicates
    exporter.shutdown()
    counts = _wait_rows(ingest, service, 2)
    time.sleep(1.0)  # a late duplicate insert would show up by now
    counts = count_service_rows(ingest.warehouse, service)
    assert (counts["inference_logs"], counts["tool_executions"]) == (1, 1), counts
    assert counts["inference_stats_5m"] == 1 and counts["tool_stats_5m"] == 1
    row = ingest.warehouse.query_arrow(
        "SELECT project, provider, model, prompt_tokens, completion_tokens, cost_usd, "
        f"conversation_id, user_id FROM inference_logs WHERE service = '{service}'"
    ).to_pylist()[0]
    assert row["project"] == PROJECT
    assert (row["provider"], row["model"]) == ("openai", "gpt-4o-mini")
    assert (row["prompt_tokens"], row["completion_tokens"]) == (200, 40)
    assert row["cost_usd"] > 0  # priced at ingest
    assert row["conversation_id"] == "conv-otlp"
    tool = ingest.warehouse.query_arrow(
        "SELECT tool_name, status, error_code, error_message FROM tool_executions "
        f"WHERE service = '{service}'"
    ).to_pylist()[0]
    assert tool == {
        "tool_name": "lookup_order",
        "status": "error",
        "error_code": "ConnectionError",
        "error_message": "order service down",
    }


def _json_export(service: str) -> bytes:
    start = time.time_ns()
    return orjson.dumps(
        {
            "resourceSpans": [
                {
                    "resource": {
                        "attributes": [{"key": "service.name", "value": {"stringValue": service}}]
                    },
                    "scopeSpans": [
                        {
                            "spans": [
                                {
                                    "traceId": uuid.uuid4().hex,
                                    "spanId": uuid.uuid4().hex[:16],
                                    "name": "llm",
                                    "startTimeUnixNano": str(start),
                                    "endTimeUnixNano": str(start + 250_000_000),
                                    "attributes": [
                                        {
                                            "key": "openinference.span.kind",
                                            "value": {"stringValue": "LLM"},
                                        },
                                        {
                                            "key": "llm.model_name",
                                            "value": {"stringValue": "gpt-4o"},
                                        },
                                        {
                                            "key": "llm.token_count.prompt",
                                            "value": {"intValue": "12"},
                                        },
                                        {
                                            "key": "input.value",
                                            "value": {"stringValue": "call me at 415-555-0199"},
                                        },
                                    ],
                                }
                            ]
                        }
                    ],
                }
            ]
        }
    )


def test_otlp_json_gzip_and_the_error_answers(ingest: Ingest) -> None:
    service = f"otlp-json-{uuid.uuid4().hex[:8]}"
    url = ingest.url + "/v1/traces"
    headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
    body = _json_export(service)
    answer = httpx.post(
        url, content=gzip.compress(body), headers=headers | {"Content-Encoding": "gzip"}
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.json() == {}  # full success: no partial_success
    assert httpx.post(url, content=b"{nope", headers=headers).status_code == 400
    text = headers | {"Content-Type": "text/plain"}
    assert httpx.post(url, content=body, headers=text).status_code == 415
    bad_key = headers | {"Authorization": "Bearer nope"}
    assert httpx.post(url, content=body, headers=bad_key).status_code == 401
    counts = _wait_rows(ingest, service, 1)
    assert counts["inference_logs"] == 1
    preview = ingest.warehouse.scalar(
        f"SELECT input_preview FROM inference_logs WHERE service = '{service}'"
    )
    assert "415-555-0199" not in preview  # redacted like /v1/logs
    assert "/v1/traces" in httpx.get(ingest.url + "/openapi.json").json()["paths"]


def test_langchain_run_instrumented_by_openinference(ingest: Ingest) -> None:
    from langchain_core.language_models.fake_chat_models import FakeListChatModel
    from langchain_core.prompts import ChatPromptTemplate
    from langchain_core.tools import tool
    from openinference.instrumentation.langchain import LangChainInstrumentor
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    service = f"otlp-lc-{uuid.uuid4().hex[:8]}"
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    exporter = OTLPSpanExporter(
        endpoint=ingest.url + "/v1/traces", headers={"Authorization": f"Bearer {KEY}"}
    )
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    instrumentor = LangChainInstrumentor()
    instrumentor.instrument(tracer_provider=provider)
    try:

        @tool
        def order_status(order_id: str) -> str:
            """Look up the shipping status of an order."""
            return f"order {order_id} shipped"

        model = FakeListChatModel(responses=["Your order has shipped.", "Anything else?"])
        chain = ChatPromptTemplate.from_messages([("human", "{question}")]) | model
        assert chain.invoke({"question": "Where is order A1?"}).content
        assert chain.invoke({"question": "Thanks!"}).content
        assert order_status.invoke({"order_id": "A1"}) == "order A1 shipped"
    finally:
        instrumentor.uninstrument()
        provider.shutdown()
    counts = _wait_rows(ingest, service, 3)
    assert (counts["inference_logs"], counts["tool_executions"]) == (2, 1), counts
    rows = ingest.warehouse.query_arrow(
        f"SELECT input_preview, output_preview FROM inference_logs WHERE service = '{service}' "
        "ORDER BY started_at"
    ).to_pylist()
    assert "Where is order A1?" in rows[0]["input_preview"]
    assert rows[0]["output_preview"] == "Your order has shipped."
    assert (
        ingest.warehouse.scalar(
            f"SELECT tool_name FROM tool_executions WHERE service = '{service}'"
        )
        == "order_status"
    )
