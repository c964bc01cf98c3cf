"""Validated events -> one Arrow table per raw table (schemas of :data:`RAW_TABLES`).

The project column comes from the API key, never from the body. UUIDs become strings,
timestamps UTC milliseconds, ``metadata``/``attributes`` JSON text; the per-event
``redactions`` (entity type -> count) fill the map column; ``ingested_at`` is the time of
conversion (the ReplacingMergeTree version column).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import orjson
import pyarrow as pa

from ollive.store.tables import RAW_TABLES, TABLE_FOR_LOG_TYPE

__all__ = ["events_to_arrow"]

_NULLABLE = {"ttft_ms", "parent_request_id"}
_SPECIAL = {"project", "redactions", "ingested_at", "metadata", "attributes"}


def _ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


def _getter(name: str, dtype: pa.DataType) -> Callable[[Any], Any]:
    """How to read column ``name`` of an event as a plain Python value."""
    if pa.types.is_timestamp(dtype):
        return lambda e: _ms(getattr(e, name))
    if name in _NULLABLE:
        return lambda e: (
            None if (v := getattr(e, name)) is None else (str(v) if name.endswith("_id") else v)
        )
    if name.endswith("request_id"):
        return lambda e: str(getattr(e, name))
    if pa.types.is_string(dtype):
        return lambda e: "" if (v := getattr(e, name)) is None else v
    if pa.types.is_floating(dtype):
        return lambda e: 0.0 if (v := getattr(e, name)) is None else float(v)
    if pa.types.is_integer(dtype):
        return lambda e: 0 if (v := getattr(e, name)) is None else int(v)
    return lambda e: getattr(e, name)


_GETTERS: dict[str, list[tuple[pa.Field, Callable[[Any], Any]]]] = {
    table: [(f, _getter(f.name, f.type)) for f in schema if f.name not in _SPECIAL]
    for table, schema in RAW_TABLES.items()
}


def _json(value: Any) -> str:
    if not value:
        return "{}"
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # an integer beyond 64 bits: valid JSON that orjson refuses to write
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _table(
    table: str,
    project: str,
    events: Sequence[Any],
    redactions: Sequence[Mapping[str, int]],
    now_ms: int,
) -> pa.Table:
    schema = RAW_TABLES[table]
    n = len(events)
    columns: dict[str, pa.Array] = {}
    for fld, get in _GETTERS[table]:
        columns[fld.name] = pa.array([get(e) for e in events], type=fld.type)
    columns["project"] = pa.array([project] * n, type=pa.string())
    columns["metadata"] = pa.array([_json(e.metadata) for e in events], type=pa.string())
    if "attributes" in schema.names:
        columns["attributes"] = pa.array([_json(e.attributes) for e in events], type=pa.string())
    columns["redactions"] = pa.array(
        [list(r.items()) for r in redactions], type=schema.field("redactions").type
    )
    columns["ingested_at"] = pa.array([now_ms] * n, type=schema.field("ingested_at").type)
    return pa.Table.from_arrays([columns[name] for name in schema.names], schema=schema)


def events_to_arrow(
    project: str,
    events: Sequence[Any],
    redactions: Sequence[Mapping[str, int]] | None = None,
    now_ms: int | None = None,
) -> dict[str, pa.Table]:
    """Group ``events`` by raw table and convert; ``redactions[i]`` belongs to ``events[i]``."""
    counts = redactions if redactions is not None else [{}] * len(events)
    now = int(time.time() * 1000) if now_ms is None else now_ms
    grouped: dict[str, tuple[list[Any], list[Mapping[str, int]]]] = {}
    for event, red in zip(events, counts, strict=True):
        evs, reds = grouped.setdefault(TABLE_FOR_LOG_TYPE[event.log_type], ([], []))
        evs.append(event)
        reds.append(red)
    return {table: _table(table, project, evs, reds, now) for table, (evs, reds) in grouped.items()}
