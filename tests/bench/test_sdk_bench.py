"""``ollive bench sdk`` runs end to end on a small load (figures are not asserted on: they are
the benchmark's business, not the tests')."""

from __future__ import annotations

from ollive.bench.sdk import render_table, run_sdk_bench


def test_bench_runs_and_checks_delivery() -> None:
    # a burst three times the default queue bound (20,000 events) reaches the disk buffer:
    # with 25,000 the export thread, shipping while the burst runs, kept the queue under the
    # bound once on a busy machine (nothing spilled, all delivered)
    figures = run_sdk_bench(calls=300, events=2_000, with_langfuse=False, burst_events=60_000)
    assert figures["ollive_delivered_all"] is True
    assert figures["ollive_burst_delivered_all"] is True and figures["ollive_burst_spilled"] > 0
    assert figures["ollive_per_call_events_delivered"] is True
    for key in ("ollive_inference_median_us", "ollive_tool_p99_us", "ollive_enqueue_events_per_s"):
        assert figures[key] > 0
    assert "delivered to local sink" in render_table(figures)
    assert "disk buffer" in render_table(figures)
