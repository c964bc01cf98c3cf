"""Experiments: a task mapped over a dataset on Ray, each result scored by evaluators.

>>> import ollive
>>> con = ollive.connect()                                                    # doctest: +SKIP
>>> ds = ollive.datasets.get(con, "failed-last-week")                         # doctest: +SKIP
>>> def answer(item):                                                         # doctest: +SKIP
...     return my_chain.invoke(item["input"])
>>> run = ollive.experiments.run(ds, answer, [ollive.evaluators.not_refused()],
...                              name="prompt-v4", concurrency=8)             # doctest: +SKIP
>>> run.to_pandas()                  # one row per item: output, error, latency, scores
>>> ollive.experiments.compare("prompt-v3", "prompt-v4", con=con)            # doctest: +SKIP

How it runs: the items are cut into chunks; at most ``concurrency`` chunks run at once as
Ray tasks (on the running platform's cluster when ``ollive up`` runs, else ``ray_address``,
else a local Ray); a task calls ``task(item)`` for each item of its chunk, retrying a
raising call ``retries`` times, then every evaluator on the output. Ray retries a chunk
whose worker died. The driver writes what comes back: the evaluator results as ``score``
events (``source="model"``, ``session_id`` = the run id, ``target_request_id`` = the task
call's span) and the outputs into ``experiment_results``, every ``flush_items`` items.

Tracing: when the SDK has an endpoint (``OLLIVE_ENDPOINT``, ``tracing=`` or the running
platform's ingest), each task call is a tool span ``experiment:<name>`` inside an
``ollive.conversation`` whose conversation id is ``<run id>/<item id>`` and session id the
run id, so the model calls the task makes are traced under the run.

Resume: a run is named (``name``) per dataset; running the same name again skips the items
already done (a result without error and every evaluator's score) and retries the rest.
Every write is idempotent (deterministic ids and timestamps), so a run killed at any point
and run again never scores an item twice.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa

from ollive.errors import ConfigError, ExperimentError
from ollive.evaluate._chunk import EXPERIMENT_SERVICE, run_chunk, tracing_config
from ollive.evaluate.datasets import Dataset, project_of
from ollive.evaluate.evaluators import evaluator_name
from ollive.store.quoting import sql_literal
from ollive.store.tables import arrow_schema

if TYPE_CHECKING:  # pragma: no cover
    from ollive.store import Connection

__all__ = [
    "EXPERIMENT_SERVICE",
    "ExperimentRun",
    "compare",
    "get",
    "list_runs",
    "run",
    "run_chunk",
    "run_id_for",
]

_NAMESPACE = uuid.UUID("6c1f0f4e-0b7d-4c1e-9c55-0e5d7a1f2b30")


def run_id_for(project: str, dataset: str, name: str) -> str:
    """The run id of experiment ``name`` on ``dataset``: the same name resumes the same run."""
    digest = hashlib.sha256(f"{project}\x1f{dataset}\x1f{name}".encode()).hexdigest()
    return f"exp-{digest[:20]}"


@dataclass
class ExperimentRun:
    """A finished (or stopped) run: counts, and its results as a DataFrame."""

    con: Any
    run_id: str
    name: str
    dataset: str
    dataset_version: int
    status: str
    items: int
    succeeded: int
    failed: int
    started_at: datetime | None = None
    finished_at: datetime | None = None
    evaluators: list[str] = field(default_factory=list)

    def to_pandas(self) -> pd.DataFrame:
        """One row per item: input, expected output, output, error, latency, cost, trace id
        and one column per score name (``ollive.insights.experiment_results``)."""
        from ollive.insights.evaluations import experiment_results

        return experiment_results(self.con, self.run_id)

    def summary(self) -> pd.DataFrame:
        """Per score name: items scored, mean, and its 95% bootstrap confidence interval."""
        from ollive.insights.evaluations import run_summary

        return run_summary(self.con, self.run_id)

    def __repr__(self) -> str:
        return (
            f"ExperimentRun({self.name!r} on {self.dataset!r} v{self.dataset_version}: "
            f"{self.status}, {self.succeeded}/{self.items} ok, {self.failed} failed, "
            f"run_id={self.run_id!r})"
        )


# --- the public entry points ----------------------------------------------------------------
def run(
    dataset: Dataset,
    task: Callable[[dict[str, Any]], Any],
    evaluators: Sequence[Callable[..., Any]] = (),
    *,
    name: str | None = None,
    concurrency: int = 4,
    ray_address: str | None = None,
    retries: int = 2,
    retry_backoff_s: float = 0.5,
    chunk_size: int | None = None,
    flush_items: int = 1_000,
    num_cpus: float = 0,
    tracing: dict[str, str] | None = None,
    metadata: dict[str, Any] | None = None,
    progress: bool = True,
) -> ExperimentRun:
    """Run ``task`` over every item of ``dataset`` on Ray and score each output.

    ``task(item) -> output`` and each evaluator ``fn(item, output, **context) -> float |
    bool | dict | None`` are plain functions (shipped to the workers with cloudpickle).
    ``name`` identifies the run within the dataset (default: the task's name and the
    time); the same name again resumes it. ``concurrency`` bounds the chunks in flight,
    ``chunk_size`` the items per Ray task (default: about four chunks per slot, at most
    100). ``num_cpus`` is what one chunk reserves on the cluster (0: the bound is
    ``concurrency`` alone). ``tracing`` overrides the SDK settings the workers trace with
    (``{"endpoint": ..., "api_key": ..., "service": ...}``; ``{}`` turns tracing off).
    """
    if not isinstance(dataset, Dataset):
        raise ConfigError(
            "run() takes a dataset: ollive.datasets.get(con, name) or ollive.datasets.create(...)"
        )
    if not callable(task):
        raise ConfigError(f"task must be a function item -> output, not {type(task).__name__}")
    evaluators = list(evaluators)
    for fn in evaluators:
        if not callable(fn):
            raise ConfigError(f"an evaluator must be callable, not {type(fn).__name__}")
    if concurrency < 1 or retries < 0 or flush_items < 1:
        raise ConfigError("concurrency and flush_items must be >= 1, retries >= 0")
    con = dataset.con
    project = dataset.project
    name = name or f"{getattr(task, '__name__', 'task')}-{datetime.now(UTC):%Y%m%d-%H%M%S}"
    run_id = run_id_for(project, dataset.name, name)
    previous = _run_row(con, project, run_id)
    if previous is not None and int(previous["dataset_version"]) != dataset.version:
        raise ExperimentError(
            f"run {name!r} exists for version {int(previous['dataset_version'])} of dataset "
            f"{dataset.name!r}, not version {dataset.version}; pick another name"
        )
    started = _started_at(previous)
    items = dataset.items()
    done = _done_items(con, project, run_id)
    todo = [it for it in items if it["item_id"] not in done]
    ctx = {
        "run_id": run_id,
        "name": name,
        "project": project,
        "dataset": dataset.name,
        "retries": retries,
        "retry_backoff_s": retry_backoff_s,
        "tracing": tracing_config(tracing),
    }
    state = _RunState(con, project, run_id, name, dataset, started, evaluators, task, metadata)
    state.write_run("running", len(items), len(done), 0)
    try:
        failed = _execute(
            state, todo, task, evaluators, ctx, concurrency, ray_address,
            chunk_size, flush_items, num_cpus, progress,
        )  # fmt: skip
    except BaseException:
        state.flush()
        state.write_run("failed", len(items), len(done) + state.succeeded, state.failed)
        raise
    status = "finished" if failed == 0 else "partial"
    state.write_run(status, len(items), len(done) + state.succeeded, failed, finished=True)
    return get(con, name, dataset=dataset.name)


def get(con: Connection, name_or_id: str, *, dataset: str | None = None) -> ExperimentRun:
    """A run by its id (``exp-…``) or its name (``dataset=`` when names repeat)."""
    project = project_of(con)
    where = (
        f"run_id = {sql_literal(name_or_id)}"
        if name_or_id.startswith("exp-")
        else f"name = {sql_literal(name_or_id)}"
    )
    if dataset is not None:
        where += f" AND dataset = {sql_literal(dataset)}"
    df = con.warehouse.query_df(
        f"SELECT * FROM experiment_runs FINAL WHERE project = {sql_literal(project)} AND {where} "
        "ORDER BY started_at DESC"
    )
    if df.empty:
        raise ExperimentError(
            f"no experiment run {name_or_id!r} in project {project!r}; "
            "ollive.experiments.list_runs(con) lists them"
        )
    if len(df) > 1 and dataset is None:
        raise ExperimentError(
            f"{len(df)} runs are named {name_or_id!r} (datasets {sorted(set(df.dataset))}); "
            "pass dataset= or the run id"
        )
    return _run_from_row(con, df.iloc[0])


def list_runs(con: Connection, dataset: str | None = None) -> pd.DataFrame:
    """Every run (newest first), with its mean score per evaluator."""
    from ollive.insights.evaluations import experiment_runs

    return experiment_runs(con, dataset=dataset)


def compare(
    run_a: ExperimentRun | str,
    run_b: ExperimentRun | str,
    *,
    con: Connection | None = None,
    n_boot: int = 2_000,
    seed: int = 0,
) -> pd.DataFrame:
    """Per-item differences and aggregate deltas between two runs on the same dataset.

    One row per (score, item) with ``a``, ``b`` and ``delta = b - a`` (``level="item"``),
    and one row per score with the mean delta over the items both runs scored and its 95%
    bootstrap confidence interval (``level="aggregate"``, ``item_id`` "*"). Latency and
    cost compare like scores (``latency_ms``, ``cost_usd``). Runs are objects or names/ids
    (then ``con=``).
    """
    from ollive.insights.evaluations import compare_runs

    first = run_a if isinstance(run_a, ExperimentRun) else None
    second = run_b if isinstance(run_b, ExperimentRun) else None
    connection = con or (first.con if first else None) or (second.con if second else None)
    if connection is None:
        raise ConfigError("compare() of two run names needs con=ollive.connect()")
    a = first or get(connection, str(run_a))
    b = second or get(connection, str(run_b))
    if a.dataset != b.dataset:
        raise ExperimentError(
            f"runs {a.name!r} and {b.name!r} are on different datasets "
            f"({a.dataset!r}, {b.dataset!r}): nothing to pair"
        )
    return compare_runs(connection, a.run_id, b.run_id, n_boot=n_boot, seed=seed)


# --- the driver --------------------------------------------------------------------------
@dataclass
class _RunState:
    """What the driver knows of the run, and the rows it has yet to write."""

    con: Any
    project: str
    run_id: str
    name: str
    dataset: Dataset
    started_at: datetime
    evaluators: list[Callable[..., Any]]
    task: Callable[..., Any]
    metadata: dict[str, Any] | None
    succeeded: int = 0
    failed: int = 0
    pending: list[dict[str, Any]] = field(default_factory=list)

    def add(self, outcomes: list[dict[str, Any]]) -> None:
        for outcome in outcomes:
            if outcome["error"]:
                self.failed += 1
            else:
                self.succeeded += 1
        self.pending.extend(outcomes)

    def flush(self) -> None:
        """Scores first, then the results that mark their items done (see the module doc)."""
        if not self.pending:
            return
        outcomes, self.pending = self.pending, []
        scores = _score_rows(self, outcomes)
        if scores is not None:
            self.con.warehouse.insert_arrow("scores", scores)
        self.con.warehouse.insert_arrow("experiment_results", _result_rows(self, outcomes))

    def write_run(
        self, status: str, items: int, succeeded: int, failed: int, *, finished: bool = False
    ) -> None:
        now = datetime.now(UTC)
        ts = pa.timestamp("ms", tz="UTC")
        row = {
            "project": [self.project],
            "run_id": [self.run_id],
            "name": [self.name],
            "dataset": [self.dataset.name],
            "dataset_version": pa.array([self.dataset.version], pa.uint32()),
            "status": [status],
            "started_at": pa.array([self.started_at], ts),
            "finished_at": pa.array([now if finished or status == "failed" else None], ts),
            "items": pa.array([items], pa.uint32()),
            "succeeded": pa.array([succeeded], pa.uint32()),
            "failed": pa.array([failed], pa.uint32()),
            "task": [getattr(self.task, "__qualname__", type(self.task).__name__)],
            "evaluators": [[evaluator_name(fn) for fn in self.evaluators]],
            "metadata": [json.dumps(self.metadata or {}, default=str)],
            "updated_at": pa.array([now], ts),
        }
        self.con.warehouse.insert_arrow("experiment_runs", pa.table(row))


def _execute(
    state: _RunState,
    todo: list[dict[str, Any]],
    task: Callable[..., Any],
    evaluators: list[Callable[..., Any]],
    ctx: dict[str, Any],
    concurrency: int,
    ray_address: str | None,
    chunk_size: int | None,
    flush_items: int,
    num_cpus: float,
    progress: bool,
) -> int:
    """Run the chunks on Ray, ``concurrency`` at a time; returns the items that failed."""
    if not todo:
        return 0
    ray = _ensure_ray(ray_address)
    remote = ray.remote(run_chunk).options(
        num_cpus=num_cpus, max_retries=3, name=f"experiment:{state.name}"
    )
    size = chunk_size or max(1, min(100, -(-len(todo) // (concurrency * 4))))
    chunks = iter([todo[i : i + size] for i in range(0, len(todo), size)])
    task_ref = ray.put(task)
    evaluators_ref = ray.put(evaluators)
    bar = _progress(len(todo), state.name, progress)
    in_flight: dict[Any, int] = {}
    try:
        for chunk in _take(chunks, concurrency):
            in_flight[remote.remote(task_ref, evaluators_ref, chunk, ctx)] = len(chunk)
        while in_flight:
            ready, _ = ray.wait(list(in_flight), num_returns=1)
            for ref in ready:
                in_flight.pop(ref)
                outcomes = ray.get(ref)
                state.add(outcomes)
                bar.update(len(outcomes))
                bar.set_postfix(failed=state.failed)
                if len(state.pending) >= flush_items:
                    state.flush()
                for chunk in _take(chunks, 1):
                    in_flight[remote.remote(task_ref, evaluators_ref, chunk, ctx)] = len(chunk)
        state.flush()
    except BaseException:
        for ref in in_flight:
            ray.cancel(ref, force=False)
        raise
    finally:
        bar.close()
    return state.failed


def _take(chunks: Iterator[list[dict[str, Any]]], n: int) -> Iterator[list[dict[str, Any]]]:
    for _ in range(n):
        chunk = next(chunks, None)
        if chunk is None:
            return
        yield chunk


def _progress(total: int, name: str, enabled: bool) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=f"experiment {name}", unit="item", disable=not enabled)


def _ensure_ray(address: str | None) -> Any:
    """Ray, connected: as it is; ``address``; the running platform's cluster; a local one."""
    import ray

    if ray.is_initialized():
        return ray
    if address is None:
        from ollive.config import get_settings
        from ollive.config.runfile import read_run_file

        settings = get_settings()
        run = read_run_file(settings.run_file) or {}
        if run.get("ray_address") or settings.ray_address:
            from ollive.store import join_platform

            join_platform(settings)
            return ray
        import logging

        ray.init(
            num_cpus=os.cpu_count() or 2,
            include_dashboard=False,
            namespace="ollive-experiments",
            log_to_driver=False,
            logging_level=logging.WARNING,
        )
        return ray
    ray.init(address=address, namespace="ollive-experiments")
    return ray


