"""The one warehouse interface every engine implements (chDB, ClickHouse server, actor proxy)."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from ollive.store.tables import AGGREGATES, RAW_TABLES

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from ollive.store._ibis import Connection

__all__ = ["Warehouse", "sql_literal"]


def sql_literal(value: Any) -> str:
    """A value quoted as a ClickHouse literal (for internal maintenance SQL only).

    Insight queries never use this: they are Ibis expressions with literals bound by Ibis.
    """
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, datetime):
        return f"toDateTime64({sql_literal(value.strftime('%Y-%m-%d %H:%M:%S.%f')[:-3])}, 3, 'UTC')"
    text = str(value).replace("\\", "\\\\").replace("'", "\\'")
    return f"'{text}'"


class Warehouse(ABC):
    """Insert Arrow with an idempotency token; query to Arrow and pandas; an Ibis connection.

    Subclasses implement :meth:`command`, :meth:`query_arrow`, :meth:`_insert` and
    :meth:`close`. Every method is safe to call from several threads.
    """

    url: str = ""
    #: the engine's name, as shown by ``ollive status``
    engine: str = ""

    def __init__(self) -> None:
        self._ibis_lock = threading.Lock()
        self._ibis: Connection | None = None

    # --- what an engine implements -------------------------------------------------------
    @abstractmethod
    def command(self, sql: str) -> None:
        """Run a statement that returns nothing (DDL, ALTER, OPTIMIZE ...)."""

    @abstractmethod
    def query_arrow(self, sql: str) -> pa.Table:
        """Run a query and return its result as an Arrow table."""

    @abstractmethod
    def _insert(self, table: str, data: pa.Table, token: str | None) -> None:
        """Insert ``data`` (columns named as in the table) with an optional dedupe token."""

    @abstractmethod
    def close(self) -> None:
        """Release the engine (idempotent)."""

    # --- shared behaviour -------------------------------------------------------------------
    def insert_arrow(
        self, table: str, data: pa.Table | pa.RecordBatch, token: str | None = None
    ) -> int:
        """Insert rows; the same ``token`` inserted twice stores the rows (and MV states) once.

        Returns the number of rows sent. Columns missing from ``data`` take their defaults.
        """
        if isinstance(data, pa.RecordBatch):
            data = pa.Table.from_batches([data])
        if data.num_rows == 0:
            return 0
        self._insert(table, data, token)
        return data.num_rows

    def query_df(self, sql: str) -> pd.DataFrame:
        """Run a query and return a pandas DataFrame."""
        return self.query_arrow(sql).to_pandas()

    def scalar(self, sql: str) -> Any:
        """The first column of the first row of a query (None when there is no row)."""
        result = self.query_arrow(sql)
        if result.num_rows == 0:
            return None
        return result.column(0)[0].as_py()

    def ping(self) -> bool:
        """True when the warehouse answers ``SELECT 1``."""
        try:
            return self.scalar("SELECT 1") == 1
        except Exception:
            return False

    def tables(self) -> list[str]:
        """Tables and views of the current database."""
        result = self.query_arrow(
            "SELECT name FROM system.tables WHERE database = currentDatabase() ORDER BY name"
        )
        return [str(v) for v in result.column(0).to_pylist()]

    def migrate(self, settings: Any = None, cluster: str | None = None) -> list[str]:
        """Apply the numbered DDL files not applied yet; returns the names applied now."""
        from ollive.store.migrations import apply_migrations

        return apply_migrations(self, settings=settings, cluster=cluster)

    def counts(self, final: bool = True) -> dict[str, int]:
        """Rows per raw table (after collapsing retried events when ``final``)."""
        keyword = " FINAL" if final else ""
        return {t: int(self.scalar(f"SELECT count() FROM {t}{keyword}") or 0) for t in RAW_TABLES}

    def rebuild_aggregates(
        self, start: datetime, end: datetime, project: str | None = None
    ) -> None:
        """Recompute the 5-minute aggregates of ``[start, end)`` from the raw tables (FINAL).

        Used after a deletion and to repair MV counts of duplicates that reached the
        warehouse in different batches (the raw table collapses them, the MV cannot).
        """
        from ollive.store.migrations import aggregate_select

        for target, (_mv, raw, column) in AGGREGATES.items():
            where = (
                f"bucket >= toStartOfFiveMinutes({sql_literal(start)}) "
                f"AND bucket < toStartOfFiveMinutes({sql_literal(end)})"
            )
            raw_where = (
                f"toStartOfFiveMinutes({column}) >= toStartOfFiveMinutes({sql_literal(start)}) "
                f"AND toStartOfFiveMinutes({column}) < toStartOfFiveMinutes({sql_literal(end)})"
            )
            if project is not None:
                where += f" AND project = {sql_literal(project)}"
                raw_where += f" AND project = {sql_literal(project)}"
            self.command(f"ALTER TABLE {target} DELETE WHERE {where} SETTINGS mutations_sync = 2")
            select = aggregate_select(target, source=f"{raw} FINAL", where=raw_where)
            self.command(f"INSERT INTO {target} {select}")

    def delete_where(self, table: str, condition: str) -> None:
        """Delete raw rows matching a (trusted, internally built) condition, synchronously."""
        self.command(f"ALTER TABLE {table} DELETE WHERE {condition} SETTINGS mutations_sync = 2")

    def ibis(self) -> Connection:
        """This warehouse as an Ibis connection (ClickHouse dialect), created once."""
        with self._ibis_lock:
            if self._ibis is None:
                from ollive.store._ibis import Connection

                self._ibis = Connection.from_warehouse(self)
            return self._ibis

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r})"


def column_list(names: Iterable[str]) -> str:
    """Quoted column names for an INSERT column list."""
    return ", ".join(f"`{n}`" for n in names)
