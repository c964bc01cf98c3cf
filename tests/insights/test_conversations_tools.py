"""top_conversations, timeline and tool_stats on hand-written rows."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest

import ollive.insights as oi
from tests.insights.conftest import END

START = END - timedelta(hours=1)


def _conversation(insert: Any) -> dict[str, str]:
    inf1, inf2, tool, score = (str(uuid.uuid4()) for _ in range(4))
    t0 = START + timedelta(minutes=10)
    insert("inference_logs", [
        {"request_id": inf1, "started_at": t0, "conversation_id": "c-big", "session_id": "s1", "user_id": "u1",
         "model": "gpt-4o", "latency_ms": 900.0, "total_tokens": 1000, "cost_usd": 0.5, "status": "ok",
         "span_id": "sp1", "output_preview": "let me look that up"},
        {"request_id": inf2, "started_at": t0 + timedelta(seconds=5), "conversation_id": "c-big", "session_id": "s1",
         "user_id": "u1", "model": "gpt-4o", "latency_ms": 700.0, "total_tokens": 500, "cost_usd": 0.25,
         "status": "error", "span_id": "sp3"},
        {"started_at": t0, "conversation_id": "c-small", "session_id": "s2", "user_id": "u2", "model": "mini",
         "latency_ms": 2000.0, "total_tokens": 10, "cost_usd": 0.001, "status": "ok"},
    ])  # fmt: skip
    insert("tool_executions", [
        {"request_id": tool, "parent_request_id": inf1, "started_at": t0 + timedelta(seconds=1), "conversation_id": "c-big",
         "session_id": "s1", "tool_name": "lookup_order", "latency_ms": 40.0, "status": "ok", "span_id": "sp2",
         "parent_span_id": "sp1"},
        {"started_at": t0, "tool_name": "run_sql", "latency_ms": 900.0, "status": "error", "conversation_id": "c-small"},
        {"started_at": t0, "tool_name": "run_sql", "latency_ms": 1100.0, "status": "ok"},
    ])  # fmt: skip
    insert("application_logs", [
        {"timestamp": t0 + timedelta(seconds=2), "conversation_id": "c-big", "session_id": "s1", "level": "INFO",
         "logger": "app", "message": "order found"},
    ])  # fmt: skip
    insert("scores", [
        {"request_id": score, "timestamp": t0 + timedelta(seconds=10), "target_request_id": inf2,
         "conversation_id": "c-big", "session_id": "s1", "name": "thumbs", "value": 0.0, "source": "user"},
    ])  # fmt: skip
    return {"inf1": inf1, "inf2": inf2, "tool": tool, "score": score}


def test_top_conversations_rankings(con: Any, insert: Any) -> None:
    _conversation(insert)
    by_cost = oi.top_conversations(con, start=START, end=END, by="cost")
    assert by_cost["conversation_id"].tolist() == ["c-big", "c-small"]
    top = by_cost.iloc[0]
    assert top["requests"] == 2 and top["errors"] == 1 and top["total_tokens"] == 1500
    assert top["cost_usd"] == pytest.approx(0.75) and list(top["models"]) == ["gpt-4o"]
    by_latency = oi.top_conversations(con, start=START, end=END, by="latency", limit=1)
    assert by_latency["conversation_id"].tolist() == ["c-small"]


def test_timeline_orders_every_kind_with_links(con: Any, insert: Any) -> None:
    ids = _conversation(insert)
    tl = oi.timeline(con, "c-big")
    assert tl["kind"].tolist() == ["inference", "tool", "log", "inference", "score"]
    assert tl["timestamp"].is_monotonic_increasing
    tool = tl[tl.kind == "tool"].iloc[0]
    assert tool["parent_request_id"] == ids["inf1"] and tool["parent_span_id"] == "sp1"
    score = tl[tl.kind == "score"].iloc[0]
    assert (
        score["parent_request_id"] == ids["inf2"]
        and score["name"] == "thumbs"
        and score["value"] == 0.0
    )
    assert tl.columns.tolist() == list(oi.TIMELINE_COLUMNS)
    by_session = oi.timeline(con, session_id="s1")
    assert len(by_session) == 5


def test_tool_stats_slowest_first(con: Any, insert: Any) -> None:
    _conversation(insert)
    stats = oi.tool_stats(con, start=START, end=END)
    assert stats["tool_name"].tolist() == ["run_sql", "lookup_order"]
    run_sql = stats.iloc[0]
    assert run_sql["calls"] == 2 and run_sql["error_rate"] == pytest.approx(0.5)
    assert 900 <= run_sql["latency_p95_ms"] <= 1100
    fine = oi.tool_stats(con, start=START, end=END, bucket="1m", by=("service", "tool_name"))
    assert fine["calls"].sum() == 3
