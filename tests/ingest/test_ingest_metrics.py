"""Prometheus text of a replica and its writers."""

from __future__ import annotations

from ollive.ingest import IngestMetrics


def test_render_includes_replica_counters_and_writer_figures() -> None:
    metrics = IngestMetrics()
    metrics.observe_batch(accepted=7, rejected=1, duplicates=2, redactions={"EMAIL_ADDRESS": 3})
    writer = {
        "writer": "w0",
        "inflight_rows": 5,
        "spool_files": 1,
        "spool_bytes": 100,
        "commit_buckets": [(0.1, 2), (float("inf"), 3)],
        "commit_seconds_sum": 0.4,
        **dict.fromkeys(
            (
                "flushes",
                "rows_committed",
                "rows_spooled",
                "rows_replayed",
                "rows_recovered",
                "insert_failures",
            ),
            0,
        ),
    }
    text = metrics.render([writer])
    assert "ollive_ingest_accepted_total 7.0" in text
    assert 'ollive_ingest_redactions_total{entity="EMAIL_ADDRESS"} 3.0' in text
    assert 'ollive_writer_spool_files{writer="w0"} 1' in text
    assert 'ollive_writer_commit_seconds_bucket{writer="w0",le="+Inf"} 3' in text
