"""Erasure requests and retention: delete raw rows and their share of the 5-minute aggregates.

``ollive delete --conversation ID | --user ID | --before DATE [--project P]``::

    plan = plan_deletion(wh, user="u-42", project="acme")   # counts, nothing deleted yet
    print(plan.counts)                                      # {"inference_logs": 12, ...}
    execute_deletion(wh, plan)                              # rows gone, buckets rebuilt

The materialized views cannot "un-count" a row, so :func:`execute_deletion` first collects
the 5-minute buckets (per project) the matching inference and tool rows fed, deletes the
rows of all four raw tables, then recomputes exactly those buckets from what remains
(:func:`~ollive.store.maintenance.rebuild_aggregates`). Values reach SQL only through
:func:`~ollive.store.quoting.sql_literal` (quoted and escaped), never as raw text.

Checking: :func:`find_values` looks for exact values (an e-mail, a card number) in every
column of every table, aggregates and bookkeeping included, to show an erasure or the PII
policy held::

    find_values(wh, ["jane@example.com"], project="acme")   # [] when nothing holds it

Retention: each raw table has a TTL from ``OLLIVE_TTL_*_DAYS`` set when the table is
created; :func:`apply_retention` changes the TTL of existing tables to the current settings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from ollive.errors import ConfigError
from ollive.store.maintenance import delete_where, rebuild_aggregates
from ollive.store.quoting import sql_literal
from ollive.store.tables import RAW_TABLES, TIME_COLUMNS

if TYPE_CHECKING:  # pragma: no cover
    from ollive.store.base import Warehouse

__all__ = [
    "TIME_COLUMNS",
    "DeletionPlan",
    "apply_retention",
    "execute_deletion",
    "find_values",
    "plan_deletion",
]

_AGGREGATED = ("inference_logs", "tool_executions")  # the raw tables the MVs read
_MAX_RUNS = 4  # more bucket runs than this (each costs two mutations): rebuild one range from the first to the last
_BUCKET = timedelta(minutes=5)
_TTL_SETTINGS = {
    "inference_logs": "ttl_inference_days",
    "tool_executions": "ttl_tool_days",
    "application_logs": "ttl_application_days",
    "scores": "ttl_scores_days",
}
_AGGREGATE_TTL = {"inference_stats_5m": "ttl_inference_days", "tool_stats_5m": "ttl_tool_days"}


@dataclass
class DeletionPlan:
    """What a deletion matches: the filters, rows per raw table, affected buckets."""

    conversation: str | None = None
    user: str | None = None
    before: datetime | None = None
    project: str | None = None
    counts: dict[str, int] = field(default_factory=dict)
    #: project -> sorted 5-minute bucket starts fed by the matching rows
    buckets: dict[str, list[datetime]] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def condition(self, table: str) -> str:
        """The WHERE condition for ``table`` (values quoted by :func:`sql_literal`)."""
        parts = []
        if self.project is not None:
            parts.append(f"project = {sql_literal(self.project)}")
        if self.conversation is not None:
            parts.append(f"conversation_id = {sql_literal(self.conversation)}")
        if self.user is not None:
            parts.append(f"user_id = {sql_literal(self.user)}")
        if self.before is not None:
            parts.append(f"{TIME_COLUMNS[table]} < {sql_literal(self.before)}")
        return " AND ".join(parts)

    def describe(self) -> str:
        what = [
            f"{name} {value!r}"
            for name, value in (
                ("conversation", self.conversation),
                ("user", self.user),
                ("before", self.before.isoformat() if self.before else None),
                ("project", self.project),
            )
            if value is not None
        ]
        return ", ".join(what)


def _utc(value: datetime | str) -> datetime:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError as exc:
            raise ConfigError(f"--before {value!r}: expected an ISO date like 2026-01-31") from exc
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def plan_deletion(
    warehouse: Warehouse,
    *,
    conversation: str | None = None,
    user: str | None = None,
    before: datetime | str | None = None,
    project: str | None = None,
) -> DeletionPlan:
    """Count what a deletion would remove (a dry run); at least one filter besides project."""
    if conversation is None and user is None and before is None:
        raise ConfigError("say what to delete: --conversation ID, --user ID or --before DATE")
    plan = DeletionPlan(conversation, user, _utc(before) if before is not None else None, project)
    for table in RAW_TABLES:
        count = warehouse.scalar(f"SELECT count() FROM {table} WHERE {plan.condition(table)}")
        plan.counts[table] = int(count or 0)
    for table in _AGGREGATED:
        if not plan.counts[table]:
            continue
        rows = warehouse.query_arrow(
            "SELECT DISTINCT project, "
            f"toUnixTimestamp(toStartOfFiveMinutes({TIME_COLUMNS[table]})) AS bucket "
            f"FROM {table} WHERE {plan.condition(table)}"
        ).to_pylist()
        for row in rows:
            bucket = datetime.fromtimestamp(int(row["bucket"]), UTC)
            plan.buckets.setdefault(row["project"], []).append(bucket)
    plan.buckets = {p: sorted(set(b)) for p, b in plan.buckets.items()}
    return plan


def _runs(buckets: list[datetime]) -> list[tuple[datetime, datetime]]:
    """Contiguous ``[start, end)`` runs of 5-minute buckets (one range when too many)."""
    runs: list[tuple[datetime, datetime]] = []
    for bucket in buckets:
        if runs and runs[-1][1] == bucket:
            runs[-1] = (runs[-1][0], bucket + _BUCKET)
        else:
            runs.append((bucket, bucket + _BUCKET))
    if len(runs) > _MAX_RUNS:
        return [(runs[0][0], runs[-1][1])]
    return runs


def execute_deletion(warehouse: Warehouse, plan: DeletionPlan) -> dict[str, int]:
    """Delete the planned rows from every raw table and rebuild the affected buckets.

    Returns rows deleted per table (the plan's counts). Synchronous: when it returns,
    queries no longer see the rows nor their contribution to the aggregates.
    """
    for table in RAW_TABLES:
        if plan.counts.get(table):
            delete_where(warehouse, table, plan.condition(table))
    for project, buckets in plan.buckets.items():
        for start, end in _runs(buckets):
            rebuild_aggregates(warehouse, start, end, project=project)
    return dict(plan.counts)


def apply_retention(warehouse: Warehouse, settings: Any) -> dict[str, int]:
    """Set each table's TTL to ``OLLIVE_TTL_*_DAYS`` of ``settings``; returns table -> days."""
    applied: dict[str, int] = {}
    for table, name in _TTL_SETTINGS.items():
        days = int(getattr(settings, name))
        column = TIME_COLUMNS[table]
        warehouse.command(
            f"ALTER TABLE {table} MODIFY TTL toDateTime({column}) + INTERVAL {days} DAY"
        )
        applied[table] = days
    for table, name in _AGGREGATE_TTL.items():
        days = int(getattr(settings, name))
        warehouse.command(f"ALTER TABLE {table} MODIFY TTL bucket + INTERVAL {days} DAY")
        applied[table] = days
    return applied


def find_values(
    warehouse: Warehouse, values: list[str], project: str | None = None
) -> list[tuple[str, str, str]]:
    """``(table, column, value)`` for each value found as a substring of any column of any
    table of the warehouse's database (rows of ``project`` only where a table has a
    ``project`` column and ``project`` is given). Values reach SQL as literals only."""
    if not values:
        return []
    needles = ", ".join(sql_literal(v) for v in values)
    columns = warehouse.query_arrow(
        "SELECT table, groupArray(name) AS names FROM system.columns "
        "WHERE database = currentDatabase() GROUP BY table ORDER BY table"
    ).to_pylist()
    found: list[tuple[str, str, str]] = []
    for row in columns:
        table, names = str(row["table"]), [str(n) for n in row["names"]]
        where = f"WHERE project = {sql_literal(project)}" if project and "project" in names else ""
        hits = ", ".join(
            f"groupUniqArrayArray(arrayFilter(v -> position(ifNull(toString(`{c}`), ''), v) > 0, "
            f"[{needles}])) AS hit_{i}"  # not the column's name: WHERE still sees the column
            for i, c in enumerate(names)
        )
        result = warehouse.query_arrow(f"SELECT {hits} FROM `{table}` {where}").to_pylist()
        for i, column in enumerate(names):
            matched = result[0][f"hit_{i}"] if result else []
            found += [(table, column, str(v)) for v in sorted(matched or [])]
    return found
