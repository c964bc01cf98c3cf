"""The one workload of the benchmarks, soaks and end-to-end tests.

Events mix inference (60%), tool executions (20%), application logs (15%) and scores (5%).
Their previews are 100-480 characters of the LLM-style texts of
:func:`ollive.demo.generate_pii_corpus` (chat turns, code, logs, JSON; PII values from the
demo's generators, with look-alikes in the clean ones); 30% of the inputs carry PII. Every
event of a run has the same unique ``service``, so its rows can be counted exactly.
:func:`drive` sends gzip bodies over HTTP, retrying 429/5xx/network errors as the SDK does,
as fast as it can or open-loop at a given rate (:func:`open_loop_due_s`).
"""

from __future__ import annotations

import asyncio
import functools
import gzip
import random
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson

from ollive.demo import generate_pii_corpus

__all__ = [
    "RAW_EVENT_TABLES",
    "BenchResult",
    "await_stored",
    "bench_warehouse",
    "count_service_rows",
    "drive",
    "free_port",
    "genai_span_attributes",
    "make_batches",
    "make_events",
    "open_loop_due_s",
    "quantile_ms",
    "stored_events",
]

#: the raw tables whose rows are the events (one row per stored event)
RAW_EVENT_TABLES = ("inference_logs", "tool_executions", "application_logs", "scores")

_CORPUS_TEXTS = 2_000
_CORPUS_SEEDS = 2  # corpora kept per process (each costs ~1.5 s to make)
_MODELS = (("openai", "gpt-4o-mini"), ("openai", "gpt-4o"), ("anthropic", "claude-3-5-sonnet"))


