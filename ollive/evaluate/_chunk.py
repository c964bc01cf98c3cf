"""One chunk of an experiment, as a Ray worker runs it (plain Python, testable without Ray).

:func:`run_chunk` calls the task on each item (retrying a raising call), traces the call
with the SDK when the driver passed an endpoint, and runs every evaluator on the output;
it returns one outcome dict per item for the driver (:mod:`ollive.evaluate.experiments`)
to write. :func:`tracing_config` is what the driver passes.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from ollive.evaluate.evaluators import evaluator_name, output_text, run_evaluator

__all__ = ["EXPERIMENT_SERVICE", "run_chunk", "tracing_config"]

EXPERIMENT_SERVICE = "ollive-experiments"  # the service of an experiment's spans and scores
_MAX_OUTPUT_CHARS = 65_536
_SDK_VARIABLES = ("OLLIVE_ENDPOINT", "OLLIVE_API_KEY", "OLLIVE_SERVICE", "OLLIVE_SAMPLE_RATE")


def run_chunk(
    task: Callable[[dict[str, Any]], Any],
    evaluators: Sequence[Callable[..., Any]],
    items: Sequence[dict[str, Any]],
    ctx: dict[str, Any],
) -> list[dict[str, Any]]:
    """Run ``task`` and the evaluators over ``items``; one outcome dict per item."""
    _init_tracing(ctx.get("tracing") or {})
    return [_run_item(task, evaluators, item, ctx) for item in items]


def _run_item(
    task: Callable[[dict[str, Any]], Any],
    evaluators: Sequence[Callable[..., Any]],
    item: dict[str, Any],
    ctx: dict[str, Any],
) -> dict[str, Any]:
    from ollive import ids
    from ollive.sdk import conversation, tool_span

    run_id, item_id = ctx["run_id"], item["item_id"]
    output: Any = None
    error: str | None = None
    attempts = 0
    t0 = time.perf_counter()
    with conversation(f"{run_id}/{item_id}", session_id=run_id) as scope:
        span = tool_span(
            f"experiment:{ctx['name']}",
            kwargs={"input": item.get("input")},
            metadata={"experiment_run_id": run_id, "dataset": ctx["dataset"], "item_id": item_id},
        )
        request_id = span.request_id if span is not None else str(ids.uuid7())
        if span is not None:
            span.start(activate=True)
        t0 = time.perf_counter()
        for attempts in range(1, int(ctx["retries"]) + 2):  # noqa: B007 - attempts is used
            try:
                output = task(item)
                error = None
                break
            except Exception as exc:  # noqa: BLE001 - the task is the user's code
                error = f"{type(exc).__name__}: {exc}"[:2_000]
                if attempts <= int(ctx["retries"]):
                    time.sleep(float(ctx["retry_backoff_s"]) * 2 ** (attempts - 1))
        latency_ms = (time.perf_counter() - t0) * 1000
        if span is not None:
            span.end(RuntimeError(error) if error else None, None if error else output)
        trace_id = scope.trace_id
    usage = _usage(output)
    outcome: dict[str, Any] = {
        "item_id": item_id,
        "request_id": request_id,
        "trace_id": trace_id,
        "output": "" if error else _output_json(output),
        "error": error or "",
        "attempts": attempts,
        "latency_ms": latency_ms,
        "cost_usd": usage["cost_usd"],
        "prompt_tokens": usage["prompt_tokens"],
        "completion_tokens": usage["completion_tokens"],
        "finished_at": datetime.now(UTC),
        "scores": [],
    }
    if error:
        return outcome
    context = {
        "latency_ms": latency_ms,
        "cost_usd": usage["cost_usd"],
        "error": None,
        "trace_id": trace_id,
        "request_id": request_id,
    }
    problems = []
    for fn in evaluators:
        try:
            for score in run_evaluator(fn, item, output, **context):
                outcome["scores"].append(
                    (score.name, float(score.value), score.comment, dict(score.metadata))
                )
        except Exception as exc:  # noqa: BLE001 - a user evaluator; recorded per item
            problems.append(f"evaluator {evaluator_name(fn)}: {type(exc).__name__}: {exc}")
    if problems:
        outcome["error"] = "; ".join(problems)[:2_000]
    return outcome


_traced: dict[str, bool] = {}


def _init_tracing(config: dict[str, str]) -> None:
    """Start the SDK in this worker once, with the driver's settings (never raises)."""
    if not config.get("endpoint") or _traced.get("on"):
        return
    try:
        from ollive.sdk import init, is_enabled

        if not is_enabled():
            init(
                endpoint=config["endpoint"],
                api_key=config.get("api_key"),
                service=config.get("service") or EXPERIMENT_SERVICE,
            )
        _traced["on"] = True
    except Exception:  # noqa: BLE001 - tracing is best effort; the experiment goes on
        _traced["on"] = False


def tracing_config(given: dict[str, str] | None) -> dict[str, str]:
    """What the workers trace with: ``given``, else the driver's OLLIVE_* variables, else the
    running platform's ingest (from its run file) with the demo key."""
    if given is not None:
        return dict(given)
    env = {k: v for k in _SDK_VARIABLES if (v := os.environ.get(k))}
    if os.environ.get("OLLIVE_DISABLED", "").lower() in ("1", "true", "yes", "on"):
        return {}
    if "OLLIVE_ENDPOINT" in env:
        return {
            "endpoint": env["OLLIVE_ENDPOINT"],
            "api_key": env.get("OLLIVE_API_KEY", ""),
            "service": env.get("OLLIVE_SERVICE", EXPERIMENT_SERVICE),
        }
    try:
        from ollive.config import get_settings
        from ollive.config.runfile import read_run_file

        run = read_run_file(get_settings().run_file) or {}
    except Exception:  # noqa: BLE001 - no settings, no platform: no tracing
        return {}
    ingest = str(run.get("urls", {}).get("ingest", ""))
    if not ingest:
        return {}
    return {
        "endpoint": ingest.removesuffix("/logs"),
        "api_key": env.get("OLLIVE_API_KEY", "ollive-demo"),
        "service": EXPERIMENT_SERVICE,
    }


def _usage(output: Any) -> dict[str, Any]:
    """Tokens and cost the output tells of (a LangChain AIMessage's usage), else zeros."""
    usage = getattr(output, "usage_metadata", None) or {}
    prompt = int(usage.get("input_tokens", 0) or 0)
    completion = int(usage.get("output_tokens", 0) or 0)
    cost = None
    meta = getattr(output, "response_metadata", None) or {}
    model = meta.get("model_name") or meta.get("model")
    if model and (prompt or completion):
        from ollive.pricing import default_price_table

        provider = str(meta.get("model_provider") or "openai")
        cost = default_price_table().cost(provider, str(model), prompt, completion)
    return {"prompt_tokens": prompt, "completion_tokens": completion, "cost_usd": cost}


def _output_json(output: Any) -> str:
    try:
        text = json.dumps(output, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        text = json.dumps(output_text(output), ensure_ascii=False)
    if hasattr(output, "content") and not isinstance(output, dict):
        text = json.dumps(output_text(output), ensure_ascii=False)
    if len(text) > _MAX_OUTPUT_CHARS:
        text = json.dumps(output_text(output)[: _MAX_OUTPUT_CHARS - 100] + "…")
    return text
