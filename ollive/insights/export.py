"""Export a raw table to Parquet, CSV or Arrow IPC in batches, so memory stays flat.

>>> import ollive
>>> from ollive.insights.export import export
>>> con = ollive.connect(project="demo")                                # doctest: +SKIP
>>> export(con, "inference_logs", "errors.parquet", since="7d",
...        where="status = 'error' AND model = 'gpt-4o'")                # doctest: +SKIP
ExportReport(table='inference_logs', path='errors.parquet', format='parquet', rows=1234, ...)

The rows are read one page at a time (:func:`ollive.store.export.export_pages`: keyset
pages in time order, read with ``FINAL`` so a retried event is exported once) and each page
is written as it arrives: a Parquet row group, a CSV chunk, an Arrow record batch. The SQL
lives in the store, as every dialect detail does: Ibis can express neither ``FINAL`` nor a
user's SQL predicate. Insight functions are Ibis expressions without ``FINAL``, so a
duplicate that has not merged yet still counts there, but not in an export.
"""

from __future__ import annotations

import dataclasses
import json
import os
import resource
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa

from ollive.errors import ConfigError
from ollive.insights.filters import Filters
from ollive.store.export import ExportPages, export_pages

__all__ = ["ExportReport", "export"]

FORMATS = ("parquet", "csv", "arrow")
_SUFFIXES = {
    ".parquet": "parquet",
    ".csv": "csv",
    ".arrow": "arrow",
    ".feather": "arrow",
    ".ipc": "arrow",
}


@dataclass(frozen=True)
class ExportReport:
    """What :func:`export` wrote: ``rows`` in ``batches`` pages, ``bytes`` on disk, in
    ``seconds``. ``peak_rss_mib`` is the peak resident memory of the process so far."""

    table: str
    path: str
    format: str
    rows: int
    batches: int
    seconds: float
    bytes: int
    peak_rss_mib: float

    def to_json(self) -> str:
        """The report as one JSON line."""
        return json.dumps(dataclasses.asdict(self))


def export(
    con: Any,
    table: str,
    path: str | os.PathLike[str],
    *,
    since: str | timedelta = "7d",
    until: datetime | str | None = None,
    where: str | None = None,
    format: str | None = None,
    project: str | None = None,
    batch_rows: int = 100_000,
    progress: bool = True,
) -> ExportReport:
    """Write the rows of ``table`` from ``since`` before ``until`` (default: now) to ``path``.

    ``con``: a connection (``ollive.connect()``). ``table``: one of the raw tables
    (inference_logs, tool_executions, application_logs, scores). ``format``: ``parquet``,
    ``csv`` or ``arrow`` (an Arrow IPC file); when None it is taken from the suffix
    (``.parquet``, ``.csv``, ``.arrow``/``.feather``/``.ipc``). ``project``: defaults to the
    connection's project. None or ``""`` means every project. ``where``: an extra ClickHouse
    boolean expression over the table's columns, e.g. ``"status = 'error'"``. It is trusted
    SQL, so no ``;`` is allowed. ``batch_rows``: rows per page. ``progress``: show a tqdm bar.

    Rows are ordered by time, then request_id and project. UUIDs are written as text, so the
    columns match :func:`ollive.store.arrow_schema`. CSV also writes maps as JSON. The file
    is written to ``<path>.partial`` and renamed to ``path`` only on success.
    Raises :class:`~ollive.errors.ConfigError` for a wrong table, format, range or ``where``,
    and :class:`~ollive.errors.StorageError` when the warehouse fails (e.g. bad ``where`` SQL).
    """
    fmt = _format_of(path, format)
    scope = project if project is not None else getattr(con, "project", None)
    start, end = _range(since, until)
    source = export_pages(con.warehouse, table, start=start, end=end, project=scope or None,
                          where=where, batch_rows=batch_rows, nested_as_json=fmt == "csv")  # fmt: skip
    target = Path(path)
    partial = target.with_name(target.name + ".partial")
    began = time.perf_counter()
    try:
        rows, batches = _write(source, partial, fmt, progress)
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return ExportReport(
        table=table,
        path=str(target),
        format=fmt,
        rows=rows,
        batches=batches,
        seconds=round(time.perf_counter() - began, 3),
        bytes=target.stat().st_size,
        peak_rss_mib=round(_peak_rss_mib(), 1),
    )


def _format_of(path: str | os.PathLike[str], format: str | None) -> str:
    """The export format asked for, or the one the path's suffix names."""
    if format is not None:
        fmt = format.lower().strip()
        if fmt not in FORMATS:
            raise ConfigError(f"unknown export format {format!r}: use parquet, csv or arrow")
        return fmt
    suffix = Path(path).suffix.lower()
    if suffix not in _SUFFIXES:
        raise ConfigError(
            f"cannot tell the export format of {os.fspath(path)!r} from its suffix: name the "
            "file *.parquet, *.csv or *.arrow (.feather, .ipc), or pass format='parquet', "
            "'csv' or 'arrow'"
        )
    return _SUFFIXES[suffix]


def _range(since: str | timedelta, until: datetime | str | None) -> tuple[datetime, datetime]:
    """``[until - since, until)`` in UTC (``until`` defaults to now)."""
    try:
        return Filters(window=since, end=until).range()
    except ConfigError:
        raise
    except ValueError as exc:  # an ``until`` that is no ISO date/time
        raise ConfigError(
            f"invalid until {until!r} ({exc}): use an ISO date/time such as 2026-11-28T00:00:00"
        ) from None


def _write(source: ExportPages, path: Path, fmt: str, progress: bool) -> tuple[int, int]:
    """Stream the pages of ``source`` into a new ``fmt`` file at ``path``; (rows, batches)."""
    schema = source.schema
    bar = _progress_bar(source.total, path.name.removesuffix(".partial"), progress)
    rows = batches = 0
    writer = _open_writer(fmt, path, schema)
    try:
        for page in source.pages:
            writer.write_table(page if page.schema == schema else page.cast(schema))
            rows, batches = rows + page.num_rows, batches + 1
            if bar is not None:
                bar.update(page.num_rows)
    finally:
        writer.close()
        if bar is not None:
            bar.close()
    return rows, batches


def _open_writer(fmt: str, path: Path, schema: pa.Schema) -> Any:
    """A writer with ``write_table`` and ``close`` for ``fmt``."""
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return pq.ParquetWriter(str(path), schema)
    if fmt == "csv":
        import pyarrow.csv as pcsv

        return pcsv.CSVWriter(str(path), schema)
    return pa.ipc.new_file(str(path), schema)


def _progress_bar(total: int, name: str, enabled: bool) -> Any:
    """A tqdm bar over ``total`` rows (None when disabled)."""
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="rows", unit_scale=True, desc=name, dynamic_ncols=True)


def _peak_rss_mib() -> float:
    """The process's peak resident set size (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024
