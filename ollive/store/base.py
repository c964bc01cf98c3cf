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

import logging
import uuid
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from ollive.store.quoting import column_list, quote_identifier, sql_literal

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

# column_list and sql_literal are re-exported for the engines and older imports
__all__ = ["Warehouse", "column_list", "sql_literal"]

log = logging.getLogger(__name__)
_VERIFY_CHUNK = 2_000  # request_ids per lookup: ~80 KB of SQL, under max_query_size (256 KiB)


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
        self,
        table: str,
        data: pa.Table | pa.RecordBatch,
        token: str | None = None,
        *,
        verify: bool = False,
    ) -> int:
        """Insert rows; the same ``token`` inserted twice stores the rows (and MV states) once.

        Returns the number of rows sent. Columns missing from ``data`` take their defaults.

        ``verify`` is for a token sent again after an attempt that may have died inside the
        engine (a retry, a replay of the dead-letter queue): after the insert, the rows'
        ``request_id`` values are looked up, and rows that are not stored are inserted once
        more under a fresh token. A MergeTree table records a token in its deduplication log
        just before it publishes the part, so a process killed between the two steps leaves
        a token that dedupes the retry away while its rows were never stored. Tables
        without a ``request_id`` column are not checked.
        """
        if isinstance(data, pa.RecordBatch):
            data = pa.Table.from_batches([data])
        if data.num_rows == 0:
            return 0
        self._insert(table, data, token)
        if verify and token and "request_id" in data.column_names:
            missing = self._not_stored(table, data)
            if missing.num_rows:
                log.warning(
                    "%d of %d rows of %s were not stored under token %s (an earlier attempt "
                    "died after the engine recorded the token); inserting them again",
                    missing.num_rows,
                    data.num_rows,
                    table,
                    token,
                )
                self._insert(table, missing, f"{token[:200]}.v{uuid.uuid4().hex}")
        return data.num_rows

    def _not_stored(self, table: str, data: pa.Table) -> pa.Table:
        """The rows of ``data`` whose ``request_id`` is not in ``table``."""
        # compared as ClickHouse prints a UUID: lower case, dashed
        rids = pc.utf8_lower(data.column("request_id").cast(pa.string()))
        ids = pc.unique(rids).to_pylist()
        where = ""
        if "project" in data.column_names:  # the leading key of every raw table
            projects = pc.unique(data.column("project").cast(pa.string())).to_pylist()
            where = f"project IN ({', '.join(sql_literal(p) for p in projects)}) AND "
        stored: set[str] = set()
        for start in range(0, len(ids), _VERIFY_CHUNK):
            chunk = ", ".join(sql_literal(i) for i in ids[start : start + _VERIFY_CHUNK])
            found = self.query_arrow(
                f"SELECT DISTINCT toString(request_id) AS id FROM {quote_identifier(table)} "
                f"WHERE {where}request_id IN ({chunk})"
            )
            stored.update(found.column("id").to_pylist() if found.num_rows else [])
        known = pa.array(sorted(stored), pa.string())
        return data.filter(pc.invert(pc.is_in(rids, value_set=known)))

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
