"""The transport against a real local HTTP server: down, slow, retries, dedupe, fork, exit."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import threading

import pytest

import ollive
from tests.sdk.conftest import IngestServer, wait_until


def emit(n: int, model: str = "m") -> None:
    for i in range(n):
        with ollive.inference("openai", model, input=f"prompt {i}") as span:
            span.set_usage(10, 5)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_ingest_down_app_unaffected_memory_bounded_drops_counted() -> None:
    ollive.init(
        endpoint=f"http://127.0.0.1:{closed_port()}/v1",
        max_queue_size=100,
        max_spill_bytes=0,  # no disk buffer: the queue bound is the memory bound
        max_batch_events=20,
        max_retries=50,
        retry_backoff_s=0.05,
        flush_interval_s=0.05,
    )

    @ollive.tool
    def work(x: int) -> int:
        return x * 2

    assert [work(i) for i in range(5_000)][-1] == 9_998
    stats = ollive.stats()
    assert stats["queued"] <= 100
    assert stats["dropped"] > 0
    assert stats["enqueued"] + stats["dropped"] == 5_000
    assert ollive.shutdown(timeout_s=0.5) is False  # still retrying at the deadline: gives up
    stats_after = ollive.stats()  # zeros once shut down
    assert stats_after["enqueued"] == 0


def test_ingest_down_failures_are_counted(ingest: IngestServer) -> None:
    port = closed_port()
    ollive.init(
        endpoint=f"http://127.0.0.1:{port}/v1",
        max_retries=1,
        retry_backoff_s=0.01,
        flush_interval_s=0.05,
    )
    emit(10)
    assert ollive.flush(10)
    stats = ollive.stats()
    assert stats["failed"] == 10 and stats["retried"] == 10 and stats["sent"] == 0


def test_slow_ingest_does_not_hold_the_caller(ingest: IngestServer) -> None:
    ingest.block = threading.Event()
    ollive.init(endpoint=ingest.endpoint, flush_interval_s=0.05, max_batch_events=10)
    emit(10)
    assert wait_until(lambda: ingest.blocked >= 1)  # the worker is stuck in a request...
    emit(200)  # ...and the app goes on regardless
    assert ingest.block.is_set() is False
    assert ollive.stats()["enqueued"] == 210
    assert ollive.flush(0.05) is False  # flush honours its deadline
    ingest.block.set()
    assert ollive.flush(10)
    assert len(ingest.events) == 210


@pytest.mark.parametrize("answers", [[500, 503], [429, 429], ["accept-500", 502]])
def test_retries_deliver_exactly_once(ingest: IngestServer, answers: list) -> None:
    ingest.answers = list(answers)
    ingest.retry_after = "0.05"
    ollive.init(endpoint=ingest.endpoint, retry_backoff_s=0.01, flush_interval_s=0.05)
    emit(30)
    assert ollive.flush(10)
    assert len(ingest.events) == 30
    stats = ollive.stats()
    assert stats["sent"] == 30 and stats["failed"] == 0 and stats["retried"] >= 30
    assert ingest.requests == len(answers) + 1  # one batch, retried
    if answers[0] == "accept-500":
        assert ingest.duplicates == 30  # the server saw them twice and kept them once


def test_other_4xx_are_not_retried_and_401_is_counted(ingest: IngestServer) -> None:
    ingest.api_key = "right-key"
    ollive.init(
        endpoint=ingest.endpoint, api_key="wrong-key", flush_interval_s=0.05, retry_backoff_s=0.01
    )
    emit(5)
    assert ollive.flush(10)
    assert ingest.requests == 1 and not ingest.events
    assert ollive.stats()["failed"] == 5
    ingest.api_key = None
    ingest.answers = [400]
    emit(5)
    assert ollive.flush(10)
    assert ingest.requests == 2
    assert ollive.stats()["failed"] == 10


def test_too_large_batches_are_split(ingest: IngestServer) -> None:
    ingest.max_events = 8
    ollive.init(endpoint=ingest.endpoint, flush_interval_s=0.05, max_batch_events=50)
    emit(50)
    assert ollive.flush(10)
    assert len(ingest.events) == 50
    assert ollive.stats()["sent"] == 50


def test_batches_by_count_and_bytes_gzip_and_auth(ingest: IngestServer) -> None:
    ollive.init(
        endpoint=ingest.endpoint,
        api_key="k-1",
        flush_interval_s=5,
        max_batch_events=25,
        max_batch_bytes=4_096,
    )
    for _ in range(100):
        with ollive.inference("openai", "m", input="x" * 400):
            pass
    assert ollive.flush(10)
    assert len(ingest.events) == 100
    assert ingest.requests >= 100 * 400 // 4_096  # the byte bound split the batches
    assert all(
        h["Content-Encoding"] == "gzip" and h["Authorization"] == "Bearer k-1"
        for h in ingest.headers
    )


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_ships_its_own_events(ingest: IngestServer) -> None:
    ollive.init(endpoint=ingest.endpoint, flush_interval_s=0.05)
    emit(3, model="parent-before-fork")
    pid = os.fork()
    if pid == 0:  # the child: ship our own events, then leave without pytest's teardown
        code = 1
        try:
            emit(7, model="child")
            stats = ollive.stats()
            code = (
                0
                if ollive.flush(10) and ollive.stats()["sent"] == 7 and stats["enqueued"] == 7
                else 3
            )
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    emit(2, model="parent-after-fork")
    assert ollive.flush(10)
    models = [e["model"] for e in ingest.events.values()]
    assert models.count("child") == 7
    assert models.count("parent-before-fork") == 3  # not duplicated by the child
    assert models.count("parent-after-fork") == 2


@pytest.mark.slow
def test_pending_events_are_flushed_at_exit(ingest: IngestServer) -> None:
    script = textwrap.dedent(
        f"""
        import ollive
        ollive.init(endpoint={ingest.endpoint!r}, flush_interval_s=60, service="exiting")
        for i in range(300):
            with ollive.inference("openai", "m") as span:
                span.set_usage(i, 1)
        print(ollive.stats()["enqueued"])
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "300"
    assert len(ingest.of_type("inference")) == 300


@pytest.mark.slow
def test_exit_with_ingest_down_gives_up_at_the_deadline() -> None:
    script = textwrap.dedent(
        f"""
        import ollive
        ollive.init(endpoint="http://127.0.0.1:{closed_port()}/v1", max_retries=1000,
                    retry_backoff_s=0.05, shutdown_timeout_s=0.5)
        for i in range(100):
            with ollive.inference("openai", "m"):
                pass
        print("done")
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "done"
