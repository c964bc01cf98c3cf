"""Maintenance over any warehouse: row counts, aggregate rebuilds, synchronous deletes.

Functions, not :class:`~ollive.store.base.Warehouse` methods: each is built on the seam's
primitives (``command``, ``query_arrow``) and works the same on chDB, a ClickHouse server
and the warehouse actor::

    counts(wh)                                    # {"inference_logs": 1200, ...}
    rebuild_aggregates(wh, start, end, "acme")    # recompute [start, end) from raw rows
    delete_where(wh, "scores", "project = 'x'")   # trusted, internally built condition

Values reach SQL only through :func:`~ollive.store.quoting.sql_literal`, names through
:func:`~ollive.store.quoting.quote_identifier`. The rebuild's SELECT is read from the
materialized view's own DDL (:func:`~ollive.store.migrations.aggregate_select`), so a
rebuilt bucket aggregates exactly as the view does. Ibis has no ``ALTER ... DELETE`` nor
``-State`` combinators, so these few statements stay SQL, in the store.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from ollive.store.migrations import aggregate_select
from ollive.store.quoting import quote_identifier, sql_literal
from ollive.store.tables import AGGREGATES, RAW_TABLES

if TYPE_CHECKING:  # pragma: no cover
    from ollive.store.base import Warehouse

__all__ = ["counts", "delete_where", "rebuild_aggregates", "tables"]


def tables(warehouse: Warehouse) -> list[str]:
    """Tables and views of the warehouse's current database, by name."""
    result = warehouse.query_arrow(
        "SELECT name FROM system.tables WHERE database = currentDatabase() ORDER BY name"
    )
    return [str(v) for v in result.column(0).to_pylist()]


def counts(warehouse: Warehouse, final: bool = True) -> dict[str, int]:
    """Rows per raw table (after collapsing retried events when ``final``)."""
    keyword = " FINAL" if final else ""
    found: dict[str, int] = {}
    for table in RAW_TABLES:
        value = warehouse.scalar(f"SELECT count() FROM {quote_identifier(table)}{keyword}")
        found[table] = int(value or 0)
    return found


def delete_where(warehouse: Warehouse, table: str, condition: str) -> None:
    """Delete the rows of ``table`` matching ``condition``, synchronously.

    ``condition`` is SQL built inside the store (its values quoted by ``sql_literal``),
    never text from a request.
    """
    warehouse.command(
        f"ALTER TABLE {quote_identifier(table)} DELETE WHERE {condition} "
        "SETTINGS mutations_sync = 2"
    )


def _bucket_range(expr: str, start: datetime, end: datetime, project: str | None) -> str:
    """``expr`` (a 5-minute bucket) within ``[start, end)``, and of ``project`` when given."""
    where = (
        f"{expr} >= toStartOfFiveMinutes({sql_literal(start)}) "
        f"AND {expr} < toStartOfFiveMinutes({sql_literal(end)})"
    )
    if project is not None:
        where += f" AND project = {sql_literal(project)}"
    return where


def rebuild_aggregates(
    warehouse: Warehouse, start: datetime, end: datetime, project: str | None = None
) -> None:
    """Recompute the 5-minute aggregates of ``[start, end)`` from the raw tables (FINAL).

    Used after a deletion and to repair MV counts of duplicates that reached the
    warehouse in different batches (the raw table collapses them, the MV cannot).
    """
    for target, (_mv, raw, column) in AGGREGATES.items():
        delete_where(warehouse, target, _bucket_range("bucket", start, end, project))
        raw_bucket = f"toStartOfFiveMinutes({quote_identifier(column)})"
        select = aggregate_select(
            target,
            source=f"{quote_identifier(raw)} FINAL",
            where=_bucket_range(raw_bucket, start, end, project),
        )
        warehouse.command(f"INSERT INTO {quote_identifier(target)} {select}")
