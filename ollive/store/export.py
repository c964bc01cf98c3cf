"""Raw rows of one table in key-ordered pages, for an export that never holds them all.

:func:`export_pages` returns the file schema, the row count and an iterator of pages of
``batch_rows`` rows. Pages come from keyset pagination over ``(time column, request_id,
project)``; each is two queries: the key of its last row (a top-N over the three narrow key
columns), then the rows between the previous page's last key and that one (asking for the
wide rows with ``ORDER BY ... LIMIT`` would make the engine sort every remaining wide row to
keep ``batch_rows`` of them). Only :meth:`~ollive.store.base.Warehouse.query_arrow` is used,
so chDB, a ClickHouse server and the platform's warehouse actor all work.

Rows are read with ``FINAL`` (as ``maintenance.counts`` and ``rebuild_aggregates`` do), so
an event that was retried and stored twice is exported once and the keyset stays unique.
``where`` is ClickHouse SQL written by someone who can already query the warehouse; it goes
into the query inside parentheses, and a ``;`` is refused. Every other value is a literal
made by :func:`~ollive.store.quoting.sql_literal`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pyarrow as pa

from ollive.errors import ConfigError
from ollive.store.quoting import quote_identifier, sql_literal
from ollive.store.tables import AGGREGATES, RAW_TABLES, TIME_COLUMNS

__all__ = ["ExportPages", "export_pages"]

#: a row's place in the export order: (time, request_id as text, project)
_Key = tuple[datetime, str, str]
_NESTED = ("Map(", "Array(", "Tuple(", "Nested(")  # CSV cannot hold these


@dataclass(frozen=True)
class ExportPages:
    """What to write: the file ``schema``, the ``total`` rows, and the ``pages`` (lazy)."""

    schema: pa.Schema
    total: int
    pages: Iterator[pa.Table]


def export_pages(
    warehouse: Any,
    table: str,
    *,
    start: datetime,
    end: datetime,
    project: str | None,
    where: str | None,
    batch_rows: int,
    nested_as_json: bool = False,
) -> ExportPages:
    """The rows of ``table`` with time in ``[start, end)`` (and ``project``, ``where``) as
    pages of ``batch_rows`` rows in key order. UUIDs come as text; ``nested_as_json``
    turns maps and arrays into JSON text (for CSV). Raises ConfigError for a table that is
    not raw or a ``where`` with ``;``, StorageError when ``where`` does not run."""
    if batch_rows < 1:
        raise ConfigError(f"batch_rows must be at least 1, not {batch_rows}")
    query = _Query.build(warehouse, table, start, end, project, where, nested_as_json)
    schema = warehouse.query_arrow(query.schema()).schema
    total = int(warehouse.scalar(query.count()) or 0)
    return ExportPages(schema, total, _pages(warehouse, query, batch_rows))


def _time_column(table: str) -> str:
    """The time column of a raw table; a clear error for anything else."""
    raw = ", ".join(RAW_TABLES)
    if table in AGGREGATES:
        raise ConfigError(
            f"{table!r} holds 5-minute aggregate states, which are useless outside ClickHouse; "
            f"export one of the raw tables instead: {raw}"
        )
    if table not in TIME_COLUMNS:
        raise ConfigError(f"cannot export {table!r}: exportable tables are {raw}")
    return TIME_COLUMNS[table]


def _user_where(where: str | None) -> str | None:
    """The user's extra condition, in parentheses; a ``;`` (a second statement) is refused."""
    if where is None or not where.strip():
        return None
    if ";" in where:
        raise ConfigError(
            f"where must be one boolean expression without ';', got {where!r} "
            "(quote a ';' inside a string value as char(59))"
        )
    return f"({where.strip()})"


