"""``ollive bench sdk``: the SDK's cost on the caller's thread and its transport throughput,
next to Langfuse's ``@observe`` measured in the same run against the same local sink.

The sink is a small HTTP server in a subprocess (so it does not share our GIL): it answers
``202`` to ``POST /v1/logs`` (counting the events it receives) and ``200`` to anything
else (Langfuse's OTLP export).
"""

from __future__ import annotations

import gc
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from typing import Any

__all__ = ["run_sdk_bench"]

_SINK = r"""
import gzip, json, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
counts = {"events": 0, "requests": 0}
pending = [0]  # requests answered but not counted yet
lock = threading.Condition()
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    def log_message(self, *a): pass
    def _answer(self, code, payload):
        data = json.dumps(payload).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    def do_GET(self):
        with lock:
            lock.wait_for(lambda: pending[0] == 0, timeout=30)
            snapshot = dict(counts)
        self._answer(200, snapshot)
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path.endswith("/logs"):
            # answer first, count after (GET /count waits for pending counts): the sink
            # verifies delivery without slowing the client down
            with lock:
                pending[0] += 1
            self._answer(202, {"accepted": 0, "duplicates": 0, "rejected": []})
            raw = gzip.decompress(body) if self.headers.get("Content-Encoding") == "gzip" else body
            n = raw.count(b'"log_type"')
            with lock:
                counts["events"] += n
                counts["requests"] += 1
                pending[0] -= 1
                lock.notify_all()
        else:
            self._answer(200, {})
server = ThreadingHTTPServer(("127.0.0.1", 0), H)
server.daemon_threads = True
print(server.server_address[1], flush=True)
server.serve_forever()
"""

#: 500 characters of ordinary text (compresses like real previews, unlike "x" * 500)
PREVIEW = (
    "Where is my order A-1042? It was due on Monday and the tracking page still says "
    "'label created'. Can you check with the carrier and refund the shipping fee? "
) * 4
PREVIEW = PREVIEW[:500]


