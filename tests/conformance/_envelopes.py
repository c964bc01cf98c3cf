"""The documented envelopes (``envelopes/*.json``) and what each field reads back as.

Every fixture is a whole event as an application writes it. :func:`expected_row` says, field
by field and independently of the ingest code, what the warehouse row holds afterwards:
timestamps in UTC cut to milliseconds, absent texts as ``""``, ``metadata``/``attributes``
and a list ``tool_calls_summary`` as JSON text, an integer ``prompt_version`` (v1.1) as its
decimal text.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ENVELOPES = Path(__file__).resolve().parent / "envelopes"
TABLE = {
    "inference": "inference_logs",
    "tool_execution": "tool_executions",
    "application": "application_logs",
    "score": "scores",
}
TIME_FIELDS = ("started_at", "finished_at", "timestamp")
JSON_FIELDS = ("metadata", "attributes")
NULLABLE = ("ttft_ms", "parent_request_id")
_FRACTION = re.compile(r"(\.\d{1,9})")


def load(name: str) -> dict[str, Any]:
    """One fixture, as parsed JSON."""
    return json.loads((ENVELOPES / f"{name}.json").read_text("utf-8"))


def names() -> list[str]:
    """Every fixture's name (file stem), sorted."""
    return sorted(p.stem for p in ENVELOPES.glob("*.json"))


def parse_time(text: str) -> datetime:
    """RFC 3339 text -> aware UTC datetime (fractions past microseconds are dropped)."""
    text = text.replace("Z", "+00:00")
    match = _FRACTION.search(text)
    if match:
        digits = match[1][1:]
        text = text.replace(match[1], "." + (digits + "000000")[:6], 1)
    return datetime.fromisoformat(text).astimezone(UTC)


def to_ms(moment: datetime) -> datetime:
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def expected_row(envelope: dict[str, Any]) -> dict[str, Any]:
    """Column -> the value the warehouse row must hold for ``envelope``."""
    out: dict[str, Any] = {}
    for key, value in envelope.items():
        if key == "log_type":
            continue
        if key in TIME_FIELDS:
            out[key] = to_ms(parse_time(value))
        elif key in JSON_FIELDS:
            out[key] = value  # compared after json.loads of the column
        elif key == "tool_calls_summary" and isinstance(value, list):
            out[key] = [{"name": c["name"], "args_preview": c.get("args_preview")} for c in value]
        elif key == "prompt_version" and isinstance(value, int):
            out[key] = str(value)
        elif value is None:
            out[key] = None if key in NULLABLE else ""
        elif isinstance(value, bool | str):
            out[key] = value
        elif isinstance(value, int | float) and (key.endswith(("_ms", "_usd")) or key == "value"):
            out[key] = float(value)
        elif isinstance(value, int | float):
            out[key] = int(value)
        else:
            out[key] = value
    if envelope.get("latency_ms") is None and "started_at" in envelope:
        span = parse_time(envelope["finished_at"]) - parse_time(envelope["started_at"])
        out["latency_ms"] = span.total_seconds() * 1000
    return out


def stored_value(column: str, value: Any, expected: Any) -> Any:
    """The column's value made comparable with :func:`expected_row` (JSON text parsed)."""
    if column in JSON_FIELDS:
        return json.loads(value)
    if column == "tool_calls_summary" and isinstance(expected, list):
        assert isinstance(value, str), f"{column} is stored as JSON text, got {value!r}"
        return json.loads(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return value


def compare(envelope: dict[str, Any], row: dict[str, Any]) -> list[str]:
    """Every field of ``envelope`` against ``row``; the differences as readable lines."""
    problems = []
    for column, want in expected_row(envelope).items():
        if column not in row:
            problems.append(f"{column}: no such column")
            continue
        got = stored_value(column, row[column], want)
        if isinstance(want, float) and isinstance(got, float):
            same = abs(want - got) <= 1e-9 * max(1.0, abs(want))
        else:
            same = got == want
        if not same:
            problems.append(f"{column}: sent {envelope[column]!r}, expected {want!r}, got {got!r}")
    return problems


def read_rows(con: Any, table: str, project: str, request_ids: list[str]) -> list[dict[str, Any]]:
    """The rows of ``request_ids`` through an ``ollive.connect()`` Ibis table, as a notebook
    reads them (UUID columns come back as text)."""
    t = con.table(table)
    t = t.filter(t.project == project, t.request_id.cast("string").isin(request_ids))
    return t.to_pyarrow().to_pylist()
