"""``make_model``: the demo model, and ``openai:<model>`` against a local OpenAI-compatible
server started here (FastAPI + uvicorn in a thread; streaming SSE with tool calls and usage)."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

from ollive.chat import ChatAgent, DemoChatModel, DemoOptions, LocalMemory, make_model
from ollive.config import Settings
from ollive.errors import ConfigError

from .conftest import EventSink, wait_until


def _chunk(
    delta: dict[str, Any], finish: str | None = None, model: str = "fake-gpt"
) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def _script(body: dict[str, Any]) -> tuple[list[dict[str, Any]], str]:
    """What the fake model says: a calculator call for arithmetic, else text."""
    last = body["messages"][-1]
    if last["role"] == "tool":
        words = ["The", " answer", " is", f" {last['content'].rpartition('= ')[2]}."]
        return [_chunk({"content": w}) for w in words], "stop"
    if body.get("tools") and "*" in str(last.get("content")):
        call = {"index": 0, "id": "call_1", "type": "function",
                "function": {"name": "calculator", "arguments": ""}}  # fmt: skip
        parts = [_chunk({"role": "assistant", "tool_calls": [call]})]
        for piece in ('{"expression": ', '"6 * 7"}'):
            parts.append(_chunk({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}))
        return parts, "tool_calls"
    return [_chunk({"content": w}) for w in ["Hello", " from", " the", " fake."]], "stop"


def _fake_openai() -> FastAPI:
    app = FastAPI()
    app.state.requests = []

    @app.post("/v1/chat/completions")
    async def completions(request: Request) -> Any:
        body = await request.json()
        app.state.requests.append(body)
        chunks, finish = _script(body)
        usage = {"prompt_tokens": 21, "completion_tokens": 7, "total_tokens": 28}
        if not body.get("stream"):
            text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks)
            message = {"role": "assistant", "content": text}
            return JSONResponse({"id": "x", "object": "chat.completion", "created": 0, "model": body["model"],
                                 "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                                 "usage": usage})  # fmt: skip

        def events() -> Iterator[str]:
            for c in [*chunks, _chunk({}, finish)]:
                yield f"data: {json.dumps(c)}\n\n"
            if (body.get("stream_options") or {}).get("include_usage"):
                yield f"data: {json.dumps({**_chunk({}), 'choices': [], 'usage': usage})}\n\n"
            yield "data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    return app


@pytest.fixture(scope="module")
def openai_server() -> Iterator[tuple[str, FastAPI]]:
    app = _fake_openai()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="error", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    assert wait_until(lambda: server.started, 10)
    yield f"http://127.0.0.1:{port}/v1", app
    server.should_exit = True
    thread.join(5)
    sock.close()


def test_demo_is_the_default_and_takes_its_options() -> None:
    model = make_model(Settings().chat_model, DemoOptions(seed=3, latency_scale=0.0))
    assert isinstance(model, DemoChatModel) and model.seed == 3 and model.latency_scale == 0.0


@pytest.mark.parametrize("spec", ["gpt-4o", "openai:", "anthropic:claude", "demo:x"])
def test_unknown_specs_are_config_errors(spec: str) -> None:
    with pytest.raises(ConfigError, match="openai:<model>"):
        make_model(spec)


def test_openai_model_from_the_environment_runs_a_turn_with_tools(
    openai_server: tuple[str, FastAPI], sink: EventSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, app = openai_server
    monkeypatch.setenv("OLLIVE_CHAT_MODEL", "openai:fake-gpt")
    monkeypatch.setenv("OPENAI_BASE_URL", url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    model = make_model(Settings().chat_model)
    agent = ChatAgent(model, LocalMemory())

    async def run() -> list[Any]:
        events = [event async for event in agent.stream("What is 6 * 7?", user_id="u-2")]
        await model.root_async_client.close()  # type: ignore[attr-defined]  # in this loop
        return events

    events = asyncio.run(run())
    kinds = [e.type for e in events]
    assert kinds[-1] == "final", events[-1]
    assert [e.data["name"] for e in events if e.type == "tool_call"] == ["calculator"]
    assert [e.data["content"] for e in events if e.type == "tool_result"] == ["6 * 7 = 42"]
    assert events[-1].data["content"] == "The answer is 42."
    assert events[-1].data["usage"] == {"input_tokens": 42, "output_tokens": 14, "total_tokens": 56}
    first = app.state.requests[-2]
    assert first["stream"] is True and first["model"] == "fake-gpt"
    assert [t["function"]["name"] for t in first["tools"]][:2] == ["current_time", "calculator"]
    inferences = wait_until(
        lambda: len(sink.of_type("inference")) == 2 and sink.of_type("inference")
    )
    tools = wait_until(lambda: sink.of_type("tool_execution"))
    for event in inferences:
        assert (event["provider"], event["model"], event["prompt_tokens"]) == (
            "openai",
            "fake-gpt",
            21,
        )
    asking = next(i for i in inferences if i["tool_calls_count"] == 1)
    assert tools[0]["parent_request_id"] == asking["request_id"]
