"""Online evaluation: rules from ``evaluations.toml`` scoring new traffic behind a watermark.

A rules file::

    [[rule]]
    name = "no-refusals"              # unique; the score's session is "online:<name>"
    evaluator = "not_refused"         # a built-in of ollive.evaluate.evaluators, "llm_judge",
                                      # or "package.module:function" (your evaluator)
    sample_rate = 0.5                 # share of matching events scored (by request id hash)
    where = { service = "chatbot", status = "ok" }   # equality (or list = any of) filters
    args = {}                         # keyword arguments of the evaluator's factory

    [[rule]]
    name = "helpfulness"
    evaluator = "llm_judge"
    sample_rate = 0.1
    rate_limit_per_min = 30           # judge calls per minute, at most
    args = { rubric = "Is the answer helpful and correct?", model = "demo" }

How a step works, per rule (:meth:`OnlineEvaluator.step`): take the inferences ingested
after the rule's watermark and at least ``settle_s`` ago (a row becomes visible a moment
after its ``ingested_at``), matching ``where`` and sampled by a hash of the request id,
not yet scored by the rule, oldest first, at most ``batch_size``; evaluate each (the item is
``{"input": input_preview, "metadata": {...}}``, the output ``output_preview``); write the
scores; then move the watermark to the newest row looked at and save it with the counters.

Exactly once, across restarts: a score's request id is derived from (rule, event) and its
timestamp is the event's start, so writing it again replaces it; a step re-reads the last
``late_s`` before the watermark and skips events the rule already scored (a row written
late, e.g. replayed from the write-ahead log after an outage, is still scored). Killed
between the scores and the watermark, a restarted evaluator finds those events scored and
moves on. The backlog (matching, sampled, unscored events behind the watermark's target)
is bounded by ``max_backlog``: past it the oldest are skipped and counted (``skipped``), so
a long outage of a judge never makes the evaluator fall ever further behind. The state
(watermark, totals, backlog, judge calls and cost) is the ``evaluation_state`` table,
shown on the data-health page.
"""

from __future__ import annotations

import importlib
import json
import logging
import threading
import time
import tomllib
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from ollive.errors import ConfigError
from ollive.evaluate import evaluators as builtins
from ollive.evaluate.evaluators import run_evaluator
from ollive.store.quoting import quote_identifier, sql_literal
from ollive.store.tables import arrow_schema

__all__ = [
    "ONLINE_SERVICE",
    "WHERE_COLUMNS",
    "OnlineEvaluator",
    "OnlineRule",
    "StepReport",
    "load_rules",
    "parse_rules",
]

log = logging.getLogger(__name__)

ONLINE_SERVICE = "ollive-online-eval"
_NAMESPACE = uuid.UUID("0d3c7a52-5a43-4f43-8a8e-3f7c9c1e6b21")
#: what ``where`` can filter on (columns of ``inference_logs``)
WHERE_COLUMNS = frozenset(
    {
        "project",
        "service",
        "provider",
        "model",
        "status",
        "user_id",
        "finish_reason",
        "prompt_name",
        "prompt_version",
    }
)
_ITEM_COLUMNS = (
    "project, toString(request_id) AS request_id, trace_id, span_id, conversation_id, "
    "session_id, user_id, service, provider, model, started_at, latency_ms, cost_usd, status, "
    "error_message, input_preview, output_preview, ingested_at"
)
_MAX_FAILED_ATTEMPTS = 3
_SAMPLE_SCALE = 10_000


