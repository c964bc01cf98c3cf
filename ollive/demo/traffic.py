"""The traffic generator: simulated users chatting with the demo chatbot over HTTP.

::

    report = run_traffic(TrafficConfig(url="http://127.0.0.1:8000/chat", rate=2, duration_s=30))
    print_report(report)

``users`` simulated users run concurrently. Each picks a persona, holds a multi-turn
conversation (``POST /chat`` with Server-Sent Events, continuing by ``conversation_id``),
thinks between turns, then starts a new conversation. Turns start at no more than ``rate``
per second overall (a shared token bucket). About ``pii_rate`` of the messages carry an
email, a phone or a card number; about ``cancel_rate`` of the turns are cancelled mid-stream
through ``POST /chat/{id}/cancel``. Same seed, same users and messages.
"""

from __future__ import annotations

import asyncio
import json
import random
import statistics
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from ollive.demo._personas import PERSONAS, Persona, conversation, with_pii

__all__ = [
    "PERSONAS",
    "Persona",
    "TrafficConfig",
    "TrafficReport",
    "TurnResult",
    "conversation",
    "print_report",
    "run_traffic",
    "sse_events",
    "with_pii",
]


@dataclass(frozen=True)
class TrafficConfig:
    """What to simulate. ``url`` is the chatbot's ``/chat`` URL (or the server's base URL)."""

    url: str = "http://127.0.0.1:8000/chat"  # or the server's base URL
    rate: float = 2.0
    duration_s: float = 30.0
    users: int = 8
    seed: int = 0
    pii_rate: float = 0.1
    cancel_rate: float = 0.03
    think_scale: float = 1.0
    turn_timeout_s: float = 60.0
    turns: int | None = None  # stop after this many turns; ``duration_s`` still bounds the run

    @property
    def chat_url(self) -> str:
        """``url`` without a trailing slash; a bare server URL gets ``/chat`` appended."""
        url = self.url.rstrip("/")
        return url + "/chat" if httpx.URL(url).path in ("", "/") else url


@dataclass
class TurnResult:
    """One turn as the client saw it. ``outcome``: final, error, cancelled or failed (HTTP)."""

    outcome: str
    latency_s: float
    ttft_s: float | None = None
    conversation_id: str | None = None
    request_id: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    tool_calls: int = 0
    pii: bool = False
    detail: str = ""


@dataclass
class TrafficReport:
    """What a run did; :meth:`as_dict` for JSON, :func:`print_report` for a table."""

    elapsed_s: float = 0.0
    conversations: int = 0
    results: list[TurnResult] = field(default_factory=list)

    def _count(self, outcome: str) -> int:
        return sum(r.outcome == outcome for r in self.results)

    def as_dict(self) -> dict[str, Any]:
        """Counts, rates, latency percentiles (ms) and token totals."""
        done = [r.latency_s * 1000 for r in self.results if r.outcome == "final"]
        ttft = [r.ttft_s * 1000 for r in self.results if r.ttft_s is not None]
        return {
            "turns": len(self.results),
            "ok": self._count("final"),
            "errors": self._count("error"),
            "failed": self._count("failed"),
            "cancelled": self._count("cancelled"),
            "conversations": self.conversations,
            "pii_messages": sum(r.pii for r in self.results),
            "tool_calls": sum(r.tool_calls for r in self.results),
            "turns_per_s": round(len(self.results) / self.elapsed_s, 3) if self.elapsed_s else 0.0,
            "latency_p50_ms": _quantile(done, 0.50),
            "latency_p95_ms": _quantile(done, 0.95),
            "ttft_p50_ms": _quantile(ttft, 0.50),
            "input_tokens": sum(r.input_tokens for r in self.results),
            "output_tokens": sum(r.output_tokens for r in self.results),
            "elapsed_s": round(self.elapsed_s, 2),
        }


def _quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return round(values[0], 1)
    return round(statistics.quantiles(values, n=100, method="inclusive")[int(q * 100) - 1], 1)


async def sse_events(response: httpx.Response) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    """``(event, data)`` pairs of a Server-Sent Events response (data parsed as JSON)."""
    name, data = "message", list[str]()
    async for line in response.aiter_lines():
        if not line:
            if data:
                yield name, json.loads("\n".join(data))
            name, data = "message", []
        elif line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].lstrip())
    if data:
        yield name, json.loads("\n".join(data))


class _Bucket:
    """A token bucket: at most ``rate`` acquisitions per second, bursts of one."""

    def __init__(self, rate: float) -> None:
        self.interval_s = 1.0 / rate if rate > 0 else 0.0
        self.next_at = time.monotonic()
        self.lock = asyncio.Lock()

    async def acquire(self, deadline: float) -> bool:
        """Wait for the next slot; False (at once) when it would come after ``deadline``."""
        async with self.lock:
            now = time.monotonic()
            slot = max(self.next_at, now)
            if slot >= deadline:
                return False
            self.next_at = slot + self.interval_s
        if slot > now:
            await asyncio.sleep(slot - now)
        return True


