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

import contextlib
import os
from datetime import datetime
from typing import TYPE_CHECKING

from ollive.store.migrations import aggregate_select
from ollive.store.quoting import quote_identifier, sql_literal
from ollive.store.tables import AGGREGATES, RAW_TABLES

if TYPE_CHECKING:  # pragma: no cover
    from ollive.store.base import Warehouse

__all__ = [
    "counts",
    "delete_where",
    "process_memory",
    "rebuild_aggregates",
    "release_memory",
    "tables",
]


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


def process_memory() -> dict[str, float]:
    """Where this process's memory is (MiB), to tell a leak from an allocator holding pages.

    ``malloc_in_use``/``malloc_free``: glibc's ``mallinfo2`` (bytes handed out by malloc,
    and freed bytes it keeps); ``arrow``: pyarrow's default pool; ``python_traced``: the
    Python heap when ``tracemalloc`` is tracing (``PYTHONTRACEMALLOC=1``); ``python_objects``:
    objects the garbage collector tracks (a count). Missing sources are left out.
    """
    import gc
    import tracemalloc

    out: dict[str, float] = {"python_objects": float(len(gc.get_objects()))}
    try:
        import ctypes

        class _MallInfo2(ctypes.Structure):
            _fields_ = [(name, ctypes.c_size_t) for name in (
                "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
                "uordblks", "fordblks", "keepcost")]  # fmt: skip

        libc = ctypes.CDLL("libc.so.6")
        libc.mallinfo2.restype = _MallInfo2
        info = libc.mallinfo2()
        out["malloc_in_use"] = (info.uordblks + info.hblkhd) / 2**20
        out["malloc_free"] = info.fordblks / 2**20
    except (OSError, AttributeError):
        pass
    try:
        import pyarrow as pa

        out["arrow"] = pa.total_allocated_bytes() / 2**20
    except ImportError:
        pass
    if tracemalloc.is_tracing():
        out["python_traced"] = tracemalloc.get_traced_memory()[0] / 2**20
    return out


def _rss_mib() -> float:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):  # not Linux
        return 0.0


def release_memory(warehouse: Warehouse | None = None) -> dict[str, float]:
    """Hand the pages the allocators keep after a free back to the OS; RSS before/after (MiB).

    Under a steady stream of small inserts, chDB's jemalloc keeps the freed pages of each
    insert and merge (its ``resident`` climbs while its live ``allocated`` stays flat), and
    glibc keeps freed chunks of the Python side. ``SYSTEM JEMALLOC PURGE`` (embedded chDB
    only: a server manages its own memory) and glibc's ``malloc_trim(0)`` return them; both
    take milliseconds. The warehouse actor calls this every ``release_memory_s``.
    """
    before = _rss_mib()
    if warehouse is not None and getattr(warehouse, "engine", "") == "chdb":
        # an engine built without jemalloc has nothing to purge
        with contextlib.suppress(Exception):
            warehouse.command("SYSTEM JEMALLOC PURGE")
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass
    return {"rss_before_mib": round(before, 1), "rss_after_mib": round(_rss_mib(), 1)}