@dataclass(frozen=True)
class OnlineRule:
    """One rule: which events (``where``, ``sample_rate``), scored by which evaluator."""

    name: str
    evaluator: Callable[..., Any]
    sample_rate: float = 1.0
    where: Mapping[str, Any] = field(default_factory=dict)
    start: str = "now"  # "now" (traffic from when the rule first runs) or a duration back

    @property
    def session(self) -> str:
        return f"online:{self.name}"

    def conditions(self) -> list[str]:
        """SQL conditions on ``inference_logs`` that pick this rule's events: its ``where``
        filters and its sample (a hash of the request id, in ten-thousandths, so the same
        events are sampled on every run and in every process)."""
        out = []
        for column, value in self.where.items():
            values = value if isinstance(value, list) else [value]
            literals = ", ".join(sql_literal(str(v)) for v in values)
            out.append(f"{quote_identifier(column)} IN ({literals})")
        if self.sample_rate < 1.0:
            cut = int(self.sample_rate * _SAMPLE_SCALE)
            out.append(f"cityHash64(toString(request_id)) % {_SAMPLE_SCALE} < {cut}")
        return out


@dataclass
class StepReport:
    """What one step of one rule did."""

    rule: str
    scored: int = 0
    skipped: int = 0
    errors: int = 0
    backlog: int = 0
    judge_calls: int = 0
    judge_cost_usd: float = 0.0
    watermark: datetime | None = None
    floor: datetime | None = None


# --- rules -------------------------------------------------------------------------------
def load_rules(path: str | Path, *, models: Mapping[str, Any] | None = None) -> list[OnlineRule]:
    """Read an ``evaluations.toml``; ``models`` names chat models a judge may use by name
    (``model = "demo"``): the platform passes its demo model."""
    file = Path(path)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"no evaluations file at {file}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file} is not valid TOML: {exc}") from None
    return parse_rules(data, models=models, origin=str(file))


def parse_rules(
    data: Mapping[str, Any], *, models: Mapping[str, Any] | None = None, origin: str = "rules"
) -> list[OnlineRule]:
    """Rules from the parsed TOML (``{"rule": [{...}, ...]}``); errors name the rule and key."""
    raw = data.get("rule", [])
    if not isinstance(raw, list) or not raw:
        raise ConfigError(f"{origin}: no [[rule]] tables; see docs/evaluate.md for the format")
    rules: list[OnlineRule] = []
    for index, spec in enumerate(raw):
        where = f"{origin}: rule {index + 1}"
        known = {"name", "evaluator", "sample_rate", "where", "args", "rate_limit_per_min", "start"}
        unknown = sorted(set(spec) - known)
        if unknown:
            raise ConfigError(f"{where}: unknown keys {unknown}; allowed: {sorted(known)}")
        name = spec.get("name")
        if not isinstance(name, str) or not name:
            raise ConfigError(f"{where}: every rule needs a name")
        rate = float(spec.get("sample_rate", 1.0))
        if not 0.0 < rate <= 1.0:
            raise ConfigError(f"{where} ({name}): sample_rate must be in (0, 1], not {rate}")
        filters = dict(spec.get("where", {}))
        bad = sorted(set(filters) - WHERE_COLUMNS)
        if bad:
            raise ConfigError(
                f"{where} ({name}): cannot filter on {bad}; on {sorted(WHERE_COLUMNS)}"
            )
        start = str(spec.get("start", "now"))
        if start != "now":
            _duration(start, f"{where} ({name}): start")
        evaluator = _evaluator(spec, models or {}, f"{where} ({name})")
        rules.append(OnlineRule(name, evaluator, rate, filters, start))
    names = [r.name for r in rules]
    if len(set(names)) != len(names):
        raise ConfigError(f"{origin}: rule names repeat: {names}")
    return rules