# --- rows --------------------------------------------------------------------------------
def _score_id(run_id: str, item_id: str, name: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{run_id}\x1f{item_id}\x1f{name}"))


def _score_rows(state: _RunState, outcomes: list[dict[str, Any]]) -> pa.Table | None:
    rows: dict[str, list[Any]] = {f.name: [] for f in arrow_schema("scores")}
    now = datetime.now(UTC)
    for o in outcomes:
        for name, value, comment, meta in o["scores"]:
            meta = {
                **meta,
                "experiment_run_id": state.run_id,
                "experiment": state.name,
                "dataset": state.dataset.name,
                "dataset_version": state.dataset.version,
                "item_id": o["item_id"],
            }
            values = {
                "project": state.project,
                "request_id": _score_id(state.run_id, o["item_id"], name),
                # one timestamp per run keeps a re-written score on its ReplacingMergeTree key
                "timestamp": state.started_at,
                "target_request_id": o["request_id"],
                "name": name,
                "value": value,
                "comment": comment or "",
                "source": "model",
                "trace_id": o["trace_id"],
                "span_id": "",
                "parent_span_id": "",
                "conversation_id": f"{state.run_id}/{o['item_id']}",
                "session_id": state.run_id,
                "user_id": "",
                "service": EXPERIMENT_SERVICE,
                "metadata": json.dumps(meta, default=str),
                "redactions": [],
                "schema_version": "1.0",
                "ingested_at": now,
            }
            for key, column in rows.items():
                column.append(values[key])
    if not rows["request_id"]:
        return None
    return pa.table(rows, schema=arrow_schema("scores"))


def _result_rows(state: _RunState, outcomes: list[dict[str, Any]]) -> pa.Table:
    ts = pa.timestamp("ms", tz="UTC")
    return pa.table(
        {
            "project": [state.project] * len(outcomes),
            "run_id": [state.run_id] * len(outcomes),
            "item_id": [o["item_id"] for o in outcomes],
            "request_id": [o["request_id"] for o in outcomes],
            "trace_id": [o["trace_id"] for o in outcomes],
            "output": [o["output"] for o in outcomes],
            "error": [o["error"] for o in outcomes],
            "attempts": pa.array([o["attempts"] for o in outcomes], pa.uint16()),
            "latency_ms": pa.array([o["latency_ms"] for o in outcomes], pa.float64()),
            "cost_usd": pa.array([o["cost_usd"] for o in outcomes], pa.float64()),
            "prompt_tokens": pa.array([o["prompt_tokens"] for o in outcomes], pa.uint32()),
            "completion_tokens": pa.array([o["completion_tokens"] for o in outcomes], pa.uint32()),
            "finished_at": pa.array([o["finished_at"] for o in outcomes], ts),
        }
    )


# --- reading the run's own state -------------------------------------------------------------
def _run_row(con: Any, project: str, run_id: str) -> Any:
    df = con.warehouse.query_df(
        f"SELECT * FROM experiment_runs FINAL WHERE project = {sql_literal(project)} "
        f"AND run_id = {sql_literal(run_id)}"
    )
    return None if df.empty else df.iloc[0]


def _started_at(previous: Any) -> datetime:
    if previous is None:
        return datetime.now(UTC).replace(microsecond=0)
    value = pd.Timestamp(previous["started_at"])
    if value.tzinfo is None:
        value = value.tz_localize("UTC")
    return value.to_pydatetime()


def _done_items(con: Any, project: str, run_id: str) -> set[str]:
    """Items with a result without error (evaluator failures are errors too)."""
    df = con.warehouse.query_df(
        f"SELECT item_id FROM experiment_results FINAL WHERE project = {sql_literal(project)} "
        f"AND run_id = {sql_literal(run_id)} AND error = ''"
    )
    return set(df["item_id"].tolist())


def _run_from_row(con: Any, row: Any) -> ExperimentRun:
    def ts(value: Any) -> datetime | None:
        return None if pd.isna(value) else pd.Timestamp(value).to_pydatetime()

    return ExperimentRun(
        con=con,
        run_id=str(row["run_id"]),
        name=str(row["name"]),
        dataset=str(row["dataset"]),
        dataset_version=int(row["dataset_version"]),
        status=str(row["status"]),
        items=int(row["items"]),
        succeeded=int(row["succeeded"]),
        failed=int(row["failed"]),
        started_at=ts(row["started_at"]),
        finished_at=ts(row["finished_at"]),
        evaluators=[str(x) for x in row["evaluators"]],
    )
