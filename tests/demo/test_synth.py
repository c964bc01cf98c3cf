"""Synthetic data: realistic shape, linked events, injected incidents, idempotent seeding."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ollive.demo.synth import seed_warehouse
from ollive.pricing import default_price_table

END = datetime(2026, 11, 28, 0, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def seeded(warehouse):  # type: ignore[no-untyped-def]
    project = "synth-test"
    report = seed_warehouse(warehouse, events=120_000, days=14, end=END, seed=7, project=project)
    return warehouse, project, report


def q(wh, sql: str):  # type: ignore[no-untyped-def]
    return wh.query_arrow(sql).to_pylist()


def test_volume_and_tables(seeded) -> None:  # type: ignore[no-untyped-def]
    wh, project, report = seeded
    assert 100_000 <= report.total <= 140_000
    for table, count in report.counts.items():
        assert count > 0
        assert wh.scalar(f"SELECT count() FROM {table} WHERE project = '{project}'") == count


def test_providers_and_models_are_priced(seeded) -> None:  # type: ignore[no-untyped-def]
    wh, project, _ = seeded
    rows = q(wh, f"SELECT DISTINCT provider, model FROM inference_logs WHERE project = '{project}'")
    assert len({r["provider"] for r in rows}) >= 3 and len(rows) >= 8
    table = default_price_table()
    assert all(table.lookup(r["provider"], r["model"]) is not None for r in rows)


def test_error_rate_and_long_tail(seeded) -> None:  # type: ignore[no-untyped-def]
    wh, project, report = seeded
    burst = next(i for i in report.incidents if i.kind == "error_burst")
    row = q(
        wh,
        "SELECT countIf(status IN ('error','timeout')) / count() AS rate, quantile(0.5)(latency_ms) AS p50, "
        f"quantile(0.99)(latency_ms) AS p99 FROM inference_logs WHERE project = '{project}' "
        f"AND NOT (provider = 'google' AND started_at >= toDateTime64('{burst.start:%Y-%m-%d %H:%M:%S}', 3, 'UTC') "
        f"AND started_at < toDateTime64('{burst.end:%Y-%m-%d %H:%M:%S}', 3, 'UTC'))",
    )[0]
    assert 0.03 <= row["rate"] <= 0.05
    assert row["p99"] > 4 * row["p50"]


def test_diurnal_and_weekly_pattern(seeded) -> None:  # type: ignore[no-untyped-def]
    wh, project, _ = seeded
    hours = {
        r["h"]: r["n"]
        for r in q(
            wh,
            f"SELECT toHour(started_at) AS h, count() AS n FROM inference_logs WHERE project = '{project}' GROUP BY h",
        )
    }
    assert max(hours.values()) > 2 * min(hours.values())
    days = {
        r["d"]: r["n"]
        for r in q(
            wh,
            f"SELECT toDayOfWeek(started_at) AS d, count() AS n FROM inference_logs WHERE project = '{project}' GROUP BY d",
        )
    }
    assert (days[6] + days[7]) / 2 < 0.8 * sum(days[d] for d in range(1, 6)) / 5


def test_tools_scores_and_conversations_are_linked(seeded) -> None:  # type: ignore[no-untyped-def]
    wh, project, _ = seeded
    orphans = wh.scalar(
        f"SELECT count() FROM tool_executions WHERE project = '{project}' AND parent_request_id NOT IN "
        f"(SELECT request_id FROM inference_logs WHERE project = '{project}')"
    )
    assert orphans == 0
    orphan_scores = wh.scalar(
        f"SELECT count() FROM scores WHERE project = '{project}' AND target_request_id NOT IN "
        f"(SELECT request_id FROM inference_logs WHERE project = '{project}')"
    )
    assert orphan_scores == 0
    row = q(
        wh,
        f"SELECT uniq(conversation_id) AS c, uniq(user_id) AS u, uniq(session_id) AS s, count() AS n FROM inference_logs WHERE project = '{project}'",
    )[0]
    assert 2 < row["n"] / row["c"] < 8 and row["u"] > 100 and row["s"] > row["u"]


def test_injected_latency_spike_is_in_the_data(seeded) -> None:  # type: ignore[no-untyped-def]
    wh, project, report = seeded
    spike = next(i for i in report.incidents if i.kind == "latency_spike")
    inside = f"started_at >= toDateTime64('{spike.start:%Y-%m-%d %H:%M:%S}', 3, 'UTC') AND started_at < toDateTime64('{spike.end:%Y-%m-%d %H:%M:%S}', 3, 'UTC')"
    row = q(
        wh,
        f"SELECT quantileIf(0.5)(latency_ms, {inside}) AS during, quantileIf(0.5)(latency_ms, NOT ({inside})) AS normal "
        f"FROM inference_logs WHERE project = '{project}' AND model = 'claude-sonnet-4'",
    )[0]
    assert row["during"] > 3 * row["normal"]


def test_reseeding_the_same_seed_adds_nothing(seeded) -> None:  # type: ignore[no-untyped-def]
    wh, project, report = seeded
    again = seed_warehouse(wh, events=120_000, days=14, end=END, seed=7, project=project)
    assert again.counts == report.counts
    assert (
        wh.scalar(f"SELECT count() FROM inference_logs WHERE project = '{project}'")
        == report.counts["inference_logs"]
    )
