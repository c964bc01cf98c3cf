"""summary, latency, throughput, errors, usage on hand-written rows with known answers."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pandas as pd
import pytest

import ollive.insights as oi
from tests.insights.conftest import END

START = END - timedelta(hours=1)


def _traffic(insert: Any) -> None:
    rows = []
    for i in range(20):  # current hour: 20 requests, 2 models, 4 errors
        rows.append(
            {
                "started_at": START + timedelta(minutes=3 * i),
                "model": "m-fast" if i % 2 else "m-slow",
                "provider": "p1",
                "service": "svc",
                "latency_ms": 100.0 if i % 2 else 1000.0,
                "ttft_ms": 50.0 if i % 2 else None,
                "status": "error" if i < 4 else "ok",
                "error_code": "rate_limit" if i < 3 else ("server_error" if i < 4 else ""),
                "prompt_tokens": 10,
                "completion_tokens": 5,
                "total_tokens": 15,
                "cost_usd": 0.01,
                "user_id": f"u{i % 4}",
                "conversation_id": f"c{i % 5}",
            }
        )
    for i in range(10):  # previous hour: 10 requests, no errors
        rows.append({"started_at": START - timedelta(minutes=5 * i + 1), "model": "m-fast", "latency_ms": 100.0,
                     "status": "ok", "total_tokens": 15, "cost_usd": 0.01, "user_id": "u0"})  # fmt: skip
    insert("inference_logs", rows)


def test_summary_compares_with_previous_window(con: Any, insert: Any) -> None:
    _traffic(insert)
    df = oi.summary(con, start=START, end=END).set_index("metric")
    assert df.at["requests", "value"] == 20 and df.at["requests", "previous"] == 10
    assert df.at["requests", "change"] == pytest.approx(1.0)
    assert df.at["error_rate", "value"] == pytest.approx(0.2)
    assert df.at["users", "value"] == 4 and df.at["conversations", "value"] == 5
    assert df.at["cost_usd", "value"] == pytest.approx(0.2)
    assert 100 <= df.at["latency_p95_ms", "value"] <= 1000


def test_latency_from_aggregates_and_raw_agree(con: Any, insert: Any) -> None:
    _traffic(insert)
    mv = oi.latency(con, start=START, end=END, bucket=None, by="model").set_index("model")
    raw = oi.latency(
        con, start=START, end=END, bucket=None, by="model", user="u1"
    )  # user: raw table
    assert mv.at["m-slow", "latency_p50_ms"] == pytest.approx(1000.0)
    assert mv.at["m-fast", "latency_p50_ms"] == pytest.approx(100.0)
    assert mv.at["m-fast", "ttft_p95_ms"] == pytest.approx(50.0)
    assert set(raw["model"]) == {"m-fast"} and raw["requests"].sum() == 5


def test_latency_buckets_fine_and_coarse(con: Any, insert: Any) -> None:
    _traffic(insert)
    coarse = oi.latency(con, start=START, end=END, bucket="15m")
    fine = oi.latency(con, start=START, end=END, bucket="1m")
    assert coarse["requests"].sum() == fine["requests"].sum() == 20
    assert len(coarse) == 4 and len(fine) == 20
    assert pd.api.types.is_datetime64_any_dtype(coarse["bucket"])
    assert coarse["bucket"].iloc[0] == pd.Timestamp(START)


def test_throughput_and_errors(con: Any, insert: Any) -> None:
    _traffic(insert)
    tp = oi.throughput(con, start=START, end=END, bucket="30m")
    assert tp["requests"].tolist() == [10, 10] and tp["errors"].tolist() == [4, 0]
    assert tp["error_rate"].iloc[0] == pytest.approx(0.4)
    errs = oi.errors(con, start=START, end=END)
    assert errs["error_code"].tolist() == ["rate_limit", "server_error"]
    assert errs["errors"].tolist() == [3, 1]
    assert errs["share_of_requests"].iloc[0] == pytest.approx(3 / 20)


def test_usage_by_dimension(con: Any, insert: Any) -> None:
    _traffic(insert)
    by_model = oi.usage(con, start=START, end=END, by="model").set_index("model")
    assert by_model.at["m-fast", "total_tokens"] == 150 and by_model.at[
        "m-slow", "cost_usd"
    ] == pytest.approx(0.1)
    by_user = oi.usage(con, start=START, end=END, by="user")
    assert sorted(by_user["user"]) == ["u0", "u1", "u2", "u3"]
    hourly = oi.usage(con, start=START - timedelta(hours=1), end=END, by="service", bucket="1h")
    assert hourly["requests"].sum() == 30


@pytest.mark.parametrize(
    "value",
    ["m-fast' OR 1=1 --", "'; DROP TABLE inference_logs; --", 'm"fast', "m-fast\\", "%", "*"],
)
def test_filters_are_literals(con: Any, insert: Any, value: str) -> None:
    _traffic(insert)
    for fn in (oi.latency, oi.throughput, oi.usage, oi.top_conversations, oi.errors):
        assert fn(con, start=START, end=END, model=value).empty
    assert (
        oi.summary(con, start=START, end=END, user=value)
        .set_index("metric")
        .at["requests", "value"]
        == 0
    )
    assert oi.timeline(con, value).empty


def test_empty_warehouse_gives_empty_frames(con: Any) -> None:
    assert oi.summary(con)["value"].eq(0).all()
    for fn in (
        oi.latency,
        oi.throughput,
        oi.errors,
        oi.usage,
        oi.top_conversations,
        oi.tool_stats,
        oi.anomalies,
    ):
        assert fn(con).empty, fn.__name__


def test_expr_twins_are_ibis_expressions(con: Any, insert: Any) -> None:
    _traffic(insert)
    expr = oi.latency_expr(con, start=START, end=END, bucket=None, by="model")
    slow = expr.filter(expr.latency_p50_ms > 500).to_pandas()
    assert slow["model"].tolist() == ["m-slow"]


def test_bad_arguments_raise_config_errors(con: Any) -> None:
    from ollive.errors import ConfigError

    with pytest.raises(ConfigError):
        oi.latency(con, window="yesterday")
    with pytest.raises(ConfigError):
        oi.latency(con, by="colour")
    with pytest.raises(TypeError):
        oi.latency(con, colour="red")
