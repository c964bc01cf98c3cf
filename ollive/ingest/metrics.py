"""Prometheus metrics of ingest: one registry per IngestAPI replica, plus the writers' figures.

``IngestMetrics.render(writers)`` returns the text exposition format: the replica's own
counters and histograms (accepted, rejected, duplicates, redactions by entity, batch sizes,
acknowledgement latency, answers by status) followed by gauges and the commit-latency
histogram of every writer (in-flight rows = queue depth, spool depth).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

__all__ = ["IngestMetrics", "render_writer_stats"]

_BATCH_BUCKETS = (1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000)
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class IngestMetrics:
    """Counters and histograms of one replica, in their own registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.accepted = Counter(
            "ollive_ingest_accepted", "Events accepted and durable.", registry=r
        )
        self.rejected = Counter(
            "ollive_ingest_rejected", "Events rejected by validation or redaction.", registry=r
        )
        self.duplicates = Counter(
            "ollive_ingest_duplicates", "Events answered as duplicates.", registry=r
        )
        self.redactions = Counter(
            "ollive_ingest_redactions",
            "PII entities redacted, by entity type.",
            ["entity"],
            registry=r,
        )
        self.responses = Counter(
            "ollive_ingest_responses", "Answers of POST /v1/logs by status.", ["status"], registry=r
        )
        self.batch_events = Histogram(
            "ollive_ingest_batch_events",
            "Events per request body.",
            buckets=_BATCH_BUCKETS,
            registry=r,
        )
        self.ack_latency = Histogram(
            "ollive_ingest_ack_seconds",
            "Time from request to durable acknowledgement.",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.dedupe_degraded = Counter(
            "ollive_ingest_dedupe_degraded_batches",
            "Batches accepted without Valkey dedupe.",
            registry=r,
        )

    def observe_batch(
        self, accepted: int, rejected: int, duplicates: int, redactions: Mapping[str, int]
    ) -> None:
        self.accepted.inc(accepted)
        self.rejected.inc(rejected)
        self.duplicates.inc(duplicates)
        self.batch_events.observe(accepted + rejected + duplicates)
        for entity, n in redactions.items():
            self.redactions.labels(entity=entity).inc(n)

    def render(self, writers: Sequence[Mapping[str, Any]] = ()) -> str:
        """The Prometheus text of this replica and of ``writers`` (their ``stats()`` dicts)."""
        return generate_latest(self.registry).decode() + render_writer_stats(writers)


def render_writer_stats(writers: Sequence[Mapping[str, Any]]) -> str:
    """Writer gauges, counters and commit-latency histograms as Prometheus text."""
    if not writers:
        return ""
    lines: list[str] = []
    gauges = {
        "inflight_rows": "Rows waiting for their commit (queue depth).",
        "spool_files": "Flushes in the dead-letter queue.",
        "spool_bytes": "Bytes in the dead-letter queue.",
    }
    for key, help_text in gauges.items():
        lines += [f"# HELP ollive_writer_{key} {help_text}", f"# TYPE ollive_writer_{key} gauge"]
        lines += [f'ollive_writer_{key}{{writer="{w["writer"]}"}} {w[key]}' for w in writers]
    for key in (
        "flushes",
        "rows_committed",
        "rows_spooled",
        "rows_replayed",
        "rows_recovered",
        "insert_failures",
    ):
        lines += [
            f"# HELP ollive_writer_{key}_total Writer {key.replace('_', ' ')}.",
            f"# TYPE ollive_writer_{key}_total counter",
        ]
        lines += [f'ollive_writer_{key}_total{{writer="{w["writer"]}"}} {w[key]}' for w in writers]
    name = "ollive_writer_commit_seconds"
    lines += [
        f"# HELP {name} Time from flush to durable (committed or spooled).",
        f"# TYPE {name} histogram",
    ]
    for w in writers:
        label = f'writer="{w["writer"]}"'
        for bound, count in w["commit_buckets"]:
            le = "+Inf" if bound == float("inf") else repr(bound)
            lines.append(f'{name}_bucket{{{label},le="{le}"}} {count}')
        total = w["commit_buckets"][-1][1] if w["commit_buckets"] else 0
        lines.append(f"{name}_count{{{label}}} {total}")
        lines.append(f"{name}_sum{{{label}}} {w['commit_seconds_sum']}")
    return "\n".join(lines) + "\n"