def _evaluator(spec: Mapping[str, Any], models: Mapping[str, Any], where: str) -> Any:
    kind = spec.get("evaluator")
    args = dict(spec.get("args", {}))
    if not isinstance(kind, str) or not kind:
        raise ConfigError(f"{where}: evaluator is required (a built-in name or module:function)")
    if kind in ("llm_judge", "judge"):
        from ollive.evaluate.judge import llm_judge

        model = args.pop("model", None)
        if isinstance(model, str):
            if model not in models:
                raise ConfigError(
                    f"{where}: judge model {model!r} is not known here; known: {sorted(models)} "
                    "(or give base_url= and model_name= for an OpenAI-compatible endpoint)"
                )
            model = models[model]
        if spec.get("rate_limit_per_min") is not None:
            args["rate_limit_per_min"] = float(spec["rate_limit_per_min"])
        args.setdefault("name", str(spec["name"]))
        return llm_judge(model=model, **args)
    if ":" in kind:
        module, _, attr = kind.partition(":")
        try:
            fn = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError) as exc:
            raise ConfigError(f"{where}: cannot import evaluator {kind!r}: {exc}") from None
        return fn(**args) if args else fn
    factory = getattr(builtins, kind, None)
    if factory is None or kind.startswith("_") or kind not in builtins.__all__:
        raise ConfigError(f"{where}: no built-in evaluator {kind!r}; built-ins: {_builtin_names()}")
    try:
        return factory(**args)
    except TypeError as exc:
        raise ConfigError(f"{where}: bad args for {kind}: {exc}") from None


def _builtin_names() -> list[str]:
    skip = {"ScoreValue", "evaluator_name", "output_text", "run_evaluator", "EvaluatorError"}
    return sorted(n for n in builtins.__all__ if n not in skip and n[0].islower())


def _duration(text: str, what: str) -> timedelta:
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    try:
        return timedelta(seconds=float(text[:-1]) * units[text[-1]])
    except (KeyError, ValueError, IndexError):
        raise ConfigError(
            f"{what} must be 'now' or a duration like 30m, 6h, 2d; not {text!r}"
        ) from None


