"""Hand-written evaluation rows for the dashboard's tests: a dataset, two runs of it (their
results and scores, as ``ollive.evaluate.experiments`` writes them, without Ray), online
evaluator scores, user feedback and one online rule's state.

Also run by tests/ui/test_browser.py in a child process against the served directory.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import pyarrow as pa

from ollive.evaluate import datasets
from ollive.evaluate.experiments import EXPERIMENT_SERVICE, run_id_for
from ollive.evaluate.online import ONLINE_SERVICE
from ollive.store import RAW_TABLES
from ollive.store._ibis import Connection
from tests.insights.conftest import _row

DATASET = "support-qa"
ITEMS = 6
#: per run: its name, minutes before now it started, exact_match per item (None: the item
#: failed), helpfulness per item
RUNS = {
    "baseline": (90, [1, 1, 1, 0, 1, 0], [0.5, 0.6, 0.4, 0.3, 0.7, 0.2]),
    "candidate": (30, [1, 0, 1, 1, None, 0], [0.9, 0.8, 0.7, 0.6, None, 0.5]),
}


def seed_evaluations(
    warehouse: Any, project: str, *, rule: str | None = None, trace_id: str = ""
) -> dict[str, Any]:
    """Write the rows; returns the run ids by name, the item ids, the dataset and the rule.
    ``trace_id``: the trace of the candidate's first item (others have none)."""
    con = Connection.from_warehouse(warehouse, project=project)
    questions = pd.DataFrame(
        {
            "input": [f"Where is parcel ZX-{i}?" for i in range(ITEMS)],
            "expected": [f"Parcel ZX-{i} ships tomorrow." for i in range(ITEMS)],
        }
    )
    ds = datasets.create(con, DATASET, questions, description="support questions",
                         progress=False)  # fmt: skip
    items = ds.to_pandas().sort_values("input")["item_id"].tolist()  # ZX-0 ... ZX-5
    now = datetime.now(UTC).replace(microsecond=0)
    runs = {}
    for name, (minutes_ago, exact, helpful) in RUNS.items():
        run_id = run_id_for(project, DATASET, name)
        started = now - timedelta(minutes=minutes_ago)
        first_trace = trace_id if name == "candidate" else ""
        _write_run(warehouse, project, run_id, name, started, items, exact, helpful, first_trace)
        runs[name] = run_id
    rule = rule or f"helpful-{project}"
    _write_online(warehouse, project, rule, now)
    return {"runs": runs, "items": items, "dataset": DATASET, "rule": rule}


def _write_run(
    warehouse: Any,
    project: str,
    run_id: str,
    name: str,
    started: datetime,
    items: list[str],
    exact: list[int | None],
    helpful: list[float | None],
    first_trace: str,
) -> None:
    ts = pa.timestamp("ms", tz="UTC")
    failed = sum(e is None for e in exact)
    warehouse.insert_arrow("experiment_runs", pa.table({
        "project": [project], "run_id": [run_id], "name": [name], "dataset": [DATASET],
        "dataset_version": pa.array([1], pa.uint32()),
        "status": ["partial" if failed else "finished"],
        "started_at": pa.array([started], ts),
        "finished_at": pa.array([started + timedelta(minutes=2)], ts),
        "items": pa.array([len(items)], pa.uint32()),
        "succeeded": pa.array([len(items) - failed], pa.uint32()),
        "failed": pa.array([failed], pa.uint32()), "task": ["answer"],
        "evaluators": [["exact_match", "helpfulness"]], "metadata": ["{}"],
        "updated_at": pa.array([started + timedelta(minutes=2)], ts),
    }))  # fmt: skip
    requests = [str(uuid.uuid4()) for _ in items]
    outputs = [
        "" if e is None else f'"Parcel ZX-{i} ships {"tomorrow" if e else "someday"}."'
        for i, e in enumerate(exact)
    ]
    warehouse.insert_arrow("experiment_results", pa.table({
        "project": [project] * len(items), "run_id": [run_id] * len(items), "item_id": items,
        "request_id": requests,
        "trace_id": [first_trace if i == 0 else "" for i in range(len(items))],
        "output": outputs,
        "error": ["TimeoutError: the model timed out" if e is None else "" for e in exact],
        "attempts": pa.array([3 if e is None else 1 for e in exact], pa.uint16()),
        "latency_ms": pa.array([100.0 + 10 * i for i in range(len(items))], pa.float64()),
        "cost_usd": pa.array([0.001] * len(items), pa.float64()),
        "prompt_tokens": pa.array([50] * len(items), pa.uint32()),
        "completion_tokens": pa.array([10] * len(items), pa.uint32()),
        "finished_at": pa.array([started + timedelta(minutes=1)] * len(items), ts),
    }))  # fmt: skip
    rows = []
    for item, request, e, h in zip(items, requests, exact, helpful, strict=True):
        for score, value in (("exact_match", e), ("helpfulness", h)):
            if value is None:
                continue
            rows.append({"project": project, "timestamp": started, "target_request_id": request,
                         "name": score, "value": float(value), "source": "model",
                         "conversation_id": f"{run_id}/{item}", "session_id": run_id,
                         "service": EXPERIMENT_SERVICE, "schema_version": "1.0"})  # fmt: skip
    _insert_scores(warehouse, rows)


def _write_online(warehouse: Any, project: str, rule: str, now: datetime) -> None:
    """Online scores, user feedback and a human review, and the rule's state (a backlog)."""
    ts = pa.timestamp("ms", tz="UTC")
    rows = [
        {"project": project, "timestamp": now - timedelta(minutes=10 + i), "name": "helpfulness",
         "value": 0.25 * (i % 5), "source": "model", "session_id": f"online:{rule}",
         "service": ONLINE_SERVICE, "target_request_id": str(uuid.uuid4())}
        for i in range(8)
    ] + [
        {"project": project, "timestamp": now - timedelta(minutes=5 + i), "name": "thumbs_up",
         "value": float(i % 2), "source": "user", "service": "support-bot",
         "target_request_id": str(uuid.uuid4())}
        for i in range(4)
    ] + [
        {"project": project, "timestamp": now - timedelta(minutes=3), "name": "helpfulness",
         "value": 1.0, "source": "human", "service": "review-queue",
         "target_request_id": str(uuid.uuid4())}
    ]  # fmt: skip
    _insert_scores(warehouse, rows)
    warehouse.insert_arrow("evaluation_state", pa.table({
        "rule": [rule], "watermark": pa.array([now - timedelta(minutes=4)], ts),
        "floor": pa.array([now - timedelta(days=1)], ts),
        "scored": pa.array([8], pa.uint64()), "skipped": pa.array([1], pa.uint64()),
        "errors": pa.array([2], pa.uint64()), "backlog": pa.array([17], pa.uint64()),
        "judge_calls": pa.array([10], pa.uint64()),
        "judge_cost_usd": pa.array([0.0123], pa.float64()),
        "updated_at": pa.array([now], ts),
    }))  # fmt: skip


def _insert_scores(warehouse: Any, rows: list[dict[str, Any]]) -> None:
    schema = RAW_TABLES["scores"]
    data = [_row(schema, {"ingested_at": r["timestamp"], **r}) for r in rows]
    warehouse.insert_arrow("scores", pa.Table.from_pylist(data, schema=schema))
