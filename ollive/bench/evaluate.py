"""``ollive bench evaluate``: experiment throughput on Ray, and the lag of online evaluation
under demo-like traffic.

1. **Experiment.** A dataset of ``items`` question/answer rows made from a DataFrame (its
   creation timed on its own), a trivial task (the input upper-cased) and two rule
   evaluators (``exact_match`` and ``length_between``) on the local Ray cluster: items/s end
   to end, and the score rows written, which must be exactly ``items x 2``.
2. **Online evaluation.** A producer thread inserts inference rows shaped like the demo
   chatbot's (its LangGraph agent on the offline demo model, answering the traffic
   generator's personas) at ``rate`` turns/s for ``online_seconds``, while an
   :class:`~ollive.evaluate.online.OnlineEvaluator` with the demo rules steps every
   ``interval_s``. The lag of an event is its score's ``ingested_at`` minus its own; it is
   read once the producer has stopped and the evaluator has caught up, when every sampled
   event must be scored exactly once per rule.

Every row of a run is in a project of its own (``bench-evaluate-<hex>``), so the bench runs
on any warehouse without reading or scoring anything else.
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
import random
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = ["run_evaluate_bench"]

_SETTLE_S = 1.0
_CATCH_UP_S = 120.0  # at most this long for the evaluator to score the last events


def shout(item: dict[str, Any]) -> str:
    """The experiment's task: the input, upper-cased (the expected output is the same)."""
    return str(item["input"]).upper()


def run_evaluate_bench(
    items: int = 10_000,
    *,
    concurrency: int = 4,
    online_seconds: float = 60.0,
    rate: float = 2.0,
    interval_s: float = 2.0,
    warehouse_url: str | None = None,
    warehouse: Any = None,
    seed: int = 0,
    echo: Callable[[str], Any] = print,
) -> dict[str, Any]:
    """Run both parts on ``warehouse`` (else ``warehouse_url``, else chDB in a fresh temp
    directory) and the running Ray (else a local one with 2 CPUs, shut down at the end)."""
    from ollive.store import Connection, open_warehouse

    started = time.perf_counter()
    url = warehouse_url or f"chdb://{tempfile.mkdtemp(prefix='ollive-bench-evaluate-')}"
    wh = warehouse if warehouse is not None else open_warehouse(url)
    project = f"bench-evaluate-{uuid.uuid4().hex[:8]}"
    con = Connection.from_warehouse(wh, project=project)
    ray, own_ray = _ray()
    try:
        figures: dict[str, Any] = {
            "bench": "evaluate",
            "engine": getattr(wh, "engine", "?"),
            "project": project,
        }
        figures["ray_cpus"] = int(ray.cluster_resources().get("CPU", 0))
        figures.update(_experiment(con, items, concurrency, echo))
        figures.update(_online(con, online_seconds, rate, interval_s, seed, echo))
    finally:
        if own_ray:
            ray.shutdown()
    figures["ok"] = bool(figures["experiment_ok"] and figures["online_ok"])
    figures["wall_s"] = round(time.perf_counter() - started, 1)
    return figures


def _ray() -> tuple[Any, bool]:
    """Ray as it runs in this process, else a local cluster with 2 CPUs (retried on a loaded
    machine, as ``ollive up`` starts it)."""
    import ray

    from serve.local import init_ray

    if ray.is_initialized():
        return ray, False
    init_ray(None, num_cpus=2)
    return ray, True


# --- 1. experiment throughput --------------------------------------------------------------
def _experiment(
    con: Any, items: int, concurrency: int, echo: Callable[[str], Any]
) -> dict[str, Any]:
    import pandas as pd

    from ollive.evaluate import datasets, experiments
    from ollive.evaluate.evaluators import exact_match, length_between

    questions = [f"question {i}: where is my order ORD-{10_001 + i}?" for i in range(items)]
    frame = pd.DataFrame({"input": questions, "expected": [q.upper() for q in questions]})
    t0 = time.perf_counter()
    ds = datasets.create(con, f"bench-{items}", frame, progress=False)
    dataset_s = time.perf_counter() - t0
    echo(f"dataset of {len(ds):,} items in {dataset_s:.1f} s; running the experiment ...")
    evaluators = [exact_match(), length_between(1, 200)]
    t0 = time.perf_counter()
    run = experiments.run(
        ds, shout, evaluators, name="bench", concurrency=concurrency, tracing={}, progress=False
    )
    experiment_s = time.perf_counter() - t0
    written = int(
        con.warehouse.scalar(
            f"SELECT count() FROM scores FINAL WHERE project = '{con.project}' "
            f"AND session_id = '{run.run_id}'"
        )
    )
    expected = items * len(evaluators)
    echo(f"experiment: {items / experiment_s:,.0f} items/s, {written:,} scores of {expected:,}")
    return {
        "items": items,
        "concurrency": concurrency,
        "dataset_create_s": round(dataset_s, 2),
        "dataset_items_per_s": round(items / dataset_s, 1),
        "experiment_s": round(experiment_s, 2),
        "experiment_items_per_s": round(items / experiment_s, 1),
        "experiment_succeeded": run.succeeded,
        "scores_written": written,
        "scores_expected": expected,
        "experiment_ok": written == expected and run.succeeded == items,
    }


