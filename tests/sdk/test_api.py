"""The SDK's API through its public names, against a real local ingest server."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import threading
import uuid

import pytest

import ollive
from ollive.events import parse_event
from tests.sdk.conftest import IngestServer, wait_until

HEX32 = re.compile(r"^[0-9a-f]{32}$")
HEX16 = re.compile(r"^[0-9a-f]{16}$")


def shipped(server: IngestServer, log_type: str | None = None) -> list[dict]:
    assert ollive.flush(10)
    assert not server.invalid, server.invalid
    events = list(server.events.values()) if log_type is None else server.of_type(log_type)
    for event in events:
        parse_event(event)
    return events


# --- before init / disabled ------------------------------------------------------------------


def test_everything_is_a_noop_before_init() -> None:
    @ollive.tool
    def add(a: int, b: int) -> int:
        return a + b

    @ollive.inference(provider="openai", model="m")
    def answer() -> str:
        return "hi"

    @ollive.inference(provider="openai", model="m")
    def chunks():
        yield "a"
        yield "b"

    assert add(1, 2) == 3
    assert answer() == "hi"
    assert list(chunks()) == ["a", "b"]
    with ollive.inference("openai", "m") as span:
        span.set_usage(1, 2)
        span.set_output("x")
        assert span.request_id is None
    with ollive.conversation("c"):
        ollive.score("x", "thumbs", 1)
    assert ollive.flush(1) is True
    assert ollive.stats()["enqueued"] == 0


def test_disabled_by_environment(monkeypatch: pytest.MonkeyPatch, ingest: IngestServer) -> None:
    monkeypatch.setenv("OLLIVE_DISABLED", "1")
    assert ollive.init(endpoint=ingest.endpoint) is False
    with ollive.inference("openai", "m") as span:
        span.set_usage(1, 1)
    assert ollive.stats()["enqueued"] == 0
    assert ingest.requests == 0


def test_settings_from_environment_and_explicit_override(
    monkeypatch: pytest.MonkeyPatch, ingest: IngestServer
) -> None:
    monkeypatch.setenv("OLLIVE_ENDPOINT", ingest.endpoint)
    monkeypatch.setenv("OLLIVE_SERVICE", "from-env")
    monkeypatch.setenv("OLLIVE_API_KEY", "env-key")
    ollive.init(flush_interval_s=0.05)
    with ollive.inference("openai", "m"):
        pass
    assert shipped(ingest)[0]["service"] == "from-env"
    assert ingest.headers[-1]["Authorization"] == "Bearer env-key"
    ollive.init(service="explicit", api_key="arg-key", flush_interval_s=0.05)
    with ollive.inference("openai", "m"):
        pass
    assert {e["service"] for e in shipped(ingest)} == {"from-env", "explicit"}
    assert ingest.headers[-1]["Authorization"] == "Bearer arg-key"


# --- inference ---------------------------------------------------------------------------------


def test_inference_context_manager_records_everything(sdk: IngestServer) -> None:
    with (
        ollive.conversation("conv-1", session_id="sess-1", user_id="user-1"),
        ollive.inference("openai", "gpt-4o-mini", input="q" * 2000) as span,
    ):
        span.set_usage(120, 30, cached_prompt_tokens=20)
        span.set_output("a" * 2000)
        span.set_finish_reason("tool_calls")
        span.set_tool_calls(
            [
                {"name": "lookup", "args": {"id": 1}},
                {"function": {"name": "f", "arguments": "{}"}},
            ]
        )
        span.set_metadata(feature="chat")
    (event,) = shipped(sdk, "inference")
    assert event["request_id"] == span.request_id
    assert uuid.UUID(event["request_id"]).version == 7
    assert HEX32.match(event["trace_id"]) and HEX16.match(event["span_id"])
    assert (event["conversation_id"], event["session_id"], event["user_id"]) == (
        "conv-1",
        "sess-1",
        "user-1",
    )
    assert (event["provider"], event["model"], event["status"]) == ("openai", "gpt-4o-mini", "ok")
    assert (event["prompt_tokens"], event["completion_tokens"], event["total_tokens"]) == (
        120,
        30,
        150,
    )
    assert event["cached_prompt_tokens"] == 20
    assert len(event["input_preview"]) <= 500 and len(event["output_preview"]) <= 500
    assert event["tool_calls_count"] == 2 and "lookup" in event["tool_calls_summary"]
    assert event["finish_reason"] == "tool_calls"
    assert event["metadata"] == {"feature": "chat"}


@pytest.mark.parametrize(
    ("exc", "status"),
    [
        (ValueError("bad"), "error"),
        (TimeoutError("slow"), "timeout"),
        (type("APITimeoutError", (Exception,), {})("openai timed out"), "timeout"),
        (KeyboardInterrupt(), "cancelled"),
    ],
)
def test_exceptions_set_status_and_are_reraised_unchanged(
    sdk: IngestServer, exc: BaseException, status: str
) -> None:
    with pytest.raises(type(exc)) as caught, ollive.inference("openai", "m"):
        raise exc
    assert caught.value is exc
    (event,) = shipped(sdk, "inference")
    assert event["status"] == status
    assert event["error_code"] == type(exc).__name__
    assert event["error_message"] == str(exc)


def test_async_decorator_and_cancellation(sdk: IngestServer) -> None:
    @ollive.inference(provider="anthropic", model="claude")
    async def ask(prompt: str) -> str:
        await asyncio.sleep(0)
        return "answer to " + prompt

    @ollive.inference(provider="anthropic", model="claude")
    async def hang() -> None:
        await asyncio.sleep(60)

    async def main() -> str:
        task = asyncio.create_task(hang())
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return await ask("life")

    assert asyncio.run(main()) == "answer to life"
    events = {e["status"]: e for e in shipped(sdk, "inference")}
    assert events["ok"]["input_preview"] == "life"
    assert events["ok"]["output_preview"] == "answer to life"
    assert events["cancelled"]["error_code"] == "CancelledError"


def test_streaming_generator_records_ttft_and_closing_early_is_cancelled(sdk: IngestServer) -> None:
    @ollive.inference(provider="openai", model="m")
    def stream(n: int):
        for i in range(n):
            yield f"tok{i} "

    assert "".join(stream(3)) == "tok0 tok1 tok2 "
    gen = stream(10)
    next(gen)
    gen.close()
    events = {e["status"]: e for e in shipped(sdk, "inference")}
    ok = events["ok"]
    assert ok["stream"] is True and ok["ttft_ms"] is not None and ok["ttft_ms"] <= ok["latency_ms"]
    assert ok["output_preview"] == "tok0 tok1 tok2 "
    assert events["cancelled"]["stream"] is True


def test_async_generator_and_errors_inside_streams(sdk: IngestServer) -> None:
    @ollive.inference(provider="openai", model="m")
    async def stream():
        yield "a"
        raise RuntimeError("stream broke")

    async def main() -> list[str]:
        out = []
        with pytest.raises(RuntimeError, match="stream broke"):
            async for chunk in stream():
                out.append(chunk)
        return out

    assert asyncio.run(main()) == ["a"]
    (event,) = shipped(sdk, "inference")
    assert event["status"] == "error" and event["error_code"] == "RuntimeError"
    assert event["ttft_ms"] is not None


def test_current_inference_inside_a_decorated_function(sdk: IngestServer) -> None:
    @ollive.inference(provider="openai", model="m")
    def call() -> None:
        ollive.current_inference().set_usage(5, 7)

    call()
    (event,) = shipped(sdk, "inference")
    assert event["total_tokens"] == 12


# --- tools -----------------------------------------------------------------------------------


def test_tool_inside_inference_links_by_parent_ids(sdk: IngestServer) -> None:
    @ollive.tool
    def lookup_order(order_id: str) -> dict:
        return {"order": order_id, "status": "shipped"}

    with ollive.inference("openai", "m") as span:
        assert lookup_order("A-1") == {"order": "A-1", "status": "shipped"}
    (tool_event,) = shipped(sdk, "tool_execution")
    assert tool_event["tool_name"] == "lookup_order"
    assert tool_event["parent_request_id"] == span.request_id
    assert tool_event["parent_span_id"] == span.span_id
    assert tool_event["trace_id"] == span.trace_id
    assert "A-1" in tool_event["args_preview"] and "shipped" in tool_event["result_preview"]


def test_tool_after_inference_links_to_the_latest_inference_of_the_conversation(
    sdk: IngestServer,
) -> None:
    @ollive.tool(name="search")
    async def search_docs(query: str) -> str:
        return "x" * 900

    @ollive.tool
    def broken() -> None:
        raise KeyError("missing")

    async def agent() -> None:
        with ollive.conversation("c-agent"):
            with ollive.inference("openai", "m"):
                pass
            with ollive.inference("openai", "m") as second:
                pass
            await search_docs("refund policy")
            with pytest.raises(KeyError):
                broken()
            agent.second = second  # type: ignore[attr-defined]

    asyncio.run(agent())
    tools = {e["tool_name"]: e for e in shipped(sdk, "tool_execution")}
    assert set(tools) == {"search", "broken"}
    for event in tools.values():
        assert event["parent_request_id"] == agent.second.request_id  # type: ignore[attr-defined]
        assert event["conversation_id"] == "c-agent"
    assert len(tools["search"]["result_preview"]) <= 500
    assert tools["broken"]["status"] == "error" and tools["broken"]["error_code"] == "KeyError"


def test_tool_without_any_inference_has_no_parent(sdk: IngestServer) -> None:
    @ollive.tool
    def ping() -> str:
        return "pong"

    assert ping() == "pong"
    (event,) = shipped(sdk, "tool_execution")
    assert event["parent_request_id"] is None


# --- context across tasks and threads -----------------------------------------------------------


def test_conversations_stay_separate_across_tasks_and_threads(sdk: IngestServer) -> None:
    async def turn(cid: str) -> None:
        with ollive.conversation(cid, user_id=f"user-{cid}"):
            for _ in range(3):
                with ollive.inference("openai", "m"):
                    await asyncio.sleep(0.001)

    async def main() -> None:
        await asyncio.gather(*(turn(f"task-{i}") for i in range(5)))

    def thread_turn(cid: str) -> None:
        with ollive.conversation(cid), ollive.inference("openai", "m"):
            pass

    asyncio.run(main())
    threads = [threading.Thread(target=thread_turn, args=(f"thread-{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    events = shipped(sdk, "inference")
    assert len(events) == 19
    by_conv: dict[str, set[str]] = {}
    for event in events:
        by_conv.setdefault(event["conversation_id"], set()).add(event["trace_id"])
        if event["conversation_id"].startswith("task-"):
            assert event["user_id"] == "user-" + event["conversation_id"]
    assert len(by_conv) == 9
    assert all(len(traces) == 1 for traces in by_conv.values())
    assert len(set().union(*by_conv.values())) == 9  # one trace per conversation


def test_sampling_is_per_trace(ingest: IngestServer) -> None:
    ollive.init(endpoint=ingest.endpoint, sample_rate=0.5, flush_interval_s=0.05)

    @ollive.tool
    def step() -> None:
        pass

    for _ in range(200):
        with ollive.inference("openai", "m"):
            step()
    events = shipped(ingest)
    inferences = [e for e in events if e["log_type"] == "inference"]
    tools = [e for e in events if e["log_type"] == "tool_execution"]
    assert 40 < len(inferences) < 160
    assert {t["trace_id"] for t in tools} == {i["trace_id"] for i in inferences}
    ollive.init(endpoint=ingest.endpoint, sample_rate=0.0)
    with ollive.inference("openai", "m"):
        step()
    assert ollive.stats()["enqueued"] == 0


# --- scores, redaction, failing open -----------------------------------------------------------


def test_score_targets_an_inference(sdk: IngestServer) -> None:
    with ollive.inference("openai", "m") as span:
        pass
    ollive.score(span.request_id, "thumbs_up", True, "great answer", source="user")
    (score,) = shipped(sdk, "score")
    assert score["target_request_id"] == span.request_id
    assert (score["name"], score["value"], score["comment"]) == ("thumbs_up", 1.0, "great answer")


def test_redaction_hook_runs_before_sending(ingest: IngestServer) -> None:
    def redact(event: dict) -> dict | None:
        if event.get("model") == "secret":
            return None
        if event.get("input_preview"):
            event["input_preview"] = event["input_preview"].replace("4111-1111", "<card>")
        return event

    ollive.init(endpoint=ingest.endpoint, redact=redact, flush_interval_s=0.05)
    with ollive.inference("openai", "m", input="card 4111-1111 please"):
        pass
    with ollive.inference("openai", "secret"):
        pass
    (event,) = shipped(ingest)
    assert event["input_preview"] == "card <card> please"


def test_instrumentation_failures_never_reach_the_app(ingest: IngestServer) -> None:
    def broken_redact(event: dict) -> dict:
        raise RuntimeError("redactor bug")

    ollive.init(endpoint=ingest.endpoint, redact=broken_redact, flush_interval_s=0.05)
    with ollive.inference("openai", "m") as span:
        span.set_metadata(thing=object(), nan=float("nan"))
        span.set_usage("lots", None)  # type: ignore[arg-type]
    assert ollive.flush(5)
    stats = ollive.stats()
    assert stats["failed"] == 1 and stats["internal_errors"] >= 1
    ollive.init(endpoint=ingest.endpoint, flush_interval_s=0.05)
    with ollive.inference("openai", "m") as span:
        span.set_metadata(thing=object(), deep={"a": {"b": {"c": {"d": {"e": {"f": 1}}}}}})
    (event,) = shipped(ingest)
    assert "ollive_dropped" in event["metadata"]


# --- packaging -------------------------------------------------------------------------------------


def test_public_names_and_a_light_import() -> None:
    for name in (
        "init",
        "conversation",
        "inference",
        "tool",
        "score",
        "flush",
        "shutdown",
        "stats",
        "LoggingHandler",
    ):
        assert name in ollive.__all__ and hasattr(ollive, name)
    heavy = [
        "ray",
        "chdb",
        "presidio_analyzer",
        "presidio_anonymizer",
        "ibis",
        "panel",
        "langchain",
        "langchain_core",
        "langgraph",
        "pyarrow",
        "pandas",
        "openai",
        "fastapi",
        "rich",  # httpx imports its CLI (click, rich) eagerly: the SDK imports httpx when it sends
        "click",
    ]
    code = f"import sys, ollive, ollive.integrations; print([m for m in {heavy!r} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_flush_waits_for_delivery(sdk: IngestServer) -> None:
    for _ in range(50):
        with ollive.inference("openai", "m"):
            pass
    assert ollive.flush(10)
    assert len(sdk.events) == 50
    assert wait_until(lambda: ollive.stats()["sent"] == 50)


def test_an_opentelemetry_span_is_adopted_as_parent(sdk: IngestServer) -> None:
    from opentelemetry.sdk.trace import TracerProvider

    tracer = TracerProvider().get_tracer("app")  # not installed globally
    with (
        tracer.start_as_current_span("request") as otel_span,
        ollive.inference("openai", "m") as span,
    ):
        pass
    ctx = otel_span.get_span_context()
    (event,) = shipped(sdk, "inference")
    assert event["trace_id"] == f"{ctx.trace_id:032x}" == span.trace_id
    assert event["parent_span_id"] == f"{ctx.span_id:016x}"


def test_a_malformed_setting_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from ollive.errors import ConfigError

    monkeypatch.setenv("OLLIVE_SAMPLE_RATE", "lots")
    with pytest.raises(ConfigError, match="OLLIVE_"):
        ollive.init()


def test_decorator_made_while_enabled_keeps_its_options(sdk: IngestServer) -> None:
    @ollive.inference("openai", "m", input="fixed prompt", metadata={"route": "faq"})
    def call(x: int) -> str:
        return "done"

    call(1)
    call(2)
    events = shipped(sdk, "inference")
    assert len({e["request_id"] for e in events}) == 2
    assert all(
        e["input_preview"] == "fixed prompt" and e["metadata"] == {"route": "faq"} for e in events
    )
