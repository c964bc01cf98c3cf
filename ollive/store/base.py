"""The engine seam every warehouse implements (chDB, ClickHouse server, actor proxy).

A :class:`Warehouse` runs statements, runs queries to Arrow, inserts Arrow idempotently and
closes; nothing else. What is built on top of those primitives is a function that takes a
warehouse, in the module of its role:

- :func:`ollive.store.migrations.migrate`: apply the numbered DDL files;
- :mod:`ollive.store.maintenance`: ``counts``, ``rebuild_aggregates``, ``delete_where``,
  ``tables``;
- :mod:`ollive.store.deletion`: erasure requests and retention;
- :func:`ollive.store.ibis_connection`: the warehouse as an Ibis connection.

``query_df``, ``scalar`` and ``ping`` stay here: each is a one-line reading of
:meth:`~Warehouse.query_arrow` that every engine shares, with no knowledge of the schema.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from ollive.store.quoting import column_list, sql_literal

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

# column_list and sql_literal are re-exported for the engines and older imports
__all__ = ["Warehouse", "column_list", "sql_literal"]


class Warehouse(ABC):
    """Statements, queries to Arrow, idempotent Arrow inserts; safe from several threads.

    Subclasses implement :meth:`command`, :meth:`query_arrow`, :meth:`_insert` and
    :meth:`close`, and set :attr:`url` and :attr:`engine`.
    """

    url: str = ""
    #: the engine's name, as shown by ``ollive status``
    engine: str = ""

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

    # --- shared behaviour, on the primitives only -------------------------------------------
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

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r})"
