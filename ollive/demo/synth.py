"""Synthetic telemetry at any volume, streamed as Arrow batches straight into a warehouse.

What it looks like: 4 providers and 9 models named as in the price table; 4 services; a
diurnal (peak mid-afternoon UTC) and weekly (quieter weekends) traffic pattern;
log-normal latency with a long tail; 3-5% errors and timeouts; multi-turn conversations in
per-day sessions of ~2,000 users; tool calls linked to their inference; application logs;
user and model scores. And four injected incidents (:data:`Incident`) at fixed fractions of
the time span, which the anomaly detectors must find:

- ``latency_spike``: model ``claude-sonnet-4`` answers 5x slower for 2 hours;
- ``error_burst``: provider ``google`` fails 45% of calls for 1 hour;
- ``volume_drop``: service ``search-assistant`` loses 90% of its traffic for 3 hours;
- ``cost_jump``: service ``summarizer`` sends 4x the prompt tokens from then on.

Prompt versions (contract v1.1, :data:`PROMPTS`): each service makes its calls from one or
two prompt templates (``search-assistant`` and ``code-helper`` also make some without one),
and new versions roll out at fixed fractions of the span (:func:`rollouts_for`), ramping up
over half a day: ``support-answer`` v3 from 60% of the span (its answers are scored a little
better), ``summarize`` v2 at the instant of the ``cost_jump`` (the prompt that quadrupled
the tokens), and ``code-review`` v2 edited without a version bump halfway (two template
hashes under one version). Prompts are drawn from a generator of their own, so every other
column is what the same seed gave before they existed.

Generation is vectorised (numpy) and chunked, so memory stays flat at any volume; each
chunk is inserted with an idempotency token, so re-running the same seed adds nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from ollive.demo import _texts
from ollive.events import template_hash
from ollive.pricing import default_price_table

if TYPE_CHECKING:  # pragma: no cover
    from ollive.store.base import Warehouse

__all__ = [
    "PROMPTS",
    "Incident",
    "Rollout",
    "SeedReport",
    "SynthConfig",
    "generate",
    "rollouts_for",
    "seed_warehouse",
]

MODELS = [  # provider, model, share, median latency ms, stream share
    ("openai", "gpt-4o", 0.16, 1400, 0.7),
    ("openai", "gpt-4o-mini", 0.22, 700, 0.7),
    ("openai", "gpt-4.1-mini", 0.08, 800, 0.6),
    ("openai", "o4-mini", 0.05, 4200, 0.2),
    ("anthropic", "claude-sonnet-4", 0.14, 2100, 0.8),
    ("anthropic", "claude-3-5-haiku", 0.10, 900, 0.8),
    ("google", "gemini-2.5-flash", 0.13, 650, 0.5),
    ("google", "gemini-2.5-pro", 0.05, 3000, 0.5),
    ("mistral", "mistral-small", 0.07, 600, 0.4),
]
SERVICES = [
    ("support-bot", 0.4),
    ("search-assistant", 0.25),
    ("code-helper", 0.2),
    ("summarizer", 0.15),
]
TOOLS = [  # name, median latency ms, error rate
    ("lookup_order", 45, 0.02),
    ("search_docs", 120, 0.01),
    ("calculator", 2, 0.005),
    ("get_weather", 300, 0.04),
    ("send_email", 600, 0.03),
    ("run_sql", 900, 0.06),
]
#: service -> its prompt templates: (name, share of the service's calls, template text,
#: versions as (version, rollout start as a fraction of the span, ramp hours)); the shares
#: left over are calls made without a prompt
PROMPTS: dict[str, list[tuple[str, float, str, tuple[tuple[int, float, float], ...]]]] = {
    "support-bot": [
        ("support-answer", 0.75, "You are Acme's support assistant. Answer {question} using "
         "the order tools; cite the order id.", ((1, 0.0, 0), (2, 0.3, 12), (3, 0.6, 12))),
        ("support-triage", 0.25, "Classify the ticket {ticket} as billing, shipping, returns "
         "or other.", ((1, 0.0, 0),)),
    ],
    "search-assistant": [
        ("search-rewrite", 0.6, "Rewrite {query} into a keyword search over the docs.",
         ((4, 0.0, 0), (5, 0.45, 12))),
    ],
    "code-helper": [
        ("code-review", 0.5, "Review this diff and list bugs first: {diff}", ((2, 0.0, 0),)),
        ("code-explain", 0.3, "Explain {code} to a new team member.",
         ((1, 0.0, 0), (2, 0.75, 12))),
    ],
    "summarizer": [
        ("summarize", 1.0, "Summarise {document} in five bullet points.",
         ((1, 0.0, 0), (2, 0.9, 0))),
    ],
}  # fmt: skip
#: (prompt, version) whose template was edited without a version bump, at this fraction
_PROMPT_EDITS = {("code-review", 2): 0.5}
_BETTER_PROMPT = ("support-answer", 3)  # its answers are scored a little better
ERROR_CODES = np.array(
    ["rate_limit_exceeded", "server_error", "context_length_exceeded", "bad_request"]
)
_SEC = 1000


@dataclass(frozen=True)
class Incident:
    """One injected anomaly: ``kind`` on ``dimension == value`` during ``[start, end)``."""

    kind: str
    dimension: str  # "model" | "provider" | "service"
    value: str
    start: datetime
    end: datetime
    factor: float


@dataclass(frozen=True)
class SynthConfig:
    """How much, over which span, which project, which seed."""

    events: int = 100_000  # total events over all four tables (approximately)
    days: float = 14.0
    end: datetime | None = None  # default: now, rounded down to the minute
    seed: int = 0
    project: str = "demo"
    users: int = 2_000
    incidents: bool = True
    chunk_inferences: int = 200_000

    def end_time(self) -> datetime:
        end = self.end or datetime.now(UTC)
        return end.astimezone(UTC).replace(second=0, microsecond=0)


@dataclass(frozen=True)
class Rollout:
    """Version ``version`` of prompt ``prompt`` reaches all of its calls ``ramp`` after
    ``start`` (a share growing linearly from 0; at once when ``ramp`` is zero)."""

    prompt: str
    version: str
    start: datetime
    ramp: timedelta


@dataclass
class SeedReport:
    """What :func:`seed_warehouse` inserted."""

    counts: dict[str, int] = field(default_factory=dict)
    incidents: list[Incident] = field(default_factory=list)
    rollouts: list[Rollout] = field(default_factory=list)
    start: datetime | None = None
    end: datetime | None = None
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _at(config: SynthConfig, fraction: float) -> datetime:
    """The hour ``fraction`` of the way through the span (where incidents and rollouts go)."""
    end = config.end_time()
    span = timedelta(days=config.days)
    return (end - span + span * fraction).replace(minute=0, second=0, microsecond=0)


def rollouts_for(config: SynthConfig) -> list[Rollout]:
    """Every version of every prompt of :data:`PROMPTS` after the first, in time order."""
    out = [
        Rollout(name, str(version), _at(config, fraction), timedelta(hours=hours))
        for prompts in PROMPTS.values()
        for name, _share, _text, versions in prompts
        for version, fraction, hours in versions[1:]
    ]
    return sorted(out, key=lambda r: r.start)


def incidents_for(config: SynthConfig) -> list[Incident]:
    """The incidents placed at fixed fractions of the span (none when disabled)."""
    if not config.incidents:
        return []
    end = config.end_time()
    span = timedelta(days=config.days)
    start = end - span

    def window(fraction: float, hours: float) -> tuple[datetime, datetime]:
        length = min(timedelta(hours=hours), span / 10)
        begin = (start + span * fraction).replace(minute=0, second=0, microsecond=0)
        return begin, begin + length

    spike, burst, drop = window(0.55, 2), window(0.7, 1), window(0.4, 3)
    jump = (start + span * 0.9).replace(minute=0, second=0, microsecond=0)
    return [
        Incident("latency_spike", "model", "claude-sonnet-4", *spike, 5.0),
        Incident("error_burst", "provider", "google", *burst, 0.45),
        Incident("volume_drop", "service", "search-assistant", *drop, 0.1),
        Incident("cost_jump", "service", "summarizer", jump, end + timedelta(days=3650), 4.0),
    ]


def generate(config: SynthConfig) -> Iterator[dict[str, pa.Table]]:
    """Chunks of events as Arrow tables keyed by raw table name."""
    rng = np.random.default_rng(config.seed)
    n_inference = max(1, round(config.events / 1.73))  # tools, logs, scores add ~73%
    incidents = incidents_for(config)
    grid = _Grid(config, incidents)
    done = 0
    chunk = 0
    while done < n_inference:
        n = min(config.chunk_inferences, n_inference - done)
        yield _chunk(rng, config, grid, incidents, n, chunk)
        done += n
        chunk += 1


def seed_warehouse(
    warehouse: Warehouse,
    events: int = 100_000,
    progress: bool | Callable[[int], None] = False,
    **options: object,
) -> SeedReport:
    """Generate ``events`` events and insert them; ``progress`` shows a bar (or is called with
    the number of events inserted by each chunk)."""
    import time

    config = SynthConfig(events=events, **options)  # type: ignore[arg-type]
    end = config.end_time()
    report = SeedReport(
        incidents=incidents_for(config),
        rollouts=rollouts_for(config),
        start=end - timedelta(days=config.days),
        end=end,
    )
    began = time.perf_counter()
    bar = _bar(events) if progress is True else None
    for index, tables in enumerate(generate(config)):
        for name, table in tables.items():
            token = f"synth-{config.project}-{config.seed}-{config.events}-{index}-{name}"
            warehouse.insert_arrow(name, table, token=token)
            report.counts[name] = report.counts.get(name, 0) + table.num_rows
        rows = sum(t.num_rows for t in tables.values())
        if bar is not None:
            bar.update(rows)
        elif callable(progress):
            progress(rows)
    if bar is not None:
        bar.close()
    report.seconds = time.perf_counter() - began
    return report


def _bar(total: int):  # type: ignore[no-untyped-def]
    from tqdm import tqdm

    return tqdm(total=total, unit="ev", unit_scale=True, desc="seeding", dynamic_ncols=True)


class _Grid:
    """Minute buckets of the span with their traffic weight, per service."""

    def __init__(self, config: SynthConfig, incidents: list[Incident]) -> None:
        end_ms = int(config.end_time().timestamp() * 1000)
        minutes = max(1, int(config.days * 1440))
        self.start_ms = end_ms - minutes * 60 * _SEC
        t = self.start_ms + np.arange(minutes, dtype=np.int64) * 60 * _SEC
        hours = (t // (3600 * _SEC)) % 24 + (t % (3600 * _SEC)) / (3600 * _SEC)
        dow = ((t // (86400 * _SEC)) + 3) % 7  # 1970-01-01 was a Thursday: 0 = Monday
        diurnal = 0.3 + 0.7 * np.clip(np.sin((hours - 9) / 24 * 2 * np.pi) * 0.5 + 0.5, 0, 1) ** 1.5
        weekly = np.where(dow >= 5, 0.6, 1.0)
        base = diurnal * weekly
        self.minute_ms = t
        self.weights = {}
        for service, _share in SERVICES:
            weight = base.copy()
            for inc in incidents:
                if inc.kind == "volume_drop" and inc.value == service:
                    lo, hi = _ms(inc.start), _ms(inc.end)
                    weight[(t >= lo) & (t < hi)] *= inc.factor
            self.weights[service] = weight / weight.sum()

    def sample(self, rng: np.random.Generator, service_idx: np.ndarray) -> np.ndarray:
        out = np.empty(len(service_idx), dtype=np.int64)
        for i, (service, _share) in enumerate(SERVICES):
            mask = service_idx == i
            k = int(mask.sum())
            if k:
                minutes = rng.choice(len(self.minute_ms), size=k, p=self.weights[service])
                out[mask] = self.minute_ms[minutes] + rng.integers(0, 60 * _SEC, size=k)
        return out


def _ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


def _chunk(
    rng: np.random.Generator,
    config: SynthConfig,
    grid: _Grid,
    incidents: list[Incident],
    n: int,
    chunk: int,
) -> dict[str, pa.Table]:
    inference = _inferences(rng, config, grid, incidents, n, chunk)
    tools = _tools(rng, config, inference)
    logs = _logs(rng, config, inference)
    scores = _scores(rng, config, inference, np.random.default_rng([config.seed, chunk, 31]))
    del inference["_model_idx"], inference["_ok"], inference["_better"]
    # when ingest received each event: a second or so after it finished (SDK batching),
    # minutes for a few (a spool replayed); its own generator leaves the other columns as they were
    lag_rng = np.random.default_rng([config.seed, chunk, 17])
    for part, column in ((inference, "finished_at"), (tools, "finished_at"), (logs, "timestamp"),
                         (scores, "timestamp")):  # fmt: skip
        done = np.asarray(part[column].cast(pa.int64()))  # type: ignore[attr-defined]
        lag = lag_rng.lognormal(np.log(900), 0.6, size=len(done))
        late = lag_rng.random(len(done)) < 0.01
        lag[late] += lag_rng.uniform(60_000, 600_000, size=int(late.sum()))
        part["ingested_at"] = _ts(done + lag.astype(np.int64))
    return {
        "inference_logs": pa.table(inference),
        "tool_executions": pa.table(tools),
        "application_logs": pa.table(logs),
        "scores": pa.table(scores),
    }


def _inferences(
    rng: np.random.Generator,
    config: SynthConfig,
    grid: _Grid,
    incidents: list[Incident],
    n: int,
    chunk: int,
) -> dict[str, object]:
    # conversations of ~4 turns: attributes per conversation, then one row per turn
    turns = np.minimum(rng.geometric(0.25, size=max(1, n // 3) + 8), 20)
    turns = turns[: np.searchsorted(np.cumsum(turns), n) + 1]
    if turns.sum() < n:
        turns = np.r_[turns, n - turns.sum()]
    turns[-1] -= int(turns.sum()) - n
    n_conv = len(turns)
    conv = np.repeat(np.arange(n_conv), turns)
    service_idx_c = rng.choice(len(SERVICES), size=n_conv, p=[s for _, s in SERVICES])
    user_c = (config.users * rng.random(n_conv) ** 2.5).astype(np.int64)  # a few heavy users
    start_c = grid.sample(rng, service_idx_c)
    gaps = rng.integers(15 * _SEC, 180 * _SEC, size=n)
    first = np.r_[0, np.cumsum(turns)[:-1]]
    cumulative = np.cumsum(gaps)
    offset = cumulative - np.repeat(cumulative[first], turns)  # 0 for a conversation's first turn
    started = np.minimum(
        start_c[conv] + offset, grid.start_ms + int(config.days * 86400 * _SEC) - 1
    )

    service_idx = service_idx_c[conv]
    model_idx = rng.choice(len(MODELS), size=n, p=[m[2] for m in MODELS])
    providers = np.array([m[0] for m in MODELS])[model_idx]
    models = np.array([m[1] for m in MODELS])[model_idx]
    services = np.array([s for s, _ in SERVICES])[service_idx]

    median = np.array([m[3] for m in MODELS], dtype=float)[model_idx]
    latency = median * rng.lognormal(0, 0.45, size=n)
    tail = rng.random(n) < 0.03
    latency[tail] *= rng.uniform(3, 10, size=int(tail.sum()))
    prompt = (rng.lognormal(np.log(650), 0.7, size=n)).astype(np.int64) + 20
    completion = (rng.lognormal(np.log(220), 0.8, size=n)).astype(np.int64) + 1
    fail_p = np.full(n, 0.035)
    for inc in incidents:
        inside = (started >= _ms(inc.start)) & (started < _ms(inc.end))
        if inc.kind == "latency_spike":
            latency[inside & (models == inc.value)] *= inc.factor
        elif inc.kind == "error_burst":
            fail_p[inside & (providers == inc.value)] = inc.factor
        elif inc.kind == "cost_jump":
            prompt[inside & (services == inc.value)] *= int(inc.factor)
    draw = rng.random(n)
    status = np.where(draw < fail_p * 0.85, "error", np.where(draw < fail_p, "timeout", "ok"))
    status = np.where((status == "ok") & (rng.random(n) < 0.004), "cancelled", status)
    ok = status == "ok"
    completion[~ok] = 0
    latency = np.round(latency, 3)
    stream = rng.random(n) < np.array([m[4] for m in MODELS])[model_idx]
    ttft = np.where(stream & ok, np.round(latency * rng.beta(2, 6, size=n), 3), np.nan)
    tool_calls = np.where(ok & (rng.random(n) < 0.3), rng.integers(1, 3, size=n), 0)

    table = default_price_table()
    known = [(table.lookup(p, m), p, m) for p, m, *_ in MODELS]
    missing = [f"{p}/{m}" for price, p, m in known if price is None]
    if missing:
        raise ValueError(f"synthetic models missing from the price table: {missing}")
    prices = np.array([[price.input, price.output] for price, _, _ in known if price is not None])
    cost = (prompt * prices[model_idx, 0] + completion * prices[model_idx, 1]) / 1e6

    ids = _uuid7s(rng, started)
    conv_ids = _labels("conv", config.seed, chunk, conv)
    users = _labels("user", config.seed, 0, user_c[conv])
    day = (started - grid.start_ms) // (86400 * _SEC)
    sessions = _labels("sess", config.seed, 0, user_c[conv] * 1000 + day)  # per user and day
    error_codes = np.where(
        status == "error",
        rng.choice(ERROR_CODES, size=n),
        np.where(status == "timeout", "timeout", ""),
    )
    finish = np.where(
        ok,
        np.where(tool_calls > 0, "tool_calls", "stop"),
        np.where(status == "cancelled", "cancelled", ""),
    )
    n_text = len(_texts.QUESTIONS)
    return {
        "project": _const(config.project, n),
        "request_id": ids,
        "trace_id": _hex(rng, n, 16),
        "span_id": _hex(rng, n, 8),
        "conversation_id": conv_ids,
        "session_id": sessions,
        "user_id": users,
        "service": pa.array(services),
        "provider": pa.array(providers),
        "model": pa.array(models),
        "started_at": _ts(started),
        "finished_at": _ts(started + np.ceil(latency).astype(np.int64)),
        "latency_ms": pa.array(latency),
        "ttft_ms": pa.array(ttft, from_pandas=True),
        "stream": pa.array(stream),
        "prompt_tokens": pa.array(prompt.astype(np.uint32)),
        "completion_tokens": pa.array(completion.astype(np.uint32)),
        "total_tokens": pa.array((prompt + completion).astype(np.uint32)),
        "cost_usd": pa.array(cost),
        "status": pa.array(status),
        "finish_reason": pa.array(finish),
        "tool_calls_count": pa.array(tool_calls.astype(np.uint16)),
        "error_code": pa.array(error_codes),
        "error_message": pa.array(np.where(ok, "", np.char.add("upstream returned ", error_codes))),
        "input_preview": pa.array(_texts.QUESTIONS).take(rng.integers(0, n_text, size=n)),
        "output_preview": pa.array(_texts.ANSWERS).take(
            rng.integers(0, len(_texts.ANSWERS), size=n)
        ),
        **_prompt_columns(
            np.random.default_rng([config.seed, chunk, 29]), config, services, started
        ),
        "metadata": _const("{}", n),
        "_model_idx": model_idx,
        "_ok": ok,
    }


def _prompt_columns(
    rng: np.random.Generator, config: SynthConfig, services: np.ndarray, started: np.ndarray
) -> dict[str, object]:
    """prompt_name/version/hash of each call (see :data:`PROMPTS`), its ``schema_version``
    (1.1 with a prompt) and ``_better`` (the calls of the better-scored prompt version)."""
    n = len(services)
    names = np.full(n, "", dtype=object)
    versions = np.full(n, "", dtype=object)
    hashes = np.full(n, "", dtype=object)
    pick, step = rng.random(n), rng.random(n)
    for service, prompts in PROMPTS.items():
        floor = 0.0
        for name, share, text, steps in prompts:
            rows = (services == service) & (pick >= floor) & (pick < floor + share)
            floor += share
            version = _versions(config, steps, started, step)
            names[rows], versions[rows] = name, version[rows]
            hashes[rows] = _hashes(config, name, text, version, started)[rows]
    better = (names == _BETTER_PROMPT[0]) & (versions == str(_BETTER_PROMPT[1]))
    return {
        "prompt_name": pa.array(names, pa.string()),
        "prompt_version": pa.array(versions, pa.string()),
        "prompt_hash": pa.array(hashes, pa.string()),
        "schema_version": pa.array(np.where(names != "", "1.1", "1.0")),
        "_better": better,
    }


def _versions(
    config: SynthConfig,
    steps: tuple[tuple[int, float, float], ...],
    started: np.ndarray,
    step: np.ndarray,
) -> np.ndarray:
    """Each call's version of one prompt: the first, then each rollout as its ramp allows."""
    version = np.full(len(started), str(steps[0][0]), dtype=object)
    for number, fraction, hours in steps[1:]:
        since = started - _ms(_at(config, fraction))
        version[step < np.clip(since / max(hours * 3600 * _SEC, 1), 0, 1)] = str(number)
    return version


