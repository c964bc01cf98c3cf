"""Ibis on any warehouse: Ibis's ClickHouse backend, executing through a :class:`Warehouse`.

Ibis compiles expressions to ClickHouse SQL; instead of a clickhouse-connect client, this
backend hands the SQL to the warehouse (chDB in-process, the warehouse actor, or a
ClickHouse server) and gets Arrow back. So ``con.table("inference_logs").filter(...)
.to_pandas()`` runs the same SQL on chDB as on a server.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import ibis.expr.types as ir
import pyarrow as pa
from ibis.backends.clickhouse import Backend as _ClickHouseBackend

from ollive.errors import StorageError

if TYPE_CHECKING:  # pragma: no cover
    from ollive.store.base import Warehouse

__all__ = ["Connection", "ibis_connection"]


class _Result:
    """The few attributes of a clickhouse-connect QueryResult that Ibis reads."""

    def __init__(self, table: pa.Table) -> None:
        self._table = table

    @property
    def result_rows(self) -> list[tuple[Any, ...]]:
        return [tuple(row.values()) for row in self._table.to_pylist()]

    @property
    def result_columns(self) -> list[list[Any]]:
        return [col.to_pylist() for col in self._table.columns]

    def close(self) -> None:
        pass


def _plain(table: pa.Table) -> pa.Table:
    """Replace extension columns (chDB returns UUIDs as ``arrow.uuid``) with strings."""
    columns, changed = [], False
    for column in table.columns:
        if isinstance(column.type, pa.BaseExtensionType):  # arrow.uuid is a canonical one
            storage = column.combine_chunks().storage if column.num_chunks else column
            if isinstance(column.type, pa.UuidType) or column.type.extension_name == "arrow.uuid":
                import uuid

                values = [
                    None if b is None else str(uuid.UUID(bytes=b)) for b in storage.to_pylist()
                ]
                column = pa.array(values, pa.string())
            else:
                column = storage
            changed = True
        columns.append(column)
    return pa.table(columns, names=table.column_names) if changed else table


def _fix_datetimes(table: pa.Table, schema: Any) -> pa.Table:
    """ClickHouse sends ``DateTime`` (no scale) to Arrow as uint32 seconds: make timestamps."""
    for i, (name, dtype) in enumerate(schema.items()):
        column = table.column(i)
        if dtype.is_timestamp() and pa.types.is_integer(column.type):
            unit = "s" if dtype.scale in (None, 0) else "ms"
            tz = dtype.timezone or "UTC"
            fixed = column.cast(pa.int64()).cast(pa.timestamp(unit, tz=tz))
            table = table.set_column(i, name, fixed)
    return table


class Connection(_ClickHouseBackend):
    """An Ibis connection bound to an Ollive warehouse (``ollive.connect()`` returns one).

    Everything Ibis offers works (``table``, ``sql``, ``list_tables``, ``to_pandas`` ...);
    ``warehouse`` is the underlying :class:`~ollive.store.base.Warehouse`, and ``project``
    the project that insights default to (None: every project).
    """

    warehouse: Warehouse
    project: str | None = None

    @classmethod
    def from_warehouse(cls, warehouse: Warehouse, project: str | None = None) -> Connection:
        con = cls()
        con._can_reconnect = False
        con.con = None
        con.warehouse = warehouse
        con.project = project
        return con

    # --- execution goes through the warehouse ------------------------------------------
    @property
    def version(self) -> str:
        return str(self.warehouse.scalar("SELECT version()"))

    def raw_sql(
        self, query: Any, external_tables: Mapping[str, Any] | None = None, **kwargs: Any
    ) -> Any:
        if external_tables:
            raise StorageError("external tables are not supported by Ollive warehouses")
        if hasattr(query, "sql"):
            query = query.sql(dialect=self.name, pretty=True)
        self._log(query)
        return _Result(_plain(self.warehouse.query_arrow(query)))

    def _collect_in_memory_tables(self, expr: Any, external_tables: Any = None) -> dict[str, Any]:
        memtables = dict(self._verify_in_memory_tables_are_unique(expr)) if expr is not None else {}
        if memtables or external_tables:
            raise StorageError(
                "in-memory tables (ibis.memtable) cannot be joined with warehouse tables here; "
                "fetch the warehouse side with .to_pandas() and join in pandas"
            )
        return {}

    def _arrow(self, expr: ir.Expr, params: Mapping[Any, Any] | None, limit: Any) -> pa.Table:
        table = expr.as_table()
        self._collect_in_memory_tables(table)
        sql = self.compile(table, params=params, limit=limit)
        self._log(sql)
        result = _plain(self.warehouse.query_arrow(sql))
        schema = table.schema()
        if result.num_columns == len(schema):
            result = result.rename_columns(list(schema.names))
            result = _fix_datetimes(result, schema)
        return result

    def to_pyarrow(
        self, expr: ir.Expr, /, *, params: Any = None, limit: Any = None, **kwargs: Any
    ) -> Any:
        table = self._arrow(expr, params, limit)
        schema = expr.as_table().schema()
        if table.num_rows == 0:
            table = schema.to_pyarrow().empty_table()
        else:
            table = table.cast(schema.to_pyarrow(), safe=False)
        return expr.__pyarrow_result__(table)

    def to_pyarrow_batches(
        self,
        expr: ir.Expr,
        /,
        *,
        params: Any = None,
        limit: Any = None,
        chunk_size: int = 1_000_000,
        **kwargs: Any,
    ) -> pa.ipc.RecordBatchReader:
        table = self.to_pyarrow(expr.as_table(), params=params, limit=limit)
        return pa.RecordBatchReader.from_batches(table.schema, table.to_batches(chunk_size))

    def execute(
        self, expr: ir.Expr, /, *, limit: Any = "default", params: Any = None, **kwargs: Any
    ) -> Any:
        import pandas as pd
        from ibis.backends.clickhouse.converter import ClickHousePandasData

        table = expr.as_table()
        schema = table.schema()
        result = self._arrow(table, params, limit)
        df = (
            result.to_pandas(types_mapper=None)
            if result.num_rows
            else pd.DataFrame(columns=schema.names)
        )
        df.columns = list(schema.names)
        df = ClickHousePandasData.convert_table(df, schema=schema)
        return expr.__pandas_result__(df)

    def insert(
        self,
        name: str,
        /,
        obj: Any,
        *,
        settings: Any = None,
        overwrite: bool = False,
        **kwargs: Any,
    ) -> None:
        import pandas as pd

        if overwrite:
            self.truncate_table(name)
        if isinstance(obj, pd.DataFrame):
            obj = pa.Table.from_pandas(obj, preserve_index=False)
        if not isinstance(obj, pa.Table):
            raise StorageError("insert takes a pyarrow Table or a pandas DataFrame")
        self.warehouse.insert_arrow(name, obj)

    def disconnect(self) -> None:
        """Ibis connections share the warehouse; closing it is the warehouse's business."""


_cache_lock = threading.Lock()
_CACHED = "_ollive_ibis_connection"  # kept on the warehouse: collected with it


def ibis_connection(warehouse: Warehouse) -> Connection:
    """``warehouse`` as an Ibis connection for every project, created once per warehouse.

    For a connection scoped to one project use ``Connection.from_warehouse(wh, project)``
    (or :func:`ollive.store.connect`).
    """
    with _cache_lock:
        con: Connection | None = vars(warehouse).get(_CACHED)
        if con is None:
            con = Connection.from_warehouse(warehouse)
            setattr(warehouse, _CACHED, con)
        return con
