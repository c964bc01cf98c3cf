"""``ollive bench insights``: latency of every insight function, of the explorer's search,
traces (a seeded 10,000-span trace), users, sessions, scores and data health, and of a full
refresh of every dashboard page."""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from typing import Any

__all__ = ["run_insights_bench"]


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"p50_ms": round(statistics.median(ordered) * 1000, 1), "p95_ms": round(p95 * 1000, 1)}


def _time(fn: Callable[[], Any], repeats: int) -> dict[str, float]:
    fn()  # warm-up (compilation, caches)
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return _percentiles(samples)


def run_insights_bench(
    events: int,
    repeats: int = 20,
    warehouse_url: str | None = None,
    echo: Callable[[str], Any] = print,
) -> dict[str, Any]:
    """Seed ``events`` synthetic events into chDB (a fresh temp directory unless a URL is
    given), then time every insight function (24h window; MV-backed and raw variants) and
    a full dashboard refresh. Returns the figures."""
    import ollive.insights as oi
    from ollive.demo.synth import seed_warehouse
    from ollive.store import connect

    url = warehouse_url or f"chdb://{tempfile.mkdtemp(prefix='ollive-bench-insights-')}"
    con = connect(url, project="demo")
    if con.warehouse.scalar("SELECT count() FROM inference_logs WHERE project = 'demo'") == 0:
        echo(f"seeding {events:,} events into {url}")
        report = seed_warehouse(con.warehouse, events=events, project="demo", progress=True)
        echo(f"seeded {report.total:,} rows in {report.seconds:.1f} s")
    big = _big_trace(con, echo)
    rows = int(con.warehouse.scalar("SELECT count() FROM inference_logs WHERE project = 'demo'"))
    conversation = str(oi.top_conversations(con, window="24h", limit=1)["conversation_id"].iloc[0])
    user = str(oi.users(con, window="24h", limit=1)["user_id"].iloc[0])
    cases: dict[str, Callable[[], Any]] = {
        "summary": lambda: oi.summary(con, window="24h"),
        "latency_mv_5m_by_model": lambda: oi.latency(con, window="24h", bucket="5m", by="model"),
        "latency_raw_1m": lambda: oi.latency(con, window="24h", bucket="1m"),
        "throughput_mv_15m": lambda: oi.throughput(con, window="24h", bucket="15m"),
        "errors_raw": lambda: oi.errors(con, window="24h"),
        "usage_mv_by_model": lambda: oi.usage(con, window="24h", by="model"),
        "usage_raw_by_user": lambda: oi.usage(con, window="24h", by="user"),
        "top_conversations_raw": lambda: oi.top_conversations(con, window="24h"),
        "timeline_raw": lambda: oi.timeline(con, conversation),
        "tool_stats_mv": lambda: oi.tool_stats(con, window="24h"),
        "anomalies_mv_by_model": lambda: oi.anomalies(con, window="24h", by="model"),
        # explore: a rare text (one trace's marker), a common one, filters only, a big trace
        "search_text_rare": lambda: oi.search(con, big["marker"], window="24h"),
        "search_text_common": lambda: oi.search(con, "refund", window="24h"),
        "search_text_7d": lambda: oi.search(con, big["marker"], window="7d"),
        "search_filters_only": lambda: oi.search(
            con, status="error", min_latency_ms=2000, window="24h", order_by="latency"
        ),
        "search_by_user": lambda: oi.search(con, user=user, window="24h"),
        "trace_10k_spans": lambda: oi.trace(con, big["trace_id"]),
        "users": lambda: oi.users(con, window="24h"),
        "sessions": lambda: oi.sessions(con, window="24h"),
        "scores_by_model": lambda: oi.scores(con, window="24h", by="model"),
        "scores_daily_7d": lambda: oi.scores(con, window="7d", bucket="1d"),
        "data_health": lambda: oi.data_health(con, window="24h"),
    }
    figures: dict[str, Any] = {
        "bench": "insights",
        "engine": "chdb",
        "events": events,
        "inference_rows": rows,
        "big_trace_spans": big["spans"],
    }
    for name, fn in cases.items():
        figures[name] = _time(fn, repeats)
        echo(
            f"{name:28s} p50 {figures[name]['p50_ms']:8.1f} ms   p95 {figures[name]['p95_ms']:8.1f} ms"
        )
    figures["dashboard_refresh"] = _dashboard(con, max(3, repeats // 4))
    figures["dashboard_new_session"] = _dashboard_cold(con, max(3, repeats // 4))
    pages = _pages(con, max(3, repeats // 4), big["trace_id"], user)
    figures.update(pages)
    for name in ("dashboard_refresh", "dashboard_new_session", *pages):
        echo(
            f"{name:28s} p50 {figures[name]['p50_ms']:8.1f} ms   p95 {figures[name]['p95_ms']:8.1f} ms"
        )
    return figures


def _dashboard(con: Any, repeats: int) -> dict[str, float]:
    """A periodic refresh of a displayed dashboard (anomalies re-detected once per hour)."""
    from ollive.ui import Dashboard

    dash = Dashboard(con, refresh_s=0)
    return _time(dash.refresh, repeats)


def _pages(con: Any, repeats: int, trace_id: str, user: str) -> dict[str, dict[str, float]]:
    """A full refresh of every page of the explorer (Traces with the big trace open,
    Users with a user selected), as a displayed page re-queries."""
    from ollive.ui import PAGES, FilterBar

    bar = FilterBar(con)
    state = {"Traces": {"trace_id": trace_id}, "Users": {"user": user}}
    out = {}
    for cls in PAGES:
        page = cls(con, bar, query=state.get(cls.__name__))
        out[f"page_{cls.__name__.lower()}_refresh"] = _time(page.refresh, repeats)
    return out


def _dashboard_cold(con: Any, repeats: int) -> dict[str, float]:
    """Building a new Dashboard: what a new browser session waits for (every query)."""
    from ollive.ui import Dashboard

    return _time(lambda: Dashboard(con, refresh_s=0), repeats)


def _big_trace(con: Any, echo: Callable[[str], Any]) -> dict[str, Any]:
    """The 10,000-span trace of the warehouse (seeded an hour ago when missing)."""
    from datetime import UTC, datetime, timedelta

    from ollive.demo.big_trace import seed_big_trace

    found = con.warehouse.query_arrow(
        "SELECT trace_id, input_preview FROM inference_logs WHERE project = 'demo' "
        "AND service = 'agent' AND parent_span_id = '' AND started_at > now() - INTERVAL 1 DAY "
        "LIMIT 1"
    ).to_pylist()
    if found:
        trace_id = found[0]["trace_id"]
        marker = found[0]["input_preview"].rsplit("(", 1)[-1].rstrip(")")
        import ollive.insights as oi

        spans = len(oi.trace(con, trace_id))
        return {"trace_id": trace_id, "marker": marker, "spans": spans}
    info = seed_big_trace(con.warehouse, datetime.now(UTC) - timedelta(hours=1), project="demo")
    echo(f"seeded a {info['spans']:,}-span trace ({info['trace_id']})")
    return info