def _hashes(
    config: SynthConfig, name: str, text: str, version: np.ndarray, started: np.ndarray
) -> np.ndarray:
    """The template hash of each call's version (another one after an unversioned edit)."""
    out = np.full(len(version), "", dtype=object)
    for label in set(version.tolist()):
        mine = version == label
        out[mine] = template_hash(f"{text}\n(v{label})")
        edit = _PROMPT_EDITS.get((name, int(label)))
        if edit is not None:
            edited = mine & (started >= _ms(_at(config, edit)))
            out[edited] = template_hash(f"{text}\n(v{label}, edited)")
    return out


def _tools(
    rng: np.random.Generator, config: SynthConfig, inf: dict[str, object]
) -> dict[str, object]:
    counts = np.asarray(inf["tool_calls_count"]).astype(np.int64)
    parent = np.repeat(np.arange(len(counts)), counts)
    k = len(parent)
    tool_idx = rng.integers(0, len(TOOLS), size=k)
    latency = np.round(
        np.array([t[1] for t in TOOLS], float)[tool_idx] * rng.lognormal(0, 0.6, size=k), 3
    )
    failed = rng.random(k) < np.array([t[2] for t in TOOLS])[tool_idx]
    finished = np.asarray(inf["finished_at"].cast(pa.int64()))[parent] + rng.integers(1, 20, size=k)  # type: ignore[attr-defined]
    return {
        "project": _const(config.project, k),
        "request_id": _uuid7s(rng, finished),
        "parent_request_id": inf["request_id"].take(parent),  # type: ignore[attr-defined]
        "trace_id": inf["trace_id"].take(parent),  # type: ignore[attr-defined]
        "span_id": _hex(rng, k, 8),
        "parent_span_id": inf["span_id"].take(parent),  # type: ignore[attr-defined]
        "conversation_id": inf["conversation_id"].take(parent),  # type: ignore[attr-defined]
        "session_id": inf["session_id"].take(parent),  # type: ignore[attr-defined]
        "user_id": inf["user_id"].take(parent),  # type: ignore[attr-defined]
        "service": inf["service"].take(parent),  # type: ignore[attr-defined]
        "tool_name": pa.array(np.array([t[0] for t in TOOLS])[tool_idx]),
        "started_at": _ts(finished),
        "finished_at": _ts(finished + np.ceil(latency).astype(np.int64)),
        "latency_ms": pa.array(latency),
        "status": pa.array(np.where(failed, "error", "ok")),
        "error_code": pa.array(np.where(failed, "ToolError", "")),
        "error_message": pa.array(np.where(failed, "tool backend unavailable", "")),
        "args_preview": pa.array(_texts.TOOL_ARGS).take(
            rng.integers(0, len(_texts.TOOL_ARGS), size=k)
        ),
        "result_preview": pa.array(_texts.TOOL_RESULTS).take(
            rng.integers(0, len(_texts.TOOL_RESULTS), size=k)
        ),
        "metadata": _const("{}", k),
        "schema_version": _const("1.0", k),
    }


