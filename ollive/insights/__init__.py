"""Insights over the warehouse, as Ibis expressions and pandas DataFrames.

Every function takes a connection (``ollive.connect()``) and filters — a :class:`Filters`
and/or the keywords ``window="24h"`` or ``start=``/``end=``, ``project``, ``service``,
``provider``, ``model``, ``user`` — and returns a pandas DataFrame. Each has an ``*_expr``
twin with the same arguments returning the Ibis expression it executes, to refine further:

>>> import ollive
>>> con = ollive.connect()                                     # doctest: +SKIP
>>> ollive.insights.latency(con, window="24h", by="model")     # doctest: +SKIP
>>> expr = ollive.insights.latency_expr(con, bucket="1h")      # doctest: +SKIP
>>> expr.filter(expr.latency_p95_ms > 1000).to_pandas()        # doctest: +SKIP

Explore: ``search`` (text and filters) -> ``trace`` (the span tree) -> ``timeline``, and
``users``, ``sessions``, ``scores``, ``data_health`` (the pipeline's own lag, rejects, dead
letters and aggregate freshness). Quality: ``prompts`` (latency, cost, errors and scores per
prompt version), ``experiment_runs``, ``experiment_results``, ``compare_runs``, ``datasets``
and ``evaluation_state`` (what ``ollive.evaluate`` wrote).

Filter values are bound as Ibis literals, never pasted into SQL.
"""

from __future__ import annotations

from ollive.insights.alerts import AlertRule, Firing, WebhookNotifier, evaluate, load_rules
from ollive.insights.anomalies import ANOMALY_COLUMNS, anomalies, anomalies_expr
from ollive.insights.conversations import (
    TIMELINE_COLUMNS,
    timeline,
    timeline_expr,
    top_conversations,
    top_conversations_expr,
)
from ollive.insights.evaluations import (
    RESULT_COLUMNS,
    compare_runs,
    dataset_versions,
    datasets,
    evaluation_state,
    experiment_results,
    experiment_runs,
    run_summary,
    scores_by_origin,
    scores_by_origin_expr,
)
from ollive.insights.export import ExportReport, export
from ollive.insights.filters import Filters, parse_duration
from ollive.insights.health import DataHealth, data_health, data_health_expr
from ollive.insights.metrics import (
    errors,
    errors_expr,
    latency,
    latency_expr,
    summary,
    summary_expr,
    throughput,
    throughput_expr,
    usage,
    usage_expr,
)
from ollive.insights.people import sessions, sessions_expr, users, users_expr
from ollive.insights.prompts import PROMPT_COLUMNS, prompts, prompts_expr
from ollive.insights.scores import scores, scores_expr
from ollive.insights.search import SEARCH_COLUMNS, search, search_expr
from ollive.insights.tools import decode_tool_calls, tool_stats, tool_stats_expr
from ollive.insights.traces import TRACE_COLUMNS, span_tree, trace, trace_expr

__all__ = [
    "ANOMALY_COLUMNS",
    "PROMPT_COLUMNS",
    "RESULT_COLUMNS",
    "SEARCH_COLUMNS",
    "TIMELINE_COLUMNS",
    "TRACE_COLUMNS",
    "AlertRule",
    "DataHealth",
    "ExportReport",
    "Filters",
    "Firing",
    "WebhookNotifier",
    "anomalies",
    "anomalies_expr",
    "data_health",
    "data_health_expr",
    "decode_tool_calls",
    "errors",
    "errors_expr",
    "evaluate",
    "export",
    "latency",
    "latency_expr",
    "compare_runs",
    "dataset_versions",
    "datasets",
    "evaluation_state",
    "experiment_results",
    "experiment_runs",
    "run_summary",
    "scores_by_origin",
    "scores_by_origin_expr",
    "load_rules",
    "parse_duration",
    "prompts",
    "prompts_expr",
    "scores",
    "scores_expr",
    "search",
    "search_expr",
    "sessions",
    "sessions_expr",
    "span_tree",
    "summary",
    "summary_expr",
    "throughput",
    "throughput_expr",
    "timeline",
    "timeline_expr",
    "tool_stats",
    "tool_stats_expr",
    "top_conversations",
    "top_conversations_expr",
    "trace",
    "trace_expr",
    "usage",
    "usage_expr",
    "users",
    "users_expr",
]
