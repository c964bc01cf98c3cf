"""``ollive bench ingest``: realistic gzip batches over HTTP, acknowledged then counted.

Events mix inference (60%), tool executions (20%), application logs (15%) and scores (5%);
previews are 100-500 characters and 30% of events carry PII (e-mails, phone numbers, card
numbers, IPs). Every event of a run has the same unique ``service``, so the run's rows can
be counted in the warehouse exactly.
"""

from __future__ import annotations

import asyncio
import gzip
import random
import resource
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson

__all__ = [
    "BenchResult",
    "PeakMemory",
    "count_service_rows",
    "drive",
    "make_batches",
    "make_events",
]

_WORDS = [
    "the",
    "customer",
    "asked",
    "about",
    "order",
    "status",
    "refund",
    "policy",
    "shipping",
    "delay",
    "invoice",
    "account",
    "password",
    "reset",
    "subscription",
    "plan",
    "upgrade",
    "billing",
    "cycle",
    "summary",
    "of",
    "the",
    "conversation",
    "please",
    "explain",
    "why",
    "latency",
    "increased",
    "after",
    "deploy",
    "retrieval",
    "returned",
    "three",
    "documents",
]
_PII = (
    "contact me at {name}@example.com",
    "my phone is +1 415 555 {n:04d}",
    "card 4111 1111 1111 1111 expires 12/29",
    "from ip 192.168.{a}.{b}",
    "reach {name}.smith@corp.example.org or call (212) 555-{n:04d}",
)
_MODELS = (("openai", "gpt-4o-mini"), ("openai", "gpt-4o"), ("anthropic", "claude-3-5-sonnet"))


_CORPUS = " ".join(random.Random(3).choices(_WORDS, k=60_000))


def _text(rng: random.Random, pii: bool) -> str:
    length = rng.randint(100, 480)
    start = rng.randrange(0, len(_CORPUS) - length)
    text = f"{_CORPUS[start : start + length]} #{rng.getrandbits(32):08x}"
    if pii:
        snippet = rng.choice(_PII).format(
            name=rng.choice(["ada", "alan", "grace"]),
            n=rng.randint(0, 9999),
            a=rng.randint(0, 255),
            b=rng.randint(0, 255),
        )
        cut = rng.randint(0, len(text))
        text = f"{text[:cut]} {snippet} {text[cut:]}"
    return text[:500]


def _event(rng: random.Random, service: str, now: datetime) -> dict[str, Any]:
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
            "input_preview": _text(rng, pii),
            "output_preview": _text(rng, False),
        }
    if kind < 0.8:
        return {
            **base,
            "log_type": "tool_execution",
            "tool_name": rng.choice(["lookup_order", "search", "refund"]),
            "started_at": start.isoformat(),
            "finished_at": end.isoformat(),
            "args_preview": _text(rng, pii),
            "result_preview": _text(rng, False),
        }
    if kind < 0.95:
        return {
            **base,
            "log_type": "application",
            "timestamp": end.isoformat(),
            "level": "INFO",
            "logger": "app",
            "message": _text(rng, pii),
        }
    return {
        **base,
        "log_type": "score",
        "timestamp": end.isoformat(),
        "target_request_id": str(uuid.uuid4()),
        "name": "thumbs",
        "value": rng.choice([0, 1]),
        "comment": _text(rng, pii),
    }