def _logs(
    rng: np.random.Generator, config: SynthConfig, inf: dict[str, object]
) -> dict[str, object]:
    n = len(inf["_ok"])  # type: ignore[arg-type]
    ok = np.asarray(inf["_ok"])
    pick = np.flatnonzero(~ok | (rng.random(n) < 0.15))
    k = len(pick)
    level = np.where(ok[pick], np.where(rng.random(k) < 0.1, "WARNING", "INFO"), "ERROR")
    stamp = np.asarray(inf["finished_at"].cast(pa.int64()))[pick] + 1  # type: ignore[attr-defined]
    messages = np.where(
        level == "ERROR",
        "model call failed; returning fallback answer",
        np.where(level == "WARNING", "slow upstream; retrying once", "handled chat turn"),
    )
    return {
        "project": _const(config.project, k),
        "request_id": _uuid7s(rng, stamp),
        "timestamp": _ts(stamp),
        "service": inf["service"].take(pick),  # type: ignore[attr-defined]
        "level": pa.array(level),
        "logger": _const("app.handlers", k),
        "message": pa.array(messages),
        "attributes": _const("{}", k),
        "trace_id": inf["trace_id"].take(pick),  # type: ignore[attr-defined]
        "span_id": _hex(rng, k, 8),
        "parent_span_id": inf["span_id"].take(pick),  # type: ignore[attr-defined]
        "conversation_id": inf["conversation_id"].take(pick),  # type: ignore[attr-defined]
        "session_id": inf["session_id"].take(pick),  # type: ignore[attr-defined]
        "user_id": inf["user_id"].take(pick),  # type: ignore[attr-defined]
        "metadata": _const("{}", k),
        "schema_version": _const("1.0", k),
    }


