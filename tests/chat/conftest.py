"""An event sink (a real local HTTP server speaking ingest's ``POST /v1/logs``) and the SDK
pointed at it; the agent's telemetry is read back from there."""

from __future__ import annotations

import gzip
import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

import ollive
from ollive.events import parse_event


class EventSink:
    """Accepts batches, validates each event with the wire contract, keeps them by request id."""

    def __init__(self) -> None:
        self.events: dict[str, dict[str, Any]] = {}
        self.invalid: list[Any] = []
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
                sink.add(json.loads(body).get("events", []))
                data = b'{"accepted": 1, "duplicates": 0, "rejected": []}'
                self.send_response(202)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.endpoint = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def add(self, events: list[dict[str, Any]]) -> None:
        with self.lock:
            for event in events:
                try:
                    parse_event(event)
                except ValueError as exc:
                    self.invalid.append((event, exc))
                    continue
                self.events[event["request_id"]] = event

    def of_type(self, log_type: str, **match: Any) -> list[dict[str, Any]]:
        with self.lock:
            return [
                e
                for e in self.events.values()
                if e["log_type"] == log_type and all(e.get(k) == v for k, v in match.items())
            ]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def wait_until(predicate: Callable[[], Any], timeout_s: float = 10.0) -> Any:
    """Poll ``predicate`` until it is truthy (tests wait on behaviour, never on durations)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.02)
    return predicate()


@pytest.fixture
def sink() -> Iterator[EventSink]:
    """The SDK initialised against a fresh local sink; shut down afterwards."""
    server = EventSink()
    ollive.init(
        endpoint=server.endpoint, api_key="test", service="chat-tests", flush_interval_s=0.05
    )
    yield server
    ollive.shutdown(2)
    server.close()