class _Simulation:
    def __init__(self, config: TrafficConfig, on_turn: Callable[[TurnResult], None]) -> None:
        self.config = config
        self.on_turn = on_turn
        self.bucket = _Bucket(config.rate)
        self.report = TrafficReport()
        self.deadline = 0.0
        self.started_turns = 0

    async def run(self) -> TrafficReport:
        started = time.monotonic()
        self.deadline = started + self.config.duration_s
        limits = httpx.Limits(max_connections=self.config.users * 2 + 4)
        timeout = httpx.Timeout(self.config.turn_timeout_s, connect=10.0)
        async with httpx.AsyncClient(limits=limits, timeout=timeout) as client:
            await asyncio.gather(*(self._user(client, i) for i in range(self.config.users)))
        self.report.elapsed_s = time.monotonic() - started
        return self.report

    async def _user(self, client: httpx.AsyncClient, index: int) -> None:
        rng = random.Random(self.config.seed * 100_003 + index)
        await asyncio.sleep(rng.uniform(0, min(2.0, self.config.duration_s / 4)))
        while time.monotonic() < self.deadline:
            persona = rng.choice(PERSONAS)
            user_id = f"user-{rng.randrange(16**8):08x}"
            conversation_id: str | None = None
            for turn, message in enumerate(conversation(persona, rng)):
                if not await self.bucket.acquire(self.deadline) or not self._take_turn():
                    return
                self.report.conversations += turn == 0
                pii = rng.random() < self.config.pii_rate
                text = with_pii(message, rng) if pii else message
                cancel_after = rng.randint(1, 8) if rng.random() < self.config.cancel_rate else None
                result = await self._turn(client, text, conversation_id, user_id, cancel_after)
                result.pii = pii
                self.report.results.append(result)
                self.on_turn(result)
                conversation_id = result.conversation_id or conversation_id
                think = rng.uniform(*persona.think_s) * self.config.think_scale
                await asyncio.sleep(min(think, max(0.0, self.deadline - time.monotonic())))

    def _take_turn(self) -> bool:
        """Count a turn about to start; False once ``config.turns`` have started."""
        if self.config.turns is not None and self.started_turns >= self.config.turns:
            return False
        self.started_turns += 1
        return True

    async def _turn(
        self,
        client: httpx.AsyncClient,
        message: str,
        conversation_id: str | None,
        user_id: str,
        cancel_after: int | None,
    ) -> TurnResult:
        url = self.config.chat_url
        body = {"message": message, "conversation_id": conversation_id, "user_id": user_id}
        started = time.perf_counter()
        result = TurnResult("failed", 0.0, conversation_id=conversation_id)
        tokens = 0
        try:
            async with client.stream("POST", url, json=body) as response:
                if response.status_code != 200:
                    await response.aread()
                    result.detail = f"HTTP {response.status_code}"
                    return _done(result, started)
                async for kind, data in sse_events(response):
                    if kind == "conversation":
                        result.conversation_id = data.get("conversation_id")
                    elif kind == "token":
                        tokens += 1
                        if result.ttft_s is None:
                            result.ttft_s = time.perf_counter() - started
                        if tokens == cancel_after and result.conversation_id:
                            await client.post(f"{url}/{result.conversation_id}/cancel")
                    elif kind in ("final", "cancelled", "error"):
                        _absorb(result, kind, data)
        except (httpx.HTTPError, ValueError) as exc:
            result.outcome, result.detail = "failed", f"{type(exc).__name__}: {exc}"[:200]
        return _done(result, started)


def _absorb(result: TurnResult, kind: str, data: dict[str, Any]) -> None:
    result.outcome = kind
    result.request_id = data.get("request_id")
    usage = data.get("usage") or {}
    result.input_tokens = int(usage.get("input_tokens") or 0)
    result.output_tokens = int(usage.get("output_tokens") or 0)
    result.tool_calls = int(data.get("tool_calls") or 0)
    result.detail = str(data.get("error") or "")


def _done(result: TurnResult, started: float) -> TurnResult:
    result.latency_s = time.perf_counter() - started
    return result


def run_traffic(config: TrafficConfig, *, progress: bool = False) -> TrafficReport:
    """Simulate users for ``config.duration_s`` seconds (or until ``config.turns`` turns
    have started); returns what happened.

    With ``progress`` a rich progress bar (time elapsed, turns, errors) is shown on stderr.
    """
    if not progress:
        return asyncio.run(_Simulation(config, lambda r: None).run())
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn("[bold]traffic"), BarColumn(), TextColumn("{task.description}"),
               TimeRemainingColumn())  # fmt: skip
    counts = {"turns": 0, "errors": 0, "cancelled": 0}
    with Progress(*columns, transient=False) as bar:
        task = bar.add_task("starting", total=config.duration_s)

        def on_turn(result: TurnResult) -> None:
            counts["turns"] += 1
            counts["errors"] += result.outcome in ("error", "failed")
            counts["cancelled"] += result.outcome == "cancelled"
            bar.update(task, description=_describe(counts))

        async def main() -> TrafficReport:
            simulation = _Simulation(config, on_turn)
            runner = asyncio.ensure_future(simulation.run())
            started = time.monotonic()
            while not runner.done():
                bar.update(task, completed=min(time.monotonic() - started, config.duration_s))
                await asyncio.wait([runner], timeout=0.25)
            bar.update(task, completed=config.duration_s)
            return runner.result()

        return asyncio.run(main())


def _describe(counts: dict[str, int]) -> str:
    return f"{counts['turns']} turns, {counts['errors']} errors, {counts['cancelled']} cancelled"


def print_report(report: TrafficReport, console: Any = None) -> None:
    """The summary table: turns, errors, cancellations, latency p50/p95, TTFT, tokens."""
    from rich.console import Console
    from rich.table import Table

    figures = report.as_dict()
    table = Table(title="ollive traffic", show_header=True)
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in figures.items():
        table.add_row(key.replace("_", " "), "-" if value is None else str(value))
    (console or Console()).print(table)