def _scores(
    rng: np.random.Generator,
    config: SynthConfig,
    inf: dict[str, object],
    lift_rng: np.random.Generator,
) -> dict[str, object]:
    ok = np.asarray(inf["_ok"])
    pick = np.flatnonzero(ok & (rng.random(len(ok)) < 0.12))
    k = len(pick)
    by_user = rng.random(k) < 0.6
    value = np.where(
        by_user, (rng.random(k) < 0.82).astype(float), np.round(rng.beta(8, 2, size=k), 3)
    )
    # the better prompt version: a third of its thumbs-down turn up, helpfulness +0.06
    better = np.asarray(inf["_better"])[pick]
    lifted = lift_rng.random(k) < 1 / 3
    value = np.where(better & by_user & lifted, 1.0, value)
    value = np.where(better & ~by_user, np.minimum(np.round(value + 0.06, 3), 1.0), value)
    finished = inf["finished_at"]
    assert isinstance(finished, pa.Array | pa.ChunkedArray)
    stamp = np.asarray(finished.cast(pa.int64()))[pick] + rng.integers(1_000, 60_000, size=k)
    return {
        "project": _const(config.project, k),
        "request_id": _uuid7s(rng, stamp),
        "timestamp": _ts(stamp),
        "target_request_id": inf["request_id"].take(pick),  # type: ignore[attr-defined]
        "name": pa.array(np.where(by_user, "thumbs_up", "helpfulness")),
        "value": pa.array(value),
        "comment": _const("", k),
        "source": pa.array(np.where(by_user, "user", "model")),
        "trace_id": inf["trace_id"].take(pick),  # type: ignore[attr-defined]
        "conversation_id": inf["conversation_id"].take(pick),  # type: ignore[attr-defined]
        "session_id": inf["session_id"].take(pick),  # type: ignore[attr-defined]
        "user_id": inf["user_id"].take(pick),  # type: ignore[attr-defined]
        "service": inf["service"].take(pick),  # type: ignore[attr-defined]
        "metadata": _const("{}", k),
        "schema_version": _const("1.0", k),
    }