@dataclass(frozen=True)
class _Query:
    """The SQL of one export: the select list, the conditions and the keyset pages."""

    source: str  # `table` FINAL
    time_column: str
    select: str
    conditions: tuple[str, ...]

    @classmethod
    def build(
        cls,
        warehouse: Any,
        table: str,
        start: datetime,
        end: datetime,
        project: str | None,
        where: str | None,
        nested_as_json: bool,
    ) -> _Query:
        time_column = _time_column(table)
        ts = quote_identifier(time_column)
        conditions = [f"{ts} >= {sql_literal(start)}", f"{ts} < {sql_literal(end)}"]
        if project is not None:
            conditions.append(f"project = {sql_literal(project)}")
        extra = _user_where(where)
        if extra is not None:
            conditions.append(extra)
        select = _select_list(warehouse, table, nested_as_json)
        return cls(f"{quote_identifier(table)} FINAL", time_column, select, tuple(conditions))

    def _sql(self, what: str, conditions: list[str], tail: str = "") -> str:
        where = " AND ".join(conditions)
        # WHERE and ORDER BY name the stored columns, not the converted aliases of the select list
        settings = "SETTINGS prefer_column_name_to_alias = 1"
        return f"SELECT {what} FROM {self.source} WHERE {where} {tail} {settings}"

    def _order(self) -> str:
        return f"ORDER BY {quote_identifier(self.time_column)}, request_id, project"

    def _keyset(self, key: _Key, op: str) -> list[str]:
        """``(time, request_id, project) <op> key``, and the time bound the index can use."""
        ts = quote_identifier(self.time_column)
        value = f"({sql_literal(key[0])}, toUUID({sql_literal(key[1])}), {sql_literal(key[2])})"
        return [f"{ts} {op[0]}= {sql_literal(key[0])}", f"({ts}, request_id, project) {op} {value}"]

    def count(self) -> str:
        return self._sql("count()", list(self.conditions))

    def schema(self) -> str:
        """No rows, every exported column: the file's schema, and a check of ``where``."""
        return self._sql(self.select, list(self.conditions), "LIMIT 0")

    def boundary(self, after: _Key | None, rows: int) -> str:
        """The key of the ``rows``-th row after ``after``: reads the three key columns only."""
        conditions = list(self.conditions) + (self._keyset(after, ">") if after else [])
        what = f"{quote_identifier(self.time_column)}, toString(request_id), project"
        return self._sql(what, conditions, f"{self._order()} LIMIT 1 OFFSET {rows - 1}")

    def page(self, after: _Key | None, upto: _Key | None) -> str:
        """Every row after ``after`` up to ``upto`` (included), in key order."""
        conditions = list(self.conditions)
        conditions += self._keyset(after, ">") if after else []
        conditions += self._keyset(upto, "<=") if upto else []
        return self._sql(self.select, conditions, self._order())


def _select_list(warehouse: Any, table: str, nested_as_json: bool) -> str:
    """Every stored column, with UUIDs as text and, in CSV, maps and arrays as JSON."""
    described = warehouse.query_arrow(f"DESCRIBE TABLE {quote_identifier(table)}").to_pylist()
    items = []
    for column in described:
        if column.get("default_type") in ("MATERIALIZED", "ALIAS", "EPHEMERAL"):
            continue  # SELECT * leaves them out too
        name, kind = quote_identifier(column["name"]), str(column["type"])
        if "UUID" in kind:
            items.append(f"toString({name}) AS {name}")
        elif nested_as_json and kind.removeprefix("Nullable(").startswith(_NESTED):
            items.append(f"toJSONString({name}) AS {name}")
        else:
            items.append(name)
    return ", ".join(items)


def _pages(warehouse: Any, query: _Query, batch_rows: int) -> Iterator[pa.Table]:
    """Pages of ``batch_rows`` rows (the last one shorter), in key order.

    Each page is two queries: the key of its last row (a top-N over three narrow columns),
    then the rows between the previous page's last key and that one. Asking for the wide
    rows with ``ORDER BY ... LIMIT`` instead would make the engine sort every remaining wide
    row to keep the first ``batch_rows`` of them.
    """
    after: _Key | None = None
    while True:
        found = warehouse.query_arrow(query.boundary(after, batch_rows))
        upto: _Key | None = None
        if found.num_rows:
            ts, request_id, project = (found.column(i)[0].as_py() for i in range(3))
            upto = (ts, str(request_id), str(project))
        page = warehouse.query_arrow(query.page(after, upto))
        if page.num_rows:
            yield page
        if upto is None:
            return
        after = upto