def make_events(n: int, service: str, seed: int = 7) -> list[dict[str, Any]]:
    """``n`` distinct realistic events of ``service``."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    return [_event(rng, service, now) for _ in range(n)]


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


@dataclass
class BenchResult:
    """What the driver saw: acknowledged totals, latencies, retries, wall time."""

    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    retries: int = 0
    failures: int = 0
    latencies_s: list[float] = field(default_factory=list)
    wall_s: float = 0.0

    def quantile_ms(self, q: float) -> float:
        if not self.latencies_s:
            return 0.0
        values = sorted(self.latencies_s)
        return round(1000 * values[min(len(values) - 1, int(q * len(values)))], 1)


async def _send(
    client: httpx.AsyncClient, url: str, headers: dict[str, str], body: bytes, result: BenchResult
) -> None:
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
        return
    result.failures += 1


async def _drive(
    url: str, api_key: str, bodies: list[bytes], concurrency: int, on_ack: Callable[[], None] | None
) -> BenchResult:
    result = BenchResult()
    headers = {
        "Authorization": f"Bearer {api_key}",
        "Content-Type": "application/json",
        "Content-Encoding": "gzip",
    }
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:

        async def worker() -> None:
            while not queue.empty():
                body = queue.get_nowait()
                await _send(client, url.rstrip("/") + "/v1/logs", headers, body, result)
                if on_ack is not None:
                    on_ack()

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        result.wall_s = time.perf_counter() - started
    return result


def drive(
    url: str,
    api_key: str,
    bodies: list[bytes],
    concurrency: int = 4,
    on_ack: Callable[[], None] | None = None,
) -> BenchResult:
    """Send every body with ``concurrency`` connections, retrying 429/5xx/network errors as the SDK does."""
    return asyncio.run(_drive(url, api_key, bodies, concurrency, on_ack))


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


class PeakMemory:
    """Samples the RSS of this process's children (Ray's processes by role, Valkey) and of
    this process, keeping the peak (MiB). With ``--url`` the server is not a child: only
    the client is reported."""

    def __init__(self, interval_s: float = 0.5) -> None:
        self.peaks: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(interval_s,), daemon=True)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peaks["bench_client"] = round(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
        )

    def _run(self, interval_s: float) -> None:
        import psutil

        me = psutil.Process()
        while not self._stop.is_set():
            # this process's descendants: the local Ray cluster it started, Valkey
            for proc in me.children(recursive=True):
                try:
                    cmd = " ".join(proc.cmdline())
                    rss = proc.memory_info().rss / 2**20
                    role = _role(cmd, proc.name())
                except psutil.Error:
                    continue
                if role:
                    key = f"{role}[{proc.pid}]"
                    self.peaks[key] = round(max(self.peaks.get(key, 0.0), rss), 1)
            self._stop.wait(interval_s)


def _role(cmd: str, name: str) -> str | None:
    for role in (
        "IngestAPI",
        "EventWriter",
        "WarehouseActor",
        "ProxyActor",
        "ServeController",
        "raylet",
        "gcs_server",
        "valkey-server",
    ):
        if role in cmd or role in name:
            return role
    return None


def run_ingest_bench(
    settings: Any,
    url: str | None = None,
    events: int = 200_000,
    concurrency: int = 8,
    batch_size: int = 1000,
    api_key: str | None = None,
    count_timeout_s: float = 120.0,
    replicas: int = 2,
) -> dict[str, Any]:
    """The whole benchmark; returns its figures. Raises RuntimeError when the warehouse does
    not hold exactly the acknowledged events."""
    import tempfile
    from pathlib import Path

    from ollive.config import DEMO_API_KEY

    service = f"bench-{uuid.uuid4().hex[:10]}"
    data = make_events(events, service)
    bodies = make_batches(data, batch_size)
    local = None
    if url is None:
        from serve.local import start_local_ingest

        home = Path(tempfile.mkdtemp(prefix="ollive-bench-"))
        bench_settings = settings.model_copy(
            update={"home": home, "warehouse_url": None, "redis_url": None}
        )
        local = start_local_ingest(
            bench_settings, _free_port(), "ingest-bench", num_cpus=2, replicas=replicas
        )
        url = local.url
    try:
        warehouse = _bench_warehouse()
        with PeakMemory() as memory:
            result = drive(url, api_key or DEMO_API_KEY, bodies, concurrency)
            counts, counted_s = _await_counts(warehouse, service, events, count_timeout_s)
        end_to_end_s = result.wall_s + counted_s
    finally:
        if local is not None:
            local.stop(shutdown_ray=True)
    stored = sum(
        counts[t] for t in ("inference_logs", "tool_executions", "application_logs", "scores")
    )
    figures = {
        "bench": "ingest",
        "events": events,
        "batch_size": batch_size,
        "concurrency": concurrency,
        "replicas": replicas if local is not None else None,
        "acknowledged": result.accepted + result.duplicates,
        "stored": stored,
        "duplicates": result.duplicates,
        "retries_429_503": result.retries,
        "ack_events_per_s": round(events / result.wall_s),
        "end_to_end_events_per_s": round(events / end_to_end_s),
        "ack_p50_ms": result.quantile_ms(0.5),
        "ack_p99_ms": result.quantile_ms(0.99),
        "peak_rss_mib": memory.peaks,
        "redaction": True,
        "dedupe": True,
    }
    # no event is sent twice, so every acknowledged event (accepted, or a duplicate of a part of
    # a body refused with 429 that was stored before the refusal) must be stored exactly once
    if stored != result.accepted + result.duplicates or stored != events or result.failures:
        raise RuntimeError(
            f"warehouse holds {stored} rows for {result.accepted} acknowledged events: {figures}"
        )
    return figures


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _bench_warehouse() -> Any:
    import ray

    from ollive.store import open_warehouse

    if ray.is_initialized():
        from ollive.store.actor import ActorWarehouse

        return ActorWarehouse()
    return open_warehouse()


def _await_counts(
    warehouse: Any, service: str, expected: int, timeout_s: float
) -> tuple[dict[str, int], float]:
    started = time.perf_counter()
    while True:
        counts = count_service_rows(warehouse, service)
        stored = sum(
            counts[t] for t in ("inference_logs", "tool_executions", "application_logs", "scores")
        )
        if stored >= expected or time.perf_counter() - started > timeout_s:
            return counts, time.perf_counter() - started
        time.sleep(0.2)
