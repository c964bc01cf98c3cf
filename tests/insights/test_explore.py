"""search, trace, users, sessions, scores and data_health on hand-written rows with known answers."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest

import ollive.insights as oi
from ollive.errors import ConfigError
from tests.insights.conftest import END

START = END - timedelta(hours=2)
T0 = START + timedelta(minutes=30)


def _agent_trace(insert: Any) -> dict[str, str]:
    """One agent trace: an inference calling two tools (one nested inference under the
    first), a log under the inference, a user score on it; plus a second, unrelated trace."""
    ids = {
        k: str(uuid.uuid4()) for k in ("root", "tool1", "tool2", "inner", "log", "score", "other")
    }
    s = timedelta(seconds=1)
    insert("inference_logs", [
        {"request_id": ids["root"], "trace_id": "tr-1", "span_id": "a", "started_at": T0,
         "finished_at": T0 + 10 * s, "ingested_at": T0 + 12 * s, "latency_ms": 10_000.0,
         "model": "gpt-4o", "service": "support", "user_id": "u1", "session_id": "s1",
         "conversation_id": "c1", "status": "ok", "cost_usd": 0.5, "total_tokens": 900,
         "input_preview": "Where is my parcel ZX-4471?", "output_preview": "It ships tomorrow."},
        {"request_id": ids["inner"], "trace_id": "tr-1", "span_id": "c", "parent_span_id": "b",
         "started_at": T0 + 2 * s, "finished_at": T0 + 3 * s, "ingested_at": T0 + 4 * s,
         "latency_ms": 1_000.0, "model": "mini", "service": "support", "user_id": "u1",
         "session_id": "s1", "conversation_id": "c1", "status": "error", "cost_usd": 0.01,
         "error_message": "Upstream 100% Overloaded_now", "input_preview": "summarise"},
        {"request_id": ids["other"], "trace_id": "tr-2", "span_id": "z", "started_at": T0,
         "finished_at": T0 + 2 * s, "ingested_at": T0 + 62 * s, "latency_ms": 2_000.0,
         "model": "mini", "service": "search", "user_id": "u2", "session_id": "s2",
         "conversation_id": "c2", "status": "ok", "cost_usd": 0.002, "total_tokens": 30,
         "input_preview": "hello", "output_preview": "hi there"},
    ])  # fmt: skip
    insert("tool_executions", [
        {"request_id": ids["tool1"], "parent_request_id": ids["root"], "trace_id": "tr-1",
         "span_id": "b", "parent_span_id": "a", "started_at": T0 + 1 * s,
         "finished_at": T0 + 4 * s, "ingested_at": T0 + 5 * s, "latency_ms": 3_000.0,
         "tool_name": "lookup_parcel", "service": "support", "user_id": "u1", "session_id": "s1",
         "conversation_id": "c1", "status": "ok", "args_preview": '{"parcel": "ZX-4471"}'},
        # no parent span: hangs under the inference that called it (parent_request_id)
        {"request_id": ids["tool2"], "parent_request_id": ids["root"], "trace_id": "tr-1",
         "span_id": "d", "started_at": T0 + 5 * s, "finished_at": T0 + 6 * s,
         "ingested_at": T0 + 7 * s, "latency_ms": 1_000.0, "tool_name": "send_email",
         "service": "support", "conversation_id": "c1", "status": "ok"},
    ])  # fmt: skip
    insert("application_logs", [
        {"request_id": ids["log"], "trace_id": "tr-1", "span_id": "l", "parent_span_id": "a",
         "timestamp": T0 + 9 * s, "ingested_at": T0 + 10 * s, "service": "support",
         "level": "WARNING", "logger": "app", "message": "carrier api slow", "conversation_id": "c1"},
    ])  # fmt: skip
    insert("scores", [
        {"request_id": ids["score"], "trace_id": "tr-1", "timestamp": T0 + 30 * s,
         "ingested_at": T0 + 31 * s, "target_request_id": ids["root"], "name": "thumbs_up",
         "value": 0.0, "source": "user", "service": "support", "conversation_id": "c1"},
    ])  # fmt: skip
    return ids


def test_search_text_is_a_case_insensitive_substring_of_every_kind(con: Any, insert: Any) -> None:
    ids = _agent_trace(insert)
    found = oi.search(con, "zx-44", start=START, end=END)
    assert set(found.request_id) == {ids["root"], ids["tool1"]}
    assert list(found.columns) == list(oi.SEARCH_COLUMNS)
    assert oi.search(con, "CARRIER API", start=START, end=END).kind.tolist() == ["log"]
    # LIKE wildcards in the text are literal characters
    assert oi.search(con, "100% overloaded_", start=START, end=END).request_id.tolist() == [
        ids["inner"]
    ]
    assert oi.search(con, "100_ overloaded", start=START, end=END).empty
    assert oi.search(con, "o'reilly'); DROP TABLE scores; --", start=START, end=END).empty


def test_search_filters_orders_and_pages(con: Any, insert: Any) -> None:
    ids = _agent_trace(insert)
    window = {"start": START, "end": END}
    assert oi.search(con, status="error", **window).request_id.tolist() == [ids["inner"]]
    assert oi.search(con, status="WARNING", **window).kind.tolist() == ["log"]
    slow = oi.search(con, min_latency_ms=2_500, order_by="latency", **window)
    assert slow.request_id.tolist() == [ids["root"], ids["tool1"]]
    assert oi.search(con, min_cost_usd=0.1, **window).request_id.tolist() == [ids["root"]]
    assert set(oi.search(con, model="mini", **window).request_id) == {ids["inner"], ids["other"]}
    assert set(oi.search(con, user="u2", **window).request_id) == {ids["other"]}
    assert oi.search(con, score=("thumbs_up", "<", 1), **window).request_id.tolist() == [
        ids["root"]
    ]
    assert oi.search(con, score=("thumbs_up", ">=", 1), **window).empty
    every = oi.search(con, **window)
    assert len(every) == 6 and every.timestamp.is_monotonic_decreasing
    pages = [oi.search(con, limit=2, offset=o, **window) for o in (0, 2, 4)]
    assert [r for p in pages for r in p.request_id] == every.request_id.tolist()
    assert set(oi.search(con, kinds=["tool"], **window).kind) == {"tool"}
    assert oi.search(con, trace="tr-2", **window).request_id.tolist() == [ids["other"]]


def test_search_rejects_what_it_cannot_do(con: Any) -> None:
    with pytest.raises(ConfigError, match="order search results"):
        oi.search(con, order_by="vibes")
    with pytest.raises(ConfigError, match="score operator"):
        oi.search(con, score=("thumbs_up", "~", 1))
    with pytest.raises(ConfigError, match="unknown kind"):
        oi.search(con, kinds=["span"])
    with pytest.raises(ConfigError, match="no event kind"):
        oi.search(con, kinds=["log"], model="gpt-4o")
    with pytest.raises(ConfigError, match="limit"):
        oi.search(con, limit=0)


def test_search_uses_the_text_skip_index(con: Any, warehouse: Any) -> None:
    import ibis

    sql = ibis.to_sql(oi.search_expr(con, "parcel", kinds=["inference"]), dialect="clickhouse")
    plan = "\n".join(warehouse.query_arrow("EXPLAIN indexes = 1 " + sql).column(0).to_pylist())
    assert "idx_search" in plan


def test_trace_is_a_tree_in_order_with_offsets(con: Any, insert: Any) -> None:
    ids = _agent_trace(insert)
    spans = oi.trace(con, "tr-1")
    assert spans.request_id.tolist() == [
        ids["root"], ids["tool1"], ids["inner"], ids["tool2"], ids["log"], ids["score"]
    ]  # fmt: skip
    assert spans.depth.tolist() == [0, 1, 2, 1, 1, 1]
    assert spans.kind.tolist() == ["inference", "tool", "inference", "tool", "log", "score"]
    assert spans.start_offset_ms.tolist() == [0.0, 1000.0, 2000.0, 5000.0, 9000.0, 30000.0]
    assert spans.duration_ms.tolist()[:4] == [10_000.0, 3_000.0, 1_000.0, 1_000.0]
    assert spans.loc[spans.kind == "score", "value"].tolist() == [0.0]
    assert spans.loc[0, "input"] == "Where is my parcel ZX-4471?"
    by_conversation = oi.trace(con, conversation_id="c1")
    assert sorted(by_conversation.request_id) == sorted(spans.request_id)
    empty = oi.trace(con, "no-such-trace")
    assert empty.empty and {"depth", "start_offset_ms", "duration_ms"} <= set(empty.columns)
    with pytest.raises(ConfigError, match="exactly one"):
        oi.trace(con)


def test_span_tree_survives_a_parent_cycle() -> None:
    import pandas as pd

    rows = [
        {"kind": "tool", "span_id": "x", "parent_span_id": "y", "request_id": "1",
         "parent_request_id": None, "started_at": pd.Timestamp(0, unit="s", tz="UTC"),
         "finished_at": pd.Timestamp(1, unit="s", tz="UTC"), "latency_ms": 1000.0},
        {"kind": "tool", "span_id": "y", "parent_span_id": "x", "request_id": "2",
         "parent_request_id": None, "started_at": pd.Timestamp(1, unit="s", tz="UTC"),
         "finished_at": pd.Timestamp(2, unit="s", tz="UTC"), "latency_ms": None},
    ]  # fmt: skip
    out = oi.span_tree(pd.DataFrame(rows))
    assert sorted(out.request_id) == ["1", "2"] and out.depth.tolist() == [0, 0]
    assert out.duration_ms.tolist() == [1000.0, 1000.0]


def test_users_and_sessions(con: Any, insert: Any) -> None:
    _agent_trace(insert)
    users = oi.users(con, start=START, end=END, order_by="cost")
    assert users.user_id.tolist() == ["u1", "u2"]
    u1 = users.iloc[0]
    assert (u1.requests, u1.errors, u1.sessions, u1.conversations) == (2, 1, 1, 1)
    assert u1.error_rate == pytest.approx(0.5) and u1.cost_usd == pytest.approx(0.51)
    assert u1.first_seen == T0 and u1.last_seen == T0 + timedelta(seconds=10)
    sessions = oi.sessions(con, start=START, end=END)
    assert set(sessions.session_id) == {"s1", "s2"}
    s1 = oi.sessions(con, start=START, end=END, session="s1").iloc[0]
    assert (s1.user_id, s1.requests, s1.duration_s) == ("u1", 2, 10.0)
    with pytest.raises(ConfigError, match="order by"):
        oi.users(con, order_by="height")


def test_scores_per_name_over_time_and_by_model(con: Any, insert: Any) -> None:
    ids = _agent_trace(insert)
    insert("scores", [
        {"timestamp": T0 + timedelta(minutes=5), "target_request_id": ids["other"],
         "name": "thumbs_up", "value": 1.0, "source": "user"},
        {"timestamp": T0 + timedelta(minutes=5), "target_request_id": ids["other"],
         "name": "helpfulness", "value": 0.8, "source": "model"},
    ])  # fmt: skip
    overall = oi.scores(con, start=START, end=END).set_index("name")
    assert overall.loc["thumbs_up", "count"] == 2
    assert overall.loc["thumbs_up", "mean"] == pytest.approx(0.5)
    assert overall.loc["thumbs_up", "share_positive"] == pytest.approx(0.5)
    by_model = oi.scores(con, start=START, end=END, name="thumbs_up", by="model")
    assert dict(zip(by_model.model, by_model["mean"], strict=True)) == {"gpt-4o": 0.0, "mini": 1.0}
    only_mini = oi.scores(con, start=START, end=END, model="mini")
    assert set(only_mini.name) == {"thumbs_up", "helpfulness"} and only_mini["count"].sum() == 2
    bucketed = oi.scores(con, start=START, end=END, bucket="1h", name="thumbs_up")
    assert bucketed["count"].sum() == 2 and "bucket" in bucketed.columns


def test_data_health_lag_pipeline_and_freshness(con: Any, insert: Any, warehouse: Any) -> None:
    import pyarrow as pa

    from ollive.store.pipeline_stats import PipelineReport

    _agent_trace(insert)
    report = PipelineReport("w-0")
    report.note("ingest-a", {"accepted": 7, "rejected": 2, "duplicates": 1})
    rows = report.rows(
        int((T0 + timedelta(minutes=1)).timestamp() * 1000),
        {"rows_committed": 7, "rows_spooled": 0, "insert_failures": 1},
        {"spool_files": 3, "spool_bytes": 4096, "inflight_rows": 5},
    )
    assert isinstance(rows, pa.Table)
    warehouse.insert_arrow("pipeline_stats", rows)
    health = oi.data_health(con, start=START, end=END)
    lag = health.lag.set_index(["kind", "service"])
    assert lag.loc[("inference", "search"), "lag_p50_ms"] == 60_000.0
    assert lag.loc[("inference", "support"), "events"] == 2
    assert lag.loc[("log", "support"), "lag_max_ms"] == 1_000.0
    summary = dict(zip(health.summary.metric, health.summary.value, strict=True))
    assert (summary["accepted"], summary["rejected"], summary["duplicates"]) == (7, 2, 1)
    assert (summary["dead_letter_files"], summary["insert_failures"]) == (3, 1)
    assert summary["aggregates_behind_s"] == 0.0
    assert set(health.freshness["aggregate"]) == {"inference_stats_5m", "tool_stats_5m"}
    assert "<h4>Pipeline</h4>" in health._repr_html_()


def test_pipeline_report_keeps_counts_when_an_insert_fails() -> None:
    from ollive.store.pipeline_stats import PipelineReport

    report = PipelineReport("w-1")
    report.note("ingest-a", {"accepted": 5})
    first = report.rows(1, {"rows_committed": 10}, {})
    report.restore(first)  # the insert failed
    report.note("ingest-a", {"accepted": 1, "rejected": 1})
    second = report.rows(2, {"rows_committed": 12}, {"spool_files": 1})
    by = {r["component"]: r for r in second.to_pylist()}
    assert (by["ingest"]["accepted"], by["ingest"]["rejected"]) == (6, 1)
    assert by["writer"]["rows_committed"] == 12 and by["writer"]["spool_files"] == 1
    third = report.rows(3, {"rows_committed": 12}, {})
    assert [r["rows_committed"] for r in third.to_pylist()] == [0]
    with pytest.raises(ValueError, match="unknown ingest counters"):
        report.note("ingest-a", {"accepted": 1, "bogus": 2})