# --- 2. online evaluation under demo-like traffic -----------------------------------------
def _online(
    con: Any, seconds: float, rate: float, interval_s: float, seed: int, echo: Callable[[str], Any]
) -> dict[str, Any]:
    from ollive.evaluate.online import OnlineEvaluator

    rules = _demo_rules(con.project, seed)
    turns = _turns(max(1, math.ceil(rate * seconds)), seed)
    evaluator = OnlineEvaluator(con.warehouse, rules, settle_s=_SETTLE_S, batch_size=500)
    echo(f"online: {len(turns)} turns at {rate:g}/s, the evaluator stepping every {interval_s:g} s")
    producer = _Producer(con.warehouse, con.project, turns, rate, seed)
    steps: list[float] = []
    judge_calls = 0

    def step() -> None:  # as the platform's actor: a step, then a wait of interval_s
        nonlocal judge_calls
        t0 = time.perf_counter()
        judge_calls += sum(r.judge_calls for r in evaluator.step())
        steps.append(time.perf_counter() - t0)

    producer.start()
    while producer.is_alive():
        step()
        producer.join(interval_s)
    if producer.error is not None:
        raise RuntimeError(f"the producer failed: {producer.error}") from producer.error
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < _CATCH_UP_S:
        time.sleep(interval_s)
        step()
        if all(_scored(con, r) == _sampled(con, r) for r in rules):
            break
    catch_up_s = time.perf_counter() - t0
    figures = _lag_figures(con, rules, producer.events)
    figures.update(
        online_seconds=seconds, rate_turns_per_s=rate, interval_s=interval_s,
        settle_s=_SETTLE_S, turns=len(turns), judge_calls=judge_calls, steps=len(steps),
        step_p50_s=round(statistics.median(steps), 2), step_max_s=round(max(steps), 2),
        catch_up_s=round(catch_up_s, 1),
    )  # fmt: skip
    echo(f"online: lag p50 {figures['lag_p50_s']} s, p95 {figures['lag_p95_s']} s")
    return figures


def _demo_rules(project: str, seed: int) -> list[Any]:
    """The demo's rules (its judge on the offline demo model), kept to this run's project.

    ``start="1h"``: the project is new, so this reads only this run's events, and the
    bench does not depend on when a rule starting ``"now"`` takes its first watermark.
    """
    from ollive.chat import DemoChatModel
    from ollive.evaluate import DEMO_EVALUATIONS
    from ollive.evaluate.online import load_rules

    judge = DemoChatModel(seed=seed, latency_scale=0.0, error_rate=0.0, timeout_rate=0.0)
    rules = load_rules(DEMO_EVALUATIONS, models={"demo": judge})
    return [
        dataclasses.replace(
            rule,
            name=f"{rule.name}-{project}",
            where={**rule.where, "project": project},
            start="1h",
        )
        for rule in rules
    ]


def _turns(n: int, seed: int) -> list[list[dict[str, Any]]]:
    """``n`` chat turns of the demo: each the inferences the agent made (one per model call:
    tool calls first, then the answer), from the traffic generator's conversations."""
    return asyncio.run(_chat(n, seed))


async def _chat(n: int, seed: int) -> list[list[dict[str, Any]]]:
    from langchain_core.messages import AIMessage, BaseMessage, HumanMessage

    from ollive.chat import DemoChatModel, build_graph
    from ollive.demo.traffic import PERSONAS, conversation

    model = DemoChatModel(seed=seed, latency_scale=0.0, error_rate=0.0, timeout_rate=0.0)
    graph = build_graph(model)
    rng = random.Random(seed)
    turns: list[list[dict[str, Any]]] = []
    while len(turns) < n:
        conversation_id, user = f"conv-{len(turns)}", f"user-{rng.randint(1, 8)}"
        history: list[BaseMessage] = []
        for text in conversation(rng.choice(PERSONAS), rng)[: n - len(turns)]:
            history.append(HumanMessage(text))
            state = await graph.ainvoke({"messages": history})
            new = state["messages"][len(history) :]
            history = list(state["messages"])
            calls = [m for m in new if isinstance(m, AIMessage)]
            turns.append([_inference(m, text, conversation_id, user) for m in calls])
    return turns


def _inference(message: Any, text: str, conversation_id: str, user: str) -> dict[str, Any]:
    """One model call as the columns ingest writes (times and ids come at insert)."""
    from ollive.chat import DEMO_MODEL, DEMO_PROVIDER
    from ollive.pricing import default_price_table

    usage = message.usage_metadata or {}
    prompt, completion = int(usage.get("input_tokens", 0)), int(usage.get("output_tokens", 0))
    calls = message.tool_calls or []
    cost = default_price_table().cost(DEMO_PROVIDER, DEMO_MODEL, prompt, completion)
    return {
        "conversation_id": conversation_id, "session_id": "", "user_id": user,
        "service": "demo-chatbot", "provider": DEMO_PROVIDER, "model": DEMO_MODEL,
        "stream": True, "prompt_tokens": prompt, "completion_tokens": completion,
        "total_tokens": prompt + completion, "cached_prompt_tokens": 0,
        "cost_usd": float(cost or 0.0), "status": "ok",
        "finish_reason": "tool_calls" if calls else "stop",
        "tool_calls_count": len(calls),
        "tool_calls_summary": ", ".join(c["name"] for c in calls),
        "error_code": "", "error_message": "", "input_preview": text,
        "output_preview": str(message.content)[:2_000], "metadata": "{}",
        "redactions": [], "schema_version": "1.0",
    }  # fmt: skip


