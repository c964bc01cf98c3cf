"""``ollive bench chat``: the latency the SDK adds to a chat turn (instrumented vs not).

Both arms run the same turns (same seed, same messages) with the demo model in one process,
interleaved A/B so that machine noise hits both alike. The instrumented arm has the SDK
initialised against a local sink HTTP server (a real export thread and HTTP), the LangChain
handler on every model call and ``@ollive.tool`` on every tool. Two settings:

- ``latency_scale`` as given (1.0: the demo model's realistic TTFT and token pacing): the
  overhead as a share of a realistic turn (target: at most 2 %);
- ``latency_scale=0``: the turn's pure CPU cost, so the absolute overhead in ms is visible.

Figures: ``sdk_overhead_pct_paired`` is the median over turns of (on - off) / off at the
given scale (same message, same seed, so the same simulated sleeps: the difference is the
SDK plus timer noise); ``sdk_overhead_pct_of_turn`` is the CPU overhead (ms, measured at
scale 0) as a share of the realistic turn's median latency (the figure for the 2 % target).
"""

from __future__ import annotations

import asyncio
import statistics
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import ollive
from ollive.chat.agent import ChatAgent
from ollive.chat.demo_model import DemoChatModel
from ollive.chat.memory import LocalMemory

__all__ = ["run_chat_bench"]

_MESSAGES = (
    "Where is my order ORD-10038?",
    "What is 15% of 348?",
    "How do I rotate my API key?",
    "What time is it in Tokyo?",
    "Tell me about your plans",
)


@contextmanager
def _sink() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(202)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


async def _turn(agent: ChatAgent, message: str) -> float:
    started = time.perf_counter()
    async for event in agent.stream(message):
        if event.type in ("error", "cancelled"):
            raise RuntimeError(f"bench turn ended with {event.type}: {event.data}")
    return time.perf_counter() - started


def _measure(turns: int, latency_scale: float, seed: int) -> dict[str, float]:
    def agent(instrument: bool) -> ChatAgent:
        model = DemoChatModel(
            seed=seed, latency_scale=latency_scale, error_rate=0.0, timeout_rate=0.0
        )
        return ChatAgent(model, LocalMemory(), instrument=instrument)

    bare, traced = agent(False), agent(True)
    times: dict[bool, list[float]] = {False: [], True: []}

    async def run() -> None:
        for i in range(turns):
            message = _MESSAGES[i % len(_MESSAGES)]
            for instrumented in (False, True) if i % 2 == 0 else (True, False):
                elapsed = await _turn(traced if instrumented else bare, message)
                times[instrumented].append(elapsed)

    asyncio.run(run())
    off, on = statistics.median(times[False]), statistics.median(times[True])
    paired = [(b - a) / a * 100 for a, b in zip(times[False], times[True], strict=True)]
    return {"off_ms": off * 1000, "on_ms": on * 1000, "overhead_ms": (on - off) * 1000,
            "paired_pct": statistics.median(paired)}  # fmt: skip


def run_chat_bench(turns: int = 20, latency_scale: float = 1.0, seed: int = 0) -> dict[str, Any]:
    """Median turn latency without and with the SDK; figures for ``emit_figures``."""
    with _sink() as endpoint:
        ollive.init(endpoint=endpoint, api_key="bench", service="chat-bench", flush_interval_s=0.2)
        try:
            _measure(2, 0.0, seed)  # warm-up: imports, graph compilation, first exports
            cpu = _measure(max(turns * 5, 50), 0.0, seed)
            real = _measure(turns, latency_scale, seed)
            stats = ollive.stats()
        finally:
            ollive.shutdown(5)
    return {
        "bench": "chat",
        "turns": turns,
        "latency_scale": latency_scale,
        "turn_p50_ms_off": round(real["off_ms"], 1),
        "turn_p50_ms_on": round(real["on_ms"], 1),
        "sdk_overhead_pct_paired": round(real["paired_pct"], 2),
        "cpu_turn_p50_ms_off": round(cpu["off_ms"], 2),
        "cpu_turn_p50_ms_on": round(cpu["on_ms"], 2),
        "cpu_sdk_overhead_ms": round(cpu["overhead_ms"], 3),
        "sdk_overhead_pct_of_turn": round(cpu["overhead_ms"] / real["off_ms"] * 100, 3),
        "events_sent": stats.get("sent", 0),
        "events_dropped": stats.get("dropped", 0),
    }
