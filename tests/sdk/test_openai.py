"""``instrument(client)`` against a local OpenAI-compatible HTTP server started by the test."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import openai
import pytest

import ollive
from ollive.events import parse_event
from ollive.integrations.openai import instrument
from tests.sdk.conftest import IngestServer, QuietHTTPServer


class FakeOpenAI:
    """``/v1/chat/completions``. The model name picks the behaviour: ``flaky`` (500 once,
    then 200), ``bad`` (400), ``slow`` (answers after 2 s), ``tools`` (a tool call)."""

    def __init__(self) -> None:
        self.requests = 0
        self.seen_flaky: set[str] = set()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests += 1
                server.answer(self, body)

        self.httpd = QuietHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()

    @staticmethod
    def _json(
        handler: BaseHTTPRequestHandler,
        status: int,
        payload: Any,
        headers: dict[str, str] | None = None,
    ) -> None:
        data = json.dumps(payload).encode()
        handler.send_response(status)
        for key, value in (headers or {}).items():
            handler.send_header(key, value)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def answer(self, handler: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        model = body["model"]
        question = body["messages"][-1]["content"]
        if model == "flaky" and question not in self.seen_flaky:
            self.seen_flaky.add(question)
            return self._json(
                handler, 500, {"error": {"message": "boom"}}, {"retry-after-ms": "10"}
            )
        if model == "bad":
            return self._json(
                handler,
                400,
                {"error": {"message": "model does not exist", "type": "invalid_request_error"}},
            )
        if model == "slow":
            time.sleep(2)
        text = f"echo: {question}"
        usage = {
            "prompt_tokens": 11,
            "completion_tokens": 4,
            "total_tokens": 15,
            "prompt_tokens_details": {"cached_tokens": 3},
        }
        calls = [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
            }
        ]
        if not body.get("stream"):
            message: dict[str, Any] = {
                "role": "assistant",
                "content": None if model == "tools" else text,
            }
            if model == "tools":
                message["tool_calls"] = calls
            return self._json(
                handler,
                200,
                {
                    "id": "chatcmpl-1",
                    "object": "chat.completion",
                    "created": 0,
                    "model": model + "-2025",
                    "choices": [
                        {
                            "index": 0,
                            "message": message,
                            "finish_reason": "tool_calls" if model == "tools" else "stop",
                        }
                    ],
                    "usage": usage,
                },
            )
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream")
        handler.send_header("Connection", "close")
        handler.end_headers()

        def send(payload: Any) -> None:
            handler.wfile.write(f"data: {json.dumps(payload)}\n\n".encode())
            handler.wfile.flush()

        base = {"id": "chatcmpl-2", "object": "chat.completion.chunk", "created": 0, "model": model}
        for word in text.split(" "):
            send(
                {
                    **base,
                    "choices": [
                        {"index": 0, "delta": {"content": word + " "}, "finish_reason": None}
                    ],
                }
            )
        send({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        if (body.get("stream_options") or {}).get("include_usage"):
            send({**base, "choices": [], "usage": usage})
        handler.wfile.write(b"data: [DONE]\n\n")
        handler.wfile.flush()
        handler.close_connection = True

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI()
    yield server
    server.close()


def inferences(server: IngestServer) -> list[dict[str, Any]]:
    assert ollive.flush(10)
    assert not server.invalid
    events = server.of_type("inference")
    for event in events:
        parse_event(event)
    return events


def test_sync_completion_tools_errors_and_retries(
    sdk: IngestServer, fake_openai: FakeOpenAI
) -> None:
    client = instrument(
        openai.OpenAI(base_url=fake_openai.base_url, api_key="sk-test", max_retries=2)
    )
    assert instrument(client) is client  # idempotent
    try:
        msgs = [{"role": "user", "content": "hello"}]
        reply = client.chat.completions.create(model="gpt-test", messages=msgs)
        assert reply.choices[0].message.content == "echo: hello"
        client.chat.completions.create(model="tools", messages=msgs)
        flaky = client.with_options(timeout=30).chat.completions.create(
            model="flaky", messages=[{"role": "user", "content": "again"}]
        )
        assert flaky.choices[0].message.content == "echo: again"
        with pytest.raises(openai.BadRequestError):
            client.chat.completions.create(model="bad", messages=msgs)
    finally:
        client.close()
    events = {e["model"]: e for e in inferences(sdk)}
    ok = events["gpt-test"]
    assert (ok["provider"], ok["status"], ok["finish_reason"]) == ("openai", "ok", "stop")
    assert (
        ok["prompt_tokens"],
        ok["completion_tokens"],
        ok["total_tokens"],
        ok["cached_prompt_tokens"],
    ) == (11, 4, 15, 3)
    assert ok["input_preview"] == "hello" and ok["output_preview"] == "echo: hello"
    assert ok["metadata"]["response_model"] == "gpt-test-2025"
    assert (
        events["tools"]["tool_calls_count"] == 1
        and "get_weather" in events["tools"]["tool_calls_summary"]
    )
    assert events["flaky"]["status"] == "ok" and events["flaky"]["metadata"]["retries"] == 1
    bad = events["bad"]
    assert (bad["status"], bad["error_code"]) == ("error", "BadRequestError")
    assert "model does not exist" in bad["error_message"]
    assert len(events) == 4  # one event per create call, retries included


def test_sync_streaming_with_usage_and_early_close(
    sdk: IngestServer, fake_openai: FakeOpenAI
) -> None:
    client = instrument(
        openai.OpenAI(base_url=fake_openai.base_url, api_key="sk-test"), stream_usage=True
    )
    try:
        msgs = [{"role": "user", "content": "stream me please"}]
        stream = client.chat.completions.create(model="streamer", messages=msgs, stream=True)
        text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
        assert text.strip() == "echo: stream me please"
        with client.chat.completions.create(model="closer", messages=msgs, stream=True) as early:
            next(iter(early))
    finally:
        client.close()
    events = {e["model"]: e for e in inferences(sdk)}
    streamed = events["streamer"]
    assert streamed["stream"] is True and 0 <= streamed["ttft_ms"] <= streamed["latency_ms"]
    assert streamed["total_tokens"] == 15 and streamed["finish_reason"] == "stop"
    assert streamed["output_preview"].strip() == "echo: stream me please"
    assert events["closer"]["status"] == "cancelled"


def test_async_client_streaming_timeout_and_concurrency(
    sdk: IngestServer, fake_openai: FakeOpenAI
) -> None:
    async def main() -> None:
        client = instrument(
            openai.AsyncOpenAI(
                base_url=fake_openai.base_url, api_key="sk-test", max_retries=0, timeout=0.3
            )
        )
        try:

            async def ask(i: int) -> str:
                with ollive.conversation(f"c-{i}"):
                    reply = await client.chat.completions.create(
                        model="async", messages=[{"role": "user", "content": f"q{i}"}]
                    )
                    return reply.choices[0].message.content or ""

            assert await asyncio.gather(*(ask(i) for i in range(4))) == [
                f"echo: q{i}" for i in range(4)
            ]
            stream = await client.chat.completions.create(
                model="astream",
                messages=[{"role": "user", "content": "hi"}],
                stream=True,
                stream_options={"include_usage": True},
            )
            chunks = [c async for c in stream]
            assert chunks[-1].usage.total_tokens == 15
            with pytest.raises(openai.APITimeoutError):
                await client.chat.completions.create(
                    model="slow", messages=[{"role": "user", "content": "zzz"}]
                )
        finally:
            await client.close()

    asyncio.run(main())
    events = inferences(sdk)
    by_conv = {e["conversation_id"]: e for e in events if e["model"] == "async"}
    assert {c: e["output_preview"] for c, e in by_conv.items()} == {
        f"c-{i}": f"echo: q{i}" for i in range(4)
    }
    streamed = next(e for e in events if e["model"] == "astream")
    assert streamed["stream"] is True and streamed["total_tokens"] == 15
    slow = next(e for e in events if e["model"] == "slow")
    assert (slow["status"], slow["error_code"]) == ("timeout", "APITimeoutError")


def test_instrumented_client_is_a_passthrough_before_init(fake_openai: FakeOpenAI) -> None:
    client = instrument(openai.OpenAI(base_url=fake_openai.base_url, api_key="sk-test"))
    try:
        reply = client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "x"}]
        )
    finally:
        client.close()
    assert reply.choices[0].message.content == "echo: x"
    assert ollive.stats()["enqueued"] == 0
