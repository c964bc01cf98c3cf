"""The pipeline's own figures as ``pipeline_stats`` rows: what a writer reports periodically.

A writer shard holds one :class:`PipelineReport`. Ingest replicas hand it their counts
(:meth:`PipelineReport.note`: events accepted, rejected, answered as duplicates); the writer
adds its own (rows committed and spooled, insert failures: deltas of its cumulative
counters; dead-letter files and bytes, rows in flight: gauges) and inserts :meth:`rows`
every ``OLLIVE_HEALTH_REPORT_S``. When that insert fails, :meth:`restore` puts the counts
back, so they go out with the next report instead of being lost.
``ollive.insights.data_health`` reads the table.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

import pyarrow as pa

__all__ = ["GAUGES", "INGEST_COUNTERS", "PIPELINE_STATS", "WRITER_COUNTERS", "PipelineReport"]

INGEST_COUNTERS = ("accepted", "rejected", "duplicates")
WRITER_COUNTERS = ("rows_committed", "rows_spooled", "insert_failures")
GAUGES = ("spool_files", "spool_bytes", "inflight_rows")

#: the Arrow schema of the ``pipeline_stats`` table (sql/004_explore.sql)
PIPELINE_STATS = pa.schema(
    [
        ("ts", pa.timestamp("ms", tz="UTC")),
        ("component", pa.string()),
        ("instance", pa.string()),
        *[(name, pa.uint64()) for name in (*INGEST_COUNTERS, *WRITER_COUNTERS, *GAUGES)],
    ]
)


class PipelineReport:
    """Counts since the last report, per (component, instance)."""

    def __init__(self, writer: str) -> None:
        self.writer = writer
        self._pending: dict[tuple[str, str], Counter[str]] = {}
        self._last_totals: dict[str, int] = {}

    def note(self, instance: str, counts: Mapping[str, int]) -> None:
        """Add an ingest replica's counts (keys of :data:`INGEST_COUNTERS`)."""
        unknown = set(counts) - set(INGEST_COUNTERS)
        if unknown:
            raise ValueError(f"unknown ingest counters {sorted(unknown)}")
        self._pending.setdefault(("ingest", instance), Counter()).update(
            {k: int(v) for k, v in counts.items() if v}
        )

    def rows(self, now_ms: int, totals: Mapping[str, float], gauges: Mapping[str, int]) -> pa.Table:
        """The rows to insert now: one per replica heard from, and one for this writer
        (``totals``: its cumulative counters, ``gauges``: its current values). Clears the
        pending counts (hand the table to :meth:`restore` if the insert fails)."""
        deltas = Counter(
            {
                k: max(0, int(totals.get(k, 0)) - self._last_totals.get(k, 0))
                for k in WRITER_COUNTERS
            }
        )
        self._last_totals = {k: int(totals.get(k, 0)) for k in WRITER_COUNTERS}
        pending, self._pending = self._pending, {}
        records = []
        for (component, instance), counts in sorted(pending.items()):
            records.append(_record(now_ms, component, instance, counts, {}))
        records.append(_record(now_ms, "writer", self.writer, deltas, gauges))
        return pa.Table.from_pylist(records, schema=PIPELINE_STATS)

    def restore(self, table: pa.Table) -> None:
        """Put the counters of an uninserted :meth:`rows` table back (gauges are not counts)."""
        for row in table.to_pylist():
            if row["component"] == "writer":
                for k in WRITER_COUNTERS:
                    self._last_totals[k] = self._last_totals.get(k, 0) - int(row[k])
            else:
                self.note(row["instance"], {k: int(row[k]) for k in INGEST_COUNTERS})


def _record(
    now_ms: int,
    component: str,
    instance: str,
    counts: Mapping[str, int],
    gauges: Mapping[str, int],
) -> dict[str, object]:
    row: dict[str, object] = {"ts": now_ms, "component": component, "instance": instance}
    for name in (*INGEST_COUNTERS, *WRITER_COUNTERS):
        row[name] = int(counts.get(name, 0))
    for name in GAUGES:
        row[name] = int(gauges.get(name, 0))
    return row
