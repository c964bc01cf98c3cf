"""A real local ingest server (http.server in a thread) and an SDK reset between tests."""

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
from ollive.errors import ContractError
from ollive.events import parse_event


class QuietHTTPServer(ThreadingHTTPServer):
    """A threading HTTP server that does not print client disconnects to stderr."""

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass


class IngestServer:
    """Speaks ingest's ``POST /v1/logs``: validates with the contract, dedupes by request_id.

    ``events`` holds each event as ingest sees it (validated, defaults filled in).

    Knobs: ``answers`` (statuses to give before normal service; ``"accept-500"`` stores the
    batch then answers 500, like a lost response), ``retry_after``, ``block`` (an Event the
    handler waits for), ``max_events`` (413 above), ``api_key`` (401 on a wrong one).
    """

    def __init__(self) -> None:
        self.events: dict[str, dict[str, Any]] = {}
        self.duplicates = 0
        self.requests = 0
        self.invalid: list[Any] = []
        self.headers: list[dict[str, str]] = []
        self.answers: list[int | str] = []
        self.retry_after = "0"
        self.block: threading.Event | None = None
        self.blocked = 0
        self.max_events: int | None = None
        self.api_key: str | None = None
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status, answer, extra = server.handle(dict(self.headers), body)
                data = json.dumps(answer).encode()
                self.send_response(status)
                for key, value in extra.items():
                    self.send_header(key, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = QuietHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.endpoint = f"http://127.0.0.1:{self.port}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def handle(self, headers: dict[str, str], body: bytes) -> tuple[int, Any, dict[str, str]]:
        with self.lock:
            self.requests += 1
            self.headers.append(headers)
            answer = self.answers.pop(0) if self.answers else None
        if self.block is not None:
            with self.lock:
                self.blocked += 1
            self.block.wait(30)
        if self.api_key and headers.get("Authorization") != f"Bearer {self.api_key}":
            return 401, {"detail": "bad key"}, {}
        if isinstance(answer, int):
            extra = {"Retry-After": self.retry_after} if answer == 429 else {}
            return answer, {"detail": "try later"}, extra
        raw = gzip.decompress(body) if headers.get("Content-Encoding") == "gzip" else body
        events = json.loads(raw)["events"]
        if self.max_events is not None and len(events) > self.max_events:
            return 413, {"detail": "too large"}, {}
        accepted = duplicates = 0
        rejected = []
        with self.lock:
            for index, event in enumerate(events):
                try:
                    event = parse_event(event).model_dump(mode="json")  # as ingest sees it
                except ContractError as exc:
                    self.invalid.append((event, exc.errors))
                    rejected.append({"index": index, "errors": exc.errors})
                    continue
                if event["request_id"] in self.events:
                    duplicates += 1
                    self.duplicates += 1
                else:
                    self.events[event["request_id"]] = event
                    accepted += 1
        if answer == "accept-500":
            return 500, {"detail": "lost"}, {}
        return 202, {"accepted": accepted, "duplicates": duplicates, "rejected": rejected}, {}

    def of_type(self, log_type: str) -> list[dict[str, Any]]:
        with self.lock:
            return [e for e in self.events.values() if e["log_type"] == log_type]

    def close(self) -> None:
        if self.block is not None:
            self.block.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def ingest() -> Iterator[IngestServer]:
    server = IngestServer()
    yield server
    server.close()


@pytest.fixture
def sdk(ingest: IngestServer) -> Iterator[IngestServer]:
    """The SDK initialised against a fresh local ingest server; shut down afterwards."""
    ollive.init(
        endpoint=ingest.endpoint, api_key="test-key", service="tests", flush_interval_s=0.05
    )
    yield ingest
    ollive.shutdown(2)


@pytest.fixture(autouse=True)
def _no_sdk_leak() -> Iterator[None]:
    yield
    ollive.shutdown(1)


def wait_until(predicate: Callable[[], bool], timeout_s: float = 10.0) -> bool:
    """Poll ``predicate`` until it holds (tests wait on behaviour, never on durations)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()