class _Producer(threading.Thread):
    """Inserts one turn's inferences at a time, ``rate`` turns a second, as ingest would
    (``ingested_at`` is the time of the insert); ``events`` counts the rows written."""

    def __init__(self, warehouse: Any, project: str, turns: list, rate: float, seed: int) -> None:
        super().__init__(name="bench-evaluate-producer", daemon=True)
        self.warehouse, self.project, self.turns, self.rate = warehouse, project, turns, rate
        self.rng = random.Random(seed + 1)
        self.events = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        start = time.monotonic()
        try:
            for index, turn in enumerate(self.turns):
                time.sleep(max(0.0, start + index / self.rate - time.monotonic()))
                self.warehouse.insert_arrow("inference_logs", self._table(turn))
                self.events += len(turn)
        except BaseException as exc:  # re-raised by the bench once the thread has stopped
            self.error = exc

    def _table(self, turn: list[dict[str, Any]]) -> Any:
        import pyarrow as pa

        from ollive.store import RAW_TABLES

        schema = RAW_TABLES["inference_logs"]
        now = datetime.now(UTC)
        rows, trace_id = [], uuid.uuid4().hex
        for call in turn:
            latency_ms = self.rng.uniform(300, 2_500)  # the demo model's, at latency_scale 1
            started = now - timedelta(milliseconds=latency_ms)
            rows.append(
                {f.name: None for f in schema} | call | {
                    "project": self.project, "request_id": str(uuid.uuid4()),
                    "trace_id": trace_id, "span_id": uuid.uuid4().hex[:16],
                    "parent_span_id": "", "started_at": started, "finished_at": now,
                    "latency_ms": latency_ms, "ingested_at": now,
                }
            )  # fmt: skip
        return pa.Table.from_pylist(rows, schema=schema)


def _sampled_sql(con: Any, rule: Any) -> str:
    """The request ids a rule must score (the evaluator's own selection of its events)."""
    where = " AND ".join(rule.conditions()) or "1"
    return f"SELECT request_id FROM inference_logs FINAL WHERE {where}"


def _sampled(con: Any, rule: Any) -> int:
    return int(con.warehouse.scalar(f"SELECT count() FROM ({_sampled_sql(con, rule)})"))


def _scored(con: Any, rule: Any) -> int:
    return int(
        con.warehouse.scalar(
            f"SELECT uniqExact(target_request_id) FROM scores FINAL "
            f"WHERE project = '{con.project}' AND session_id = '{rule.session}'"
        )
    )


def _lag_figures(con: Any, rules: list[Any], events: int) -> dict[str, Any]:
    """Per rule: sampled, scored (each once?), and every score's lag behind its event."""
    figures: dict[str, Any] = {"events": events, "sampled": {}, "scored": {}, "lag_by_rule": {}}
    lags: list[float] = []
    ok = True
    for rule in rules:
        name = rule.name.removesuffix(f"-{con.project}")
        df = con.warehouse.query_df(
            "SELECT toString(s.target_request_id) AS target, count() AS n, "
            "max(dateDiff('millisecond', e.ingested_at, s.ingested_at)) / 1000 AS lag_s "
            f"FROM (SELECT target_request_id, ingested_at FROM scores FINAL "
            f"WHERE project = '{con.project}' AND session_id = '{rule.session}') AS s "
            f"INNER JOIN ({_sampled_sql(con, rule)}) AS sampled "
            "ON s.target_request_id = sampled.request_id "
            "INNER JOIN (SELECT request_id, ingested_at FROM inference_logs FINAL "
            f"WHERE project = '{con.project}') AS e ON e.request_id = s.target_request_id "
            "GROUP BY target"
        )
        sampled, scored = _sampled(con, rule), _scored(con, rule)
        once = df.empty or int(df["n"].max()) == 1
        ok = ok and sampled == scored == len(df) and once
        figures["sampled"][name], figures["scored"][name] = sampled, scored
        figures["lag_by_rule"][name] = _quantiles(df["lag_s"].tolist())
        lags.extend(df["lag_s"].tolist())
    figures.update({f"lag_{k}": v for k, v in _quantiles(lags).items()})
    figures["online_ok"] = ok and events > 0
    return figures


def _quantiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50_s": None, "p95_s": None, "max_s": None}
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {
        "p50_s": round(statistics.median(ordered), 2),
        "p95_s": round(p95, 2),
        "max_s": round(ordered[-1], 2),
    }