# --- the evaluator -----------------------------------------------------------------------
class OnlineEvaluator:
    """Steps every rule over newly ingested inferences; pure (a warehouse and a clock)."""

    def __init__(
        self,
        warehouse: Any,
        rules: list[OnlineRule],
        *,
        settle_s: float = 5.0,
        late_s: float = 600.0,
        max_event_age_s: float = 86_400.0,
        batch_size: int = 500,
        max_backlog: int = 10_000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if batch_size < 1 or max_backlog < batch_size:
            raise ConfigError("batch_size must be >= 1 and max_backlog >= batch_size")
        self.warehouse = warehouse
        self.rules = rules
        self.settle_s = settle_s
        self.late_s = late_s
        self.max_event_age_s = max_event_age_s
        self.batch_size = batch_size
        self.max_backlog = max_backlog
        self.clock = clock
        self._failed: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()

    def step(self) -> list[StepReport]:
        """One pass over every rule (a failing rule is logged; the others go on)."""
        reports = []
        with self._lock:
            for rule in self.rules:
                try:
                    reports.append(self._step(rule))
                except Exception:
                    log.exception("online evaluation rule %s failed this step", rule.name)
        return reports

    def run_until_idle(self, max_steps: int = 100) -> list[StepReport]:
        """Step until a step scores nothing (tests, backfills); the last step's reports."""
        reports: list[StepReport] = []
        for _ in range(max_steps):
            reports = self.step()
            if not any(r.scored or r.errors for r in reports):
                break
        return reports

    # --- one rule ------------------------------------------------------------------------
    def _step(self, rule: OnlineRule) -> StepReport:
        state = self._state(rule)
        now = datetime.fromtimestamp(self.clock(), UTC)
        upper = now - timedelta(seconds=self.settle_s)
        watermark, floor = state["watermark"], state["floor"]
        report = StepReport(rule.name, watermark=watermark, floor=floor)
        if upper <= watermark:
            if state["new"]:  # a rule starting "now": record its start, or it never begins
                self._save(rule, state, report)
            return report
        candidates = self._candidates_sql(rule, watermark, upper, floor)
        backlog = int(self.warehouse.scalar(f"SELECT count() FROM ({candidates})"))
        skipped = 0
        if backlog > self.max_backlog:
            skipped, floor = self._skip_oldest(candidates, backlog - self.max_backlog)
            watermark = max(watermark, floor)
            report.floor = floor
            candidates = self._candidates_sql(rule, watermark, upper, floor)
            backlog -= skipped
        rows = self.warehouse.query_df(
            f"{candidates} ORDER BY ingested_at, request_id LIMIT {self.batch_size}"
        )
        scores: list[dict[str, Any]] = []
        for row in rows.to_dict("records"):
            self._evaluate(rule, row, scores, report)
        if scores:
            self.warehouse.insert_arrow("scores", _score_table(rule, scores))
        if len(rows) < self.batch_size:
            new_watermark = upper
        else:  # more to come: everything up to the last row looked at is done
            new_watermark = max(watermark, _utc(rows["ingested_at"].iloc[-1]))
        report.skipped = skipped
        report.backlog = max(0, backlog - len(rows))
        report.watermark = new_watermark
        self._save(rule, state, report)
        return report

    def _candidates_sql(
        self, rule: OnlineRule, watermark: datetime, upper: datetime, floor: datetime
    ) -> str:
        """Matching, sampled, unscored inferences ingested in (watermark - late_s, upper],
        never at or before ``floor``, leaving out those given up on."""
        lower = max(watermark - timedelta(seconds=self.late_s), floor)
        oldest = lower - timedelta(seconds=self.max_event_age_s)
        conditions = [
            f"ingested_at > {_ts(lower)}",
            f"ingested_at <= {_ts(upper)}",
            f"started_at >= {_ts(oldest)}",  # the primary key's time: prunes old parts
        ]
        conditions.extend(rule.conditions())
        conditions.append(
            "request_id NOT IN (SELECT target_request_id FROM scores "
            f"WHERE session_id = {sql_literal(rule.session)} AND timestamp >= {_ts(oldest)})"
        )
        given_up = [rid for (name, rid), n in self._failed.items()
                    if name == rule.name and n >= _MAX_FAILED_ATTEMPTS][-1_000:]  # fmt: skip
        if given_up:
            ids = ", ".join(sql_literal(r) for r in given_up)
            conditions.append(f"toString(request_id) NOT IN ({ids})")
        return f"SELECT {_ITEM_COLUMNS} FROM inference_logs FINAL WHERE " + " AND ".join(conditions)

    def _skip_oldest(self, candidates: str, n: int) -> tuple[int, datetime]:
        """Skip the ``n`` oldest candidates: the new floor is the n-th one's ingested_at."""
        row = self.warehouse.query_df(
            f"SELECT ingested_at FROM ({candidates}) ORDER BY ingested_at LIMIT 1 OFFSET {n - 1}"
        )
        cutoff = _utc(row["ingested_at"].iloc[0])
        skipped = int(
            self.warehouse.scalar(
                f"SELECT count() FROM ({candidates}) WHERE ingested_at <= {_ts(cutoff)}"
            )
        )
        log.warning(
            "online evaluation: backlog over %d, skipped %d events", self.max_backlog, skipped
        )
        return skipped, cutoff

    def _evaluate(
        self, rule: OnlineRule, row: dict[str, Any], out: list[dict[str, Any]], report: StepReport
    ) -> None:
        key = (rule.name, row["request_id"])
        if self._failed.get(key, 0) >= _MAX_FAILED_ATTEMPTS:
            return
        item = {
            "item_id": row["request_id"],
            "input": row["input_preview"],
            "expected_output": None,
            "metadata": {k: row[k] for k in ("service", "provider", "model", "user_id", "status")},
            "source_request_id": row["request_id"],
            "source_trace_id": row["trace_id"] or None,
        }
        context = {
            "latency_ms": float(row["latency_ms"]),
            "cost_usd": float(row["cost_usd"]),
            "error": row["error_message"] or None,
            "trace_id": row["trace_id"] or None,
            "request_id": row["request_id"],
        }
        try:
            values = run_evaluator(rule.evaluator, item, row["output_preview"], **context)
        except Exception as exc:  # noqa: BLE001 - counted; retried a few times, then given up
            self._failed[key] = self._failed.get(key, 0) + 1
            report.errors += 1
            log.warning("online evaluation %s of %s failed: %s", rule.name, key[1], exc)
            return
        self._failed.pop(key, None)
        for value in values:
            meta = dict(value.metadata)
            if "judge_model" in meta:
                report.judge_calls += 1
                report.judge_cost_usd += float(meta.get("cost_usd") or 0.0)
            out.append({"row": row, "value": value, "metadata": meta})
        report.scored += 1

    # --- state -------------------------------------------------------------------------------
    def _state(self, rule: OnlineRule) -> dict[str, Any]:
        df = self.warehouse.query_df(
            f"SELECT * FROM evaluation_state FINAL WHERE rule = {sql_literal(rule.name)}"
        )
        if df.empty:
            now = datetime.fromtimestamp(self.clock(), UTC)
            start = now if rule.start == "now" else now - _duration(rule.start, "start")
            return {"new": True, "watermark": start, "floor": start, "scored": 0, "skipped": 0, "errors": 0,
                    "judge_calls": 0, "judge_cost_usd": 0.0}  # fmt: skip
        row = df.iloc[0]
        return {
            "new": False,
            "watermark": _utc(row["watermark"]),
            "floor": _utc(row["floor"]),
            "scored": int(row["scored"]),
            "skipped": int(row["skipped"]),
            "errors": int(row["errors"]),
            "judge_calls": int(row["judge_calls"]),
            "judge_cost_usd": float(row["judge_cost_usd"]),
        }

    def _save(self, rule: OnlineRule, state: dict[str, Any], report: StepReport) -> None:
        ts = pa.timestamp("ms", tz="UTC")
        now = datetime.fromtimestamp(max(self.clock(), time.time()), UTC)
        row = {
            "rule": [rule.name],
            "watermark": pa.array([report.watermark], ts),
            "floor": pa.array([report.floor], ts),
            "scored": pa.array([state["scored"] + report.scored], pa.uint64()),
            "skipped": pa.array([state["skipped"] + report.skipped], pa.uint64()),
            "errors": pa.array([state["errors"] + report.errors], pa.uint64()),
            "backlog": pa.array([report.backlog], pa.uint64()),
            "judge_calls": pa.array([state["judge_calls"] + report.judge_calls], pa.uint64()),
            "judge_cost_usd": pa.array(
                [state["judge_cost_usd"] + report.judge_cost_usd], pa.float64()
            ),
            "updated_at": pa.array([now], ts),
        }
        self.warehouse.insert_arrow("evaluation_state", pa.table(row))


def _score_table(rule: OnlineRule, scores: list[dict[str, Any]]) -> pa.Table:
    schema = arrow_schema("scores")
    columns: dict[str, list[Any]] = {f.name: [] for f in schema}
    now = datetime.now(UTC)
    for entry in scores:
        row, value = entry["row"], entry["value"]
        meta = {**entry["metadata"], "rule": rule.name}
        values = {
            "project": row["project"],
            "request_id": str(
                uuid.uuid5(_NAMESPACE, f"{rule.name}\x1f{row['request_id']}\x1f{value.name}")
            ),
            "timestamp": _utc(row["started_at"]),  # deterministic: a rewrite replaces
            "target_request_id": row["request_id"],
            "name": value.name,
            "value": float(value.value),
            "comment": value.comment or "",
            "source": "model",
            "trace_id": row["trace_id"],
            "span_id": "",
            "parent_span_id": row["span_id"],
            "conversation_id": row["conversation_id"],
            "session_id": rule.session,
            "user_id": row["user_id"],
            "service": ONLINE_SERVICE,
            "metadata": json.dumps(meta, default=str),
            "redactions": [],
            "schema_version": "1.0",
            "ingested_at": now,
        }
        for key, column in columns.items():
            column.append(values[key])
    return pa.table(columns, schema=schema)


def _utc(value: Any) -> datetime:
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize("UTC")
    return stamp.to_pydatetime()


def _ts(value: datetime) -> str:
    return f"toDateTime64('{value.astimezone(UTC):%Y-%m-%d %H:%M:%S.%f}', 3, 'UTC')"