@functools.lru_cache(maxsize=_CORPUS_SEEDS)
def _texts(seed: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """LLM-style texts of :func:`ollive.demo.generate_pii_corpus`: (with PII, without)."""
    corpus = generate_pii_corpus(_CORPUS_TEXTS, seed=seed)
    with_pii = tuple(_window(s.text, s.spans[0].start) for s in corpus if s.spans)
    clean = tuple(_window(s.text, 0) for s in corpus if not s.spans)
    return with_pii, clean


def _window(text: str, anchor: int) -> str:
    """100-480 characters of ``text`` that start at most 200 characters before ``anchor``."""
    rng = random.Random(anchor ^ len(text))
    start = max(0, anchor - rng.randint(0, 200))
    return text[start : start + rng.randint(100, 480)]


def _text(rng: random.Random, pii: bool, seed: int) -> str:
    with_pii, clean = _texts(seed % _CORPUS_SEEDS)  # a few corpora, each made once
    text = rng.choice(with_pii if pii else clean)
    return f"{text} #{rng.getrandbits(32):08x}"[:500]


def _event(rng: random.Random, service: str, now: datetime, seed: int) -> dict[str, Any]:
    pii = rng.random() < 0.3
    rid = str(uuid.uuid4())
    end = now - timedelta(seconds=rng.uniform(0, 120))
    start = end - timedelta(milliseconds=rng.uniform(50, 4000))
    base = {"request_id": rid, "service": service, "conversation_id": f"conv-{rng.randint(1, 500)}"}
    kind = rng.random()
    if kind < 0.6:
        provider, model = rng.choice(_MODELS)
        return {
            **base,
            "log_type": "inference",
            "provider": provider,
            "model": model,
            "started_at": start.isoformat(),
            "finished_at": end.isoformat(),
            "prompt_tokens": rng.randint(50, 4000),
            "completion_tokens": rng.randint(10, 800),
            "status": "error" if rng.random() < 0.02 else "ok",
            "user_id": f"user-{rng.randint(1, 200)}",
            "input_preview": _text(rng, pii, seed),
            "output_preview": _text(rng, False, seed),
        }
    if kind < 0.8:
        return {
            **base,
            "log_type": "tool_execution",
            "tool_name": rng.choice(["lookup_order", "search", "refund"]),
            "started_at": start.isoformat(),
            "finished_at": end.isoformat(),
            "args_preview": _text(rng, pii, seed),
            "result_preview": _text(rng, False, seed),
        }
    if kind < 0.95:
        return {
            **base,
            "log_type": "application",
            "timestamp": end.isoformat(),
            "level": "INFO",
            "logger": "app",
            "message": _text(rng, pii, seed),
        }
    return {
        **base,
        "log_type": "score",
        "timestamp": end.isoformat(),
        "target_request_id": str(uuid.uuid4()),
        "name": "thumbs",
        "value": rng.choice([0, 1]),
        "comment": _text(rng, pii, seed),
    }


def make_events(n: int, service: str, seed: int = 7) -> list[dict[str, Any]]:
    """``n`` distinct realistic events of ``service``; 30% of the inputs carry PII."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    return [_event(rng, service, now, seed) for _ in range(n)]


def make_batches(
    events: list[dict[str, Any]], batch_size: int, duplicate_rate: float = 0.0, seed: int = 11
) -> list[bytes]:
    """Gzip JSON bodies of ``batch_size``; ``duplicate_rate`` of the events are sent twice
    (half inside the same body, half in a later one)."""
    rng = random.Random(seed)
    keyed: list[tuple[float, dict[str, Any]]] = [(float(i), e) for i, e in enumerate(events)]
    for pos in rng.sample(range(len(events)), int(len(events) * duplicate_rate)):
        spread = 0.5 if len(keyed) % 2 else rng.uniform(1, 5 * batch_size)  # same body, or later
        keyed.append((pos + spread, events[pos]))
    items = [e for _, e in sorted(keyed, key=lambda k: k[0])]
    return [
        gzip.compress(orjson.dumps({"events": items[i : i + batch_size]}), 1)
        for i in range(0, len(items), batch_size)
    ]


def genai_span_attributes(n: int, seed: int = 7) -> list[dict[str, Any]]:
    """Attributes of ``n`` OpenTelemetry GenAI ``chat`` spans (semconv names that
    ``POST /v1/traces`` maps); the prompts are the workload's texts, 30% with PII."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        provider, model = rng.choice(_MODELS)
        out.append(
            {
                "gen_ai.operation.name": "chat",
                "gen_ai.system": provider,
                "gen_ai.request.model": model,
                "gen_ai.usage.input_tokens": rng.randint(50, 4000),
                "gen_ai.usage.output_tokens": rng.randint(10, 800),
                "gen_ai.conversation.id": f"conv-{rng.randint(1, 500)}",
                "user.id": f"user-{rng.randint(1, 200)}",
                "gen_ai.prompt": _text(rng, rng.random() < 0.3, seed),
                "gen_ai.completion": _text(rng, False, seed),
            }
        )
    return out


def open_loop_due_s(body_events: Sequence[int], events_per_s: float) -> list[float]:
    """When each body is due, in seconds from the start, for an offered load of
    ``events_per_s``: body ``i`` goes once the events of the bodies before it are due."""
    due, sent = [], 0
    for events in body_events:
        due.append(sent / events_per_s)
        sent += events
    return due


def quantile_ms(values_s: Sequence[float], q: float) -> float:
    """The ``q`` quantile of ``values_s`` (seconds) in milliseconds; 0.0 when empty."""
    if not values_s:
        return 0.0
    values = sorted(values_s)
    return round(1000 * values[min(len(values) - 1, int(q * len(values)))], 1)


@dataclass
class BenchResult:
    """What the driver saw: acknowledged totals, latencies, retries, wall time.

    ``latencies_s`` times the attempt that was acknowledged; ``ack_from_send_s`` each body
    from its first attempt (retries included) and ``ack_from_due_s`` from its scheduled send
    time (the client's own queueing included: no coordinated omission). ``sent_at_s`` holds
    the first attempt of each body, in seconds from the start, by body index.
    """

    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    retries: int = 0
    failures: int = 0
    latencies_s: list[float] = field(default_factory=list)
    ack_from_send_s: list[float] = field(default_factory=list)
    ack_from_due_s: list[float] = field(default_factory=list)
    sent_at_s: dict[int, float] = field(default_factory=dict)
    wall_s: float = 0.0

    def quantile_ms(self, q: float) -> float:
        return quantile_ms(self.latencies_s, q)


async def _send(
    client: httpx.AsyncClient, url: str, headers: dict[str, str], body: bytes, result: BenchResult
) -> bool:
    """Post ``body`` until it is acknowledged (True) or 60 attempts failed (False)."""
    for _attempt in range(60):
        started = time.perf_counter()
        try:
            response = await client.post(url, content=body, headers=headers)
        except httpx.HTTPError:
            result.retries += 1
            await asyncio.sleep(0.5)
            continue
        if response.status_code == 429 or response.status_code >= 500:  # as the SDK does
            result.retries += 1
            await asyncio.sleep(
                float(response.headers.get("retry-after", "1")) * random.uniform(0.5, 1.0)
            )
            continue
        if response.status_code != 202:
            raise RuntimeError(f"ingest answered {response.status_code}: {response.text[:300]}")
        result.latencies_s.append(time.perf_counter() - started)
        data = response.json()
        result.accepted += data["accepted"]
        result.duplicates += data["duplicates"]
        result.rejected += len(data["rejected"])
        return True
    result.failures += 1
    return False


async def _drive(
    url: str,
    api_key: str,
    bodies: list[bytes],
    concurrency: int,
    on_ack: Callable[[], None] | None,
    due_s: Sequence[float] | None,
) -> BenchResult:
    result = BenchResult()
    headers = {
        "Authorization": f"Bearer {api_key}",
        "Content-Type": "application/json",
        "Content-Encoding": "gzip",
    }
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(len(bodies)):
        queue.put_nowait(index)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        started = time.perf_counter()

        async def worker() -> None:
            while not queue.empty():
                index = queue.get_nowait()
                due = started + (due_s[index] if due_s is not None else 0.0)
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
                sent = time.perf_counter()
                result.sent_at_s[index] = sent - started
                if await _send(
                    client, url.rstrip("/") + "/v1/logs", headers, bodies[index], result
                ):
                    acked = time.perf_counter()
                    result.ack_from_send_s.append(acked - sent)
                    result.ack_from_due_s.append(acked - due)
                if on_ack is not None:
                    on_ack()

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        result.wall_s = time.perf_counter() - started
    return result


def drive(
    url: str,
    api_key: str,
    bodies: list[bytes],
    concurrency: int = 4,
    on_ack: Callable[[], None] | None = None,
    due_s: Sequence[float] | None = None,
) -> BenchResult:
    """Send every body with ``concurrency`` connections, retrying 429/5xx/network errors as the
    SDK does: as fast as they go, or open-loop when ``due_s`` gives each body's send time in
    seconds from the start (see :func:`open_loop_due_s`); a body waits for a free connection
    past its time when all are busy, and that wait counts in ``ack_from_due_s``."""
    if due_s is not None and len(due_s) != len(bodies):
        raise ValueError(f"{len(due_s)} send times for {len(bodies)} bodies")
    return asyncio.run(_drive(url, api_key, bodies, concurrency, on_ack, due_s))


def count_service_rows(warehouse: Any, service: str) -> dict[str, int]:
    """Rows of ``service`` per raw table, as stored (no FINAL) and collapsed (FINAL)."""
    from ollive.store import RAW_TABLES

    out: dict[str, int] = {}
    for table in RAW_TABLES:
        out[table] = int(
            warehouse.scalar(f"SELECT count() FROM {table} WHERE service = '{service}'")
        )
        out[f"{table}_final"] = int(
            warehouse.scalar(f"SELECT count() FROM {table} FINAL WHERE service = '{service}'")
        )
    out["inference_stats_5m"] = int(
        warehouse.scalar(
            f"SELECT countMerge(requests) FROM inference_stats_5m WHERE service = '{service}'"
        )
        or 0
    )
    out["tool_stats_5m"] = int(
        warehouse.scalar(f"SELECT countMerge(calls) FROM tool_stats_5m WHERE service = '{service}'")
        or 0
    )
    return out


def stored_events(counts: dict[str, int]) -> int:
    """Events stored, from :func:`count_service_rows`' figures (as stored, no FINAL)."""
    return sum(counts[t] for t in RAW_EVENT_TABLES)


def await_stored(
    warehouse: Any, service: str, expected: int, timeout_s: float
) -> tuple[dict[str, int], float]:
    """Poll :func:`count_service_rows` until ``expected`` events of ``service`` are stored or
    ``timeout_s`` passed; returns the last counts and the seconds waited."""
    started = time.perf_counter()
    while True:
        counts = count_service_rows(warehouse, service)
        if stored_events(counts) >= expected or time.perf_counter() - started > timeout_s:
            return counts, time.perf_counter() - started
        time.sleep(0.2)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now, from 20000-29999.

    Not one the kernel hands out (its ephemeral range is 32768-60999 on Linux): the port is
    picked before a Ray starts, whose own components bind ephemeral ports, and one of them
    can take a picked port before the Serve proxy binds it ("Failed to bind to address").
    Ray's worker ports are 10002-19999, below this range.
    """
    import random
    import socket

    rng = random.Random()
    for _ in range(500):
        port = rng.randint(20_000, 29_999)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free TCP port in 20000-29999 on 127.0.0.1")


def bench_warehouse() -> Any:
    """The warehouse the run's rows are counted in: the actor when Ray runs here, else the local one."""
    import ray

    from ollive.store import open_warehouse

    if ray.is_initialized():
        from ollive.store.actor import ActorWarehouse

        return ActorWarehouse()
    return open_warehouse()
