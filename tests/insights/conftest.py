"""Fixtures for insight tests: hand-written rows with known answers, and a seeded project."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
import pytest

from ollive.store import RAW_TABLES

#: the end of the hand-written data: the start of the current hour (buckets align), so the
#: tests that pass start/end and the views that look back from now (the filter bar's last
#: 14 days) both see it; a fixed date would fall out of those windows as the calendar moves
END = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)

_DEFAULTS: dict[str, Any] = {"string": "", "double": 0.0, "bool": False, "uint32": 0, "uint16": 0}


def _row(schema: pa.Schema, values: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for field in schema:
        if field.name in values:
            row[field.name] = values[field.name]
        elif field.name in ("request_id",):
            row[field.name] = str(uuid.uuid4())
        elif (
            field.name == "parent_request_id"
            or field.name == "ttft_ms"
            or pa.types.is_map(field.type)
        ):
            row[field.name] = None
        elif pa.types.is_timestamp(field.type):
            row[field.name] = values.get("started_at", values.get("timestamp", END))
        else:
            row[field.name] = _DEFAULTS.get(str(field.type), "")
    return row


@pytest.fixture
def insert(warehouse: Any, project: str) -> Callable[..., None]:
    """insert(table, [row dicts]): rows of the test's project, other columns defaulted."""

    def _insert(table: str, rows: list[dict[str, Any]]) -> None:
        schema = RAW_TABLES[table]
        data = [_row(schema, {"project": project, **r}) for r in rows]
        warehouse.insert_arrow(table, pa.Table.from_pylist(data, schema=schema))

    return _insert


@pytest.fixture
def con(warehouse: Any, project: str) -> Any:
    """An Ibis connection scoped to the test's project."""
    from ollive.store._ibis import Connection

    return Connection.from_warehouse(warehouse, project=project)


@pytest.fixture(scope="session")
def seeded(warehouse: Any) -> Any:
    """1M synthetic events (14 days ending at a fixed instant) in a project of their own."""
    from ollive.demo.synth import seed_warehouse

    project = f"synth-{uuid.uuid4().hex[:8]}"
    report = seed_warehouse(
        warehouse, events=1_000_000, end=datetime(2026, 11, 28, tzinfo=UTC), project=project
    )
    report.project = project  # type: ignore[attr-defined]
    return report


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)
