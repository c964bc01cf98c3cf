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
from ollive.insights.filters import Filters, parse_duration
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
from ollive.insights.tools import decode_tool_calls, tool_stats, tool_stats_expr

__all__ = [
    "ANOMALY_COLUMNS",
    "TIMELINE_COLUMNS",
    "AlertRule",
    "Filters",
    "Firing",
    "WebhookNotifier",
    "anomalies",
    "anomalies_expr",
    "decode_tool_calls",
    "errors",
    "errors_expr",
    "evaluate",
    "latency",
    "latency_expr",
    "load_rules",
    "parse_duration",
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
    "usage",
    "usage_expr",
]
