"""The chatbot Serve app end to end over real HTTP: SSE turns, history, cancellation.

One app per module on the session's Ray cluster (two replicas sharing the session's Valkey);
the replicas' SDK ships to a local sink HTTP server started here.
"""

from __future__ import annotations

import gzip
import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from tests.serve._serve import serve_base_url

pytestmark = pytest.mark.slow


class _Sink:
    """A local ``POST /v1/logs`` that keeps every event (the replicas' ingest endpoint)."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                with sink.lock:
                    sink.events.extend(json.loads(body)["events"])
                self.send_response(202)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.endpoint = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def find(self, **match: Any) -> list[dict[str, Any]]:
        with self.lock:
            return [e for e in self.events if all(e.get(k) == v for k, v in match.items())]


def _wait(predicate: Callable[[], Any], timeout_s: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.05)
    return predicate()


@pytest.fixture(scope="module")
def sink() -> Iterator[_Sink]:
    server = _Sink()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()


@pytest.fixture(scope="module")
def chat_url(ray_session: Any, valkey_url: str, sink: _Sink) -> Iterator[str]:
    from ray import serve

    from serve.chatbot import ROUTE_PREFIX, ChatAppArgs, build_chat_app

    base = serve_base_url()
    args = ChatAppArgs(
        redis_url=valkey_url,
        endpoint=sink.endpoint,
        api_key="test",
        service="chatbot-test",
        num_replicas=2,
        replica_cpus=0.1,
        latency_scale=1.0,
        error_rate=0.0,
        timeout_rate=0.0,
        flush_interval_s=0.1,
    )
    serve.run(build_chat_app(args), name="chatbot-test", route_prefix=ROUTE_PREFIX)
    yield base + ROUTE_PREFIX
    serve.delete("chatbot-test")


def _events(response: httpx.Response) -> Iterator[tuple[str, dict[str, Any]]]:
    """(event, data) pairs of a Server-Sent Events response."""
    name, data = "message", []
    for line in response.iter_lines():
        if not line:
            if data:
                yield name, json.loads("\n".join(data))
            name, data = "message", []
        elif line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].strip())


def _turn(url: str, body: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    with httpx.stream("POST", url, json=body, timeout=60) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        return list(_events(response))


def test_a_turn_streams_sse_and_is_recorded_as_linked_events(chat_url: str, sink: _Sink) -> None:
    events = _turn(
        chat_url, {"message": "Where is ORD-10075, and what is 6 * 7?", "user_id": "u-1"}
    )
    kinds = [kind for kind, _ in events]
    assert kinds[0] == "conversation" and kinds[-1] == "final"
    assert {"tool_call", "tool_result", "token"} <= set(kinds)
    results = {d["name"]: d for k, d in events if k == "tool_result"}
    assert results["calculator"]["content"].endswith("= 42")
    assert "ORD-10075" in results["lookup_order"]["content"]
    final = events[-1][1]
    cid = final["conversation_id"]
    assert final["usage"]["input_tokens"] > 0 and final["usage"]["output_tokens"] > 0
    assert "42" in final["content"]

    answer = _wait(lambda: sink.find(request_id=final["request_id"]))
    assert answer[0]["log_type"] == "inference" and answer[0]["conversation_id"] == cid
    assert answer[0]["provider"] == "ollive" and answer[0]["model"] == "demo-chat"
    inferences = _wait(
        lambda: (
            len(sink.find(log_type="inference", conversation_id=cid)) == 2
            and sink.find(log_type="inference", conversation_id=cid)
        )
    )
    tools = _wait(
        lambda: (
            len(sink.find(log_type="tool_execution", conversation_id=cid)) == 2
            and sink.find(log_type="tool_execution", conversation_id=cid)
        )
    )
    asking = next(i for i in inferences if i["tool_calls_count"] == 2)
    assert {t["tool_name"] for t in tools} == {"calculator", "lookup_order"}
    assert {t["parent_request_id"] for t in tools} == {asking["request_id"]}
    assert {e["trace_id"] for e in inferences + tools} == {asking["trace_id"]}
    assert all(e["user_id"] == "u-1" and e["service"] == "chatbot-test" for e in inferences + tools)


def test_history_is_kept_across_turns_and_replicas(chat_url: str) -> None:
    first = _turn(chat_url, {"message": "hello"})
    cid = first[0][1]["conversation_id"]
    for _ in range(3):  # several turns: the two replicas take turns answering
        assert (
            _turn(chat_url, {"message": "What time is it in Tokyo?", "conversation_id": cid})[-1][0]
            == "final"
        )
    history = httpx.get(f"{chat_url}/{cid}", timeout=10).json()
    roles = [m["role"] for m in history["messages"]]
    assert roles[:2] == ["user", "assistant"]
    assert roles.count("user") == 4 and roles.count("tool") == 3
    assert history["messages"][-1]["role"] == "assistant"
    assert httpx.get(f"{chat_url}/conv-unknown", timeout=10).status_code == 404


def test_cancel_stops_the_stream_and_records_a_cancelled_inference(
    chat_url: str, sink: _Sink
) -> None:
    with httpx.stream(
        "POST", chat_url, json={"message": "How do refunds work?"}, timeout=60
    ) as response:
        stream = _events(response)
        kind, opening = next(stream)
        assert kind == "conversation"
        cid = opening["conversation_id"]
        cancel = httpx.post(f"{chat_url}/{cid}/cancel", timeout=10)
        assert cancel.status_code == 200 and cancel.json()["cancelled"] is True
        rest = list(stream)
    assert rest[-1][0] == "cancelled"
    request_id = rest[-1][1]["request_id"]
    recorded = _wait(lambda: sink.find(request_id=request_id))
    assert recorded[0]["status"] == "cancelled" and recorded[0]["conversation_id"] == cid
    assert httpx.post(f"{chat_url}/{cid}/cancel", timeout=10).status_code == 409  # nothing runs now
    history = httpx.get(f"{chat_url}/{cid}", timeout=10).json()
    assert history["messages"][0] == {"role": "user", "content": "How do refunds work?"}