class _Sink:
    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _SINK], stdout=subprocess.PIPE, text=True
        )
        assert self.proc.stdout is not None
        self.url = f"http://127.0.0.1:{int(self.proc.stdout.readline())}"

    def counts(self) -> dict[str, int]:
        with urllib.request.urlopen(self.url + "/count", timeout=10) as response:
            return dict(json.loads(response.read()))

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def _per_call(fn: Callable[[], Any], calls: int) -> dict[str, float]:
    """Median and p99 in microseconds of ``fn`` timed one call at a time, after a warm-up."""
    for _ in range(min(calls // 10, 2_000)):
        fn()
    return _timed_calls(fn, calls)


def _timed_calls(fn: Callable[[], Any], calls: int) -> dict[str, float]:
    """Median and p99 in microseconds of ``calls`` calls of ``fn``, each timed alone."""
    clock = time.perf_counter_ns
    samples = [0] * calls
    for i in range(calls):
        start = clock()
        fn()
        samples[i] = clock() - start
    samples.sort()
    return {
        "median_us": round(statistics.median(samples) / 1000, 3),
        "p99_us": round(samples[int(calls * 0.99) - 1] / 1000, 3),
    }


def _ollive_calls(calls: int) -> dict[str, Any]:
    import ollive

    def inference() -> None:
        with ollive.inference("openai", "gpt-4o-mini", input=PREVIEW) as span:
            span.set_usage(812, 145)
            span.set_output(PREVIEW)
            span.set_finish_reason("stop")

    @ollive.tool
    def lookup_order(order_id: str) -> dict[str, str]:
        return {"order_id": order_id, "status": "shipped"}

    def bare(order_id: str) -> dict[str, str]:
        return {"order_id": order_id, "status": "shipped"}

    return {
        "inference": _per_call(inference, calls),
        "tool": _per_call(lambda: lookup_order("A-1"), calls),
        "bare": _per_call(lambda: bare("A-1"), calls),
        "inference_fn": inference,
    }


def _langfuse_calls(sink_url: str, calls: int) -> dict[str, Any]:
    os.environ.update(
        LANGFUSE_PUBLIC_KEY="pk-lf-bench",
        LANGFUSE_SECRET_KEY="sk-lf-bench",
        LANGFUSE_BASE_URL=sink_url,
        LANGFUSE_HOST=sink_url,
    )
    import langfuse
    from langfuse import get_client, observe

    client = get_client()

    @observe(as_type="generation", name="inference")
    def inference(prompt: str) -> str:
        client.update_current_generation(
            model="gpt-4o-mini", usage_details={"input": 812, "output": 145}, output=PREVIEW
        )
        return PREVIEW

    @observe(as_type="tool")
    def lookup_order(order_id: str) -> dict[str, str]:
        return {"order_id": order_id, "status": "shipped"}

    figures = {
        "inference": _per_call(lambda: inference(PREVIEW), calls),
        "tool": _per_call(lambda: lookup_order("A-1"), calls),
        "version": langfuse.__version__,
    }
    client.flush()
    client.shutdown()
    return figures


def _one_inference() -> None:
    import ollive

    with ollive.inference("openai", "gpt-4o-mini", input=PREVIEW) as span:
        span.set_usage(812, 145)
        span.set_output(PREVIEW)


def _delivery(sink: _Sink, events: int) -> dict[str, Any]:
    """Events/s one thread enqueues, and events/s the transport delivers to the sink.

    One thread enqueues ``events`` inferences as fast as it can (the queue is sized to hold
    them: nothing may drop); the worker ships meanwhile. ``delivered_events_per_s`` is the
    transport's drain rate once the app stops (sent events over the time to flush the
    backlog, the app thread idle); ``end_to_end_events_per_s`` counts the whole run, the
    app competing for the GIL. "Delivered" is checked against the sink's own count.
    """
    import ollive

    ollive.init(
        endpoint=sink.url + "/v1", api_key="bench", service="bench", max_queue_size=events + 10
    )
    _warm_up()
    before = sink.counts()["events"]
    start = time.perf_counter()
    _one_inference()
    cpu_start = _export_thread_cpu_s()
    for _ in range(events - 1):
        _one_inference()
    produced = time.perf_counter()
    sent_before_drain = ollive.stats()["sent"]
    ollive.flush(300)
    done = time.perf_counter()
    cpu_s = _export_thread_cpu_s() - cpu_start
    stats = ollive.stats()
    received = sink.counts()["events"] - before
    ollive.shutdown(10)
    return {
        "enqueue_events_per_s": round(events / (produced - start)),
        "delivered_events_per_s": round((stats["sent"] - sent_before_drain) / (done - produced)),
        "end_to_end_events_per_s": round(events / (done - start)),
        "delivered_all": received == events and stats["dropped"] == 0 and stats["failed"] == 0,
        "received": received,
        "export_cpu_us_per_event": round(cpu_s / events * 1e6, 2) if cpu_s > 0 else None,
    }


def _burst(sink: _Sink, events: int) -> dict[str, Any]:
    """A burst with the SDK's default bounds: ``events`` inferences in a tight loop, each
    call timed; past the in-memory queue they go to the disk buffer. Delivered is checked
    against the sink's own count; the caller's p99 includes the calls that spilled."""
    import tempfile

    import ollive

    with tempfile.TemporaryDirectory(prefix="ollive-bench-spill-") as spill_dir:
        ollive.init(
            endpoint=sink.url + "/v1", api_key="bench", service="bench", spill_dir=spill_dir
        )
        _warm_up()
        before = sink.counts()["events"]
        timing = _timed_calls(_one_inference, events)
        spilled = ollive.stats()["spilled"]
        ollive.flush(600)
        stats = ollive.stats()
        received = sink.counts()["events"] - before
        ollive.shutdown(10)
    return {
        "events": events,
        "spilled": spilled,
        "dropped": stats["dropped"],
        "delivered_all": received == events and stats["dropped"] == 0 and stats["failed"] == 0,
        **timing,
    }


def _warm_up() -> None:
    """One event through the whole path first: one-off costs (lazy imports, the connection)
    are not what the benchmark measures."""
    import ollive

    _one_inference()
    ollive.flush(30)


def _export_thread_cpu_s() -> float:
    """CPU seconds the export thread has used (Linux; 0.0 where unsupported).

    CPU time, unlike wall time, does not stretch when other processes share the cores: it
    says what the transport would deliver on a machine of its own.
    """
    import threading

    for thread in threading.enumerate():
        if thread.name == "ollive-export" and thread.ident is not None:
            try:
                return time.clock_gettime(time.pthread_getcpuclockid(thread.ident))
            except (AttributeError, OSError):
                return 0.0
    return 0.0


def run_sdk_bench(
    calls: int = 20_000,
    events: int = 100_000,
    with_langfuse: bool = True,
    burst_events: int = 200_000,
) -> dict[str, Any]:
    """Measure everything and return the figures (flat, JSON-able)."""
    import ollive

    sink = _Sink()
    try:
        ollive.init(
            endpoint=sink.url + "/v1",
            api_key="bench",
            service="bench",
            max_queue_size=10 * calls + 10,
        )
        _warm_up()
        gc.collect()
        ours = _ollive_calls(calls)
        ollive.flush(60)
        per_call_stats = ollive.stats()
        ollive.shutdown(10)
        per_call_received = sink.counts()["events"]
        delivery = _delivery(sink, events)
        burst = _burst(sink, burst_events) if burst_events else None
        theirs = _langfuse_calls(sink.url, calls) if with_langfuse else None
    finally:
        sink.close()
    figures: dict[str, Any] = {"bench": "sdk", "calls": calls, "events": events}
    for kind in ("inference", "tool", "bare"):
        figures[f"ollive_{kind}_median_us"] = ours[kind]["median_us"]
        figures[f"ollive_{kind}_p99_us"] = ours[kind]["p99_us"]
    figures["ollive_per_call_events_delivered"] = (
        per_call_received == per_call_stats["enqueued"] and per_call_stats["dropped"] == 0
    )
    figures["ollive_enqueue_events_per_s"] = delivery["enqueue_events_per_s"]
    figures["ollive_delivered_events_per_s"] = delivery["delivered_events_per_s"]
    figures["ollive_end_to_end_events_per_s"] = delivery["end_to_end_events_per_s"]
    cpu_us = delivery["export_cpu_us_per_event"]
    figures["ollive_export_cpu_us_per_event"] = cpu_us
    figures["ollive_export_cpu_bound_events_per_s"] = round(1e6 / cpu_us) if cpu_us else None
    figures["load_average_1m"] = round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None
    figures["ollive_delivered_all"] = delivery["delivered_all"]
    if burst is not None:
        for key, value in burst.items():
            figures[f"ollive_burst_{key}"] = value
    if theirs is not None:
        figures["langfuse_version"] = theirs["version"]
        for kind in ("inference", "tool"):
            figures[f"langfuse_{kind}_median_us"] = theirs[kind]["median_us"]
            figures[f"langfuse_{kind}_p99_us"] = theirs[kind]["p99_us"]
        figures["inference_median_ratio_x"] = round(
            theirs["inference"]["median_us"] / max(ours["inference"]["median_us"], 1e-3), 1
        )
        figures["inference_p99_ratio_x"] = round(
            theirs["inference"]["p99_us"] / max(ours["inference"]["p99_us"], 1e-3), 1
        )
    figures["targets_met"] = bool(
        figures["ollive_inference_median_us"] <= 10
        and figures["ollive_inference_p99_us"] <= 100
        and figures["ollive_delivered_events_per_s"] >= 50_000
        and figures["ollive_delivered_all"]
        and figures["ollive_per_call_events_delivered"]
        and (burst is None or (burst["delivered_all"] and burst["p99_us"] <= 100))
    )
    return figures


def render_table(figures: dict[str, Any]) -> str:
    """The figures as a plain-text table (the CLI prints it with rich when available)."""
    rows = [("", "median µs", "p99 µs")]
    for who in ("ollive", "langfuse"):
        for kind in ("inference", "tool", "bare"):
            key = f"{who}_{kind}_median_us"
            if key in figures:
                rows.append(
                    (f"{who} {kind}", str(figures[key]), str(figures[f"{who}_{kind}_p99_us"]))
                )
    width = max(len(r[0]) for r in rows)
    lines = [f"{a:<{width}}  {b:>10}  {c:>10}" for a, b, c in rows]
    lines.append(f"enqueue (one thread): {figures['ollive_enqueue_events_per_s']:,} events/s")
    if figures.get("ollive_export_cpu_us_per_event"):
        lines.append(
            f"export thread CPU: {figures['ollive_export_cpu_us_per_event']} µs/event "
            f"(a core of its own would ship {figures['ollive_export_cpu_bound_events_per_s']:,}/s)"
        )
    lines.append(
        f"delivered to local sink: {figures['ollive_delivered_events_per_s']:,} events/s "
        f"(end to end, app thread busy too: {figures['ollive_end_to_end_events_per_s']:,}/s; "
        f"all delivered: {figures['ollive_delivered_all']})"
    )
    if "ollive_burst_events" in figures:
        lines.append(
            f"burst of {figures['ollive_burst_events']:,} with default bounds: "
            f"{figures['ollive_burst_spilled']:,} through the disk buffer, "
            f"{figures['ollive_burst_dropped']:,} dropped, all delivered: "
            f"{figures['ollive_burst_delivered_all']}; caller p99 {figures['ollive_burst_p99_us']} µs"
        )
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    result = run_sdk_bench()
    print(render_table(result))
    print(json.dumps(result, sort_keys=True))