# --- vectorised builders ---------------------------------------------------------------


def _const(value: str, n: int) -> pa.Array:
    return pa.array([value]).take(np.zeros(n, dtype=np.int64))


def _ts(ms: np.ndarray) -> pa.Array:
    return pa.array(ms.astype(np.int64), pa.timestamp("ms", tz="UTC"))


def _hex(rng: np.random.Generator, n: int, nbytes: int) -> pa.Array:
    raw = rng.integers(1, 256, size=(n, nbytes), dtype=np.uint8)  # never all zero
    text = np.frombuffer(raw.tobytes().hex().encode(), dtype=f"S{2 * nbytes}")
    return pa.array(text).cast(pa.string())


def _uuid7s(rng: np.random.Generator, ms: np.ndarray) -> pa.Array:
    """UUIDv7 strings for the given millisecond timestamps, built without a Python loop."""
    n = len(ms)
    raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    stamp = ms.astype(">u8").view(np.uint8).reshape(n, 8)[:, 2:]
    raw[:, :6] = stamp
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x70
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    hexed = np.frombuffer(raw.tobytes().hex().encode(), dtype=np.uint8).reshape(n, 32)
    out = np.full((n, 36), ord("-"), dtype=np.uint8)
    for dst, lo, hi in ((0, 0, 8), (9, 8, 12), (14, 12, 16), (19, 16, 20), (24, 20, 32)):
        out[:, dst : dst + hi - lo] = hexed[:, lo:hi]
    return pa.array(np.frombuffer(out.tobytes(), dtype="S36")).cast(pa.string())


def _labels(prefix: str, seed: int, chunk: int, values: np.ndarray) -> pa.Array:
    """``prefix-<seed>-<chunk>-<n>`` labels, built through a dictionary of the unique values."""
    unique, inverse = np.unique(values, return_inverse=True)
    names = pa.array(
        [
            f"{prefix}-{seed}-{chunk}-{v}" if chunk else f"{prefix}-{seed}-{v}"
            for v in unique.tolist()
        ]
    )
    return names.take(pa.array(inverse.astype(np.int64)))
