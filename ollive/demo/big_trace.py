"""One very large agent trace (10,000 spans by default), for the trace view's worst case.

An agent run: a root inference plans, then each step is an inference that calls a few
tools, some of which run a nested inference with its own tool calls; a log line per step
and a score on the root. Spans link by ``parent_span_id`` as the SDK writes them. The root's
input holds ``marker`` so a text search finds the trace. Each kind of inference is made from
its own prompt template (:data:`PROMPTS`: the planner, a step, a sub-question), as a v1.1
event carries it.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from ollive.events import template_hash
from ollive.store.tables import RAW_TABLES

if TYPE_CHECKING:  # pragma: no cover
    from ollive.store.base import Warehouse

__all__ = ["PROMPTS", "seed_big_trace"]

_TOOLS = ("search_docs", "run_sql", "http_get", "read_file", "calculator")
#: kind of inference -> (prompt_name, prompt_version, template text)
PROMPTS = {
    "plan": ("agent-planner", "2", "Plan the task {task} as numbered steps, one tool each."),
    "step": ("agent-step", "5", "Carry out step {step} of the plan; call the tools you need."),
    "sub": ("agent-subquestion", "1", "Answer the sub-question {question} in one line."),
}
_PROMPT_FIELDS = {
    kind: {"prompt_name": name, "prompt_version": version, "prompt_hash": template_hash(text),
           "schema_version": "1.1"}
    for kind, (name, version, text) in PROMPTS.items()
}  # fmt: skip


def _ids(n: int) -> list[str]:
    return [uuid.uuid4().hex[:16] for _ in range(n)]


def seed_big_trace(
    warehouse: Warehouse,
    start: datetime,
    *,
    spans: int = 10_000,
    project: str = "demo",
    marker: str | None = None,
) -> dict[str, Any]:
    """Insert one trace of about ``spans`` spans starting at ``start``; returns its
    ``trace_id``, ``marker``, ``conversation_id`` and the number of spans per table."""
    trace_id = uuid.uuid4().hex
    marker = marker or f"agent-run-{trace_id[:12]}"
    conversation = f"conv-{trace_id[:12]}"
    t0 = int(start.timestamp() * 1000)
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in RAW_TABLES}
    common = {"project": project, "trace_id": trace_id, "conversation_id": conversation,
              "session_id": f"sess-{trace_id[:8]}", "user_id": "user-agent", "service": "agent",
              "metadata": "{}", "schema_version": "1.0"}  # fmt: skip

    def inference(span: str, parent: str, at: int, ms: int, text: str, kind: str) -> str:
        rid = str(uuid.uuid4())
        rows["inference_logs"].append({**common, **_PROMPT_FIELDS[kind], "request_id": rid,
            "span_id": span, "parent_span_id": parent, "provider": "openai", "model": "gpt-4o-mini",
            "started_at": at, "finished_at": at + ms, "latency_ms": float(ms), "status": "ok",
            "prompt_tokens": 400, "completion_tokens": 80, "total_tokens": 480,
            "cost_usd": 0.0001, "finish_reason": "tool_calls", "input_preview": text,
            "output_preview": "calling tools", "ingested_at": at + ms + 900})  # fmt: skip
        return rid

    def tool(span: str, parent: str, parent_rid: str, at: int, ms: int, name: str) -> None:
        rows["tool_executions"].append({**common, "request_id": str(uuid.uuid4()),
            "parent_request_id": parent_rid, "span_id": span, "parent_span_id": parent,
            "tool_name": name, "started_at": at, "finished_at": at + ms, "latency_ms": float(ms),
            "status": "ok", "args_preview": '{"q": "step"}', "result_preview": "42 rows",
            "ingested_at": at + ms + 900})  # fmt: skip

    root_span = uuid.uuid4().hex[:16]
    root = inference(root_span, "", t0, 2_000, f"Plan the migration ({marker})", "plan")
    count, step, at = 1, 0, t0 + 2_000
    while count < spans:
        step_span = uuid.uuid4().hex[:16]
        step_rid = inference(step_span, root_span, at, 800, f"step {step}", "step")
        count += 1
        for k in range(4):
            if count >= spans:
                break
            tool_span = uuid.uuid4().hex[:16]
            tool(tool_span, step_span, step_rid, at + 800 + k * 50, 40, _TOOLS[k % len(_TOOLS)])
            count += 1
            if k == 0 and count + 2 <= spans:  # a nested inference with its own tool call
                inner_span = uuid.uuid4().hex[:16]
                inner = inference(
                    inner_span, tool_span, at + 810, 20, f"sub-question {step}", "sub"
                )
                tool(uuid.uuid4().hex[:16], inner_span, inner, at + 825, 5, "calculator")
                count += 2
        if count < spans:
            rows["application_logs"].append({**common, "request_id": str(uuid.uuid4()),
                "timestamp": at + 1_000, "span_id": uuid.uuid4().hex[:16],
                "parent_span_id": step_span, "level": "INFO", "logger": "agent",
                "message": f"step {step} done", "attributes": "{}",
                "ingested_at": at + 1_900})  # fmt: skip
            count += 1
        step += 1
        at += 1_100
    rows["scores"].append({**common, "request_id": str(uuid.uuid4()), "timestamp": at,
        "target_request_id": root, "span_id": "", "parent_span_id": "", "name": "task_success",
        "value": 1.0, "comment": "", "source": "model", "ingested_at": at + 900})  # fmt: skip
    counts = {}
    for name, records in rows.items():
        schema = RAW_TABLES[name]
        columns = {f.name: [r.get(f.name) for r in records] for f in schema}
        for f in schema:
            if pa.types.is_string(f.type):
                columns[f.name] = ["" if v is None and f.name != "parent_request_id" else v
                                   for v in columns[f.name]]  # fmt: skip
        warehouse.insert_arrow(name, pa.Table.from_pydict(columns, schema=schema))
        counts[name] = len(records)
    return {"trace_id": trace_id, "marker": marker, "conversation_id": conversation,
            "spans": sum(counts.values()), "counts": counts}  # fmt: skip
