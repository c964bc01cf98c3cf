"""The documented envelopes posted as they are to ``POST /v1/logs`` of the real ingest app,
then read back through ``ollive.connect()`` field by field."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest

from ollive.insights import decode_tool_calls

from ._envelopes import ENVELOPES, TABLE, compare, load, names, read_rows
from .conftest import KEY, PROJECT, Ingest

pytestmark = pytest.mark.slow

NAMES = names()


def _rows(con: Any, table: str, request_ids: list[str], timeout_s: float = 60) -> list[dict]:
    deadline = time.monotonic() + timeout_s
    while True:
        rows = read_rows(con, table, PROJECT, request_ids)
        if len(rows) >= len(request_ids) or time.monotonic() > deadline:
            return rows
        time.sleep(0.3)


@pytest.fixture(scope="module")
def posted(ingest: Ingest) -> dict[str, Any]:
    """Every fixture in one body, exactly as the files hold them; the answer."""
    texts = [(ENVELOPES / f"{n}.json").read_text("utf-8") for n in NAMES]
    answer = httpx.post(
        ingest.url + "/v1/logs",
        content=('{"events": [' + ",".join(texts) + "]}").encode(),
        headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"},
        timeout=60,
    )
    return {"status": answer.status_code, "json": answer.json()}


def test_every_documented_envelope_is_accepted(posted: dict[str, Any]) -> None:
    assert posted["status"] == 202, posted
    assert posted["json"]["rejected"] == [], posted["json"]
    assert posted["json"]["accepted"] == len(NAMES)


def test_the_issue_envelope_alone_is_accepted(ingest: Ingest, posted: dict[str, Any]) -> None:
    """The single event of the bug report, a second time: accepted and a duplicate.

    Retried on 429 as the SDK does: until the writer has marked the first copy committed
    (one flush after its 202, longer on a loaded machine), the copy is answered 429."""
    for _ in range(20):
        answer = httpx.post(
            ingest.url + "/v1/logs",
            content=json.dumps({"events": [load("inference_tool_calls")]}).encode(),
            headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"},
            timeout=60,
        )
        if answer.status_code != 429:
            break
        time.sleep(float(answer.headers.get("retry-after", "1")))
    assert answer.status_code == 202
    assert answer.json()["rejected"] == [] and answer.json()["duplicates"] == 1


@pytest.mark.parametrize("name", NAMES)
def test_every_field_reads_back_through_connect(
    ingest: Ingest, posted: dict[str, Any], name: str
) -> None:
    import ollive

    envelope = load(name)
    con = ollive.connect("ray://warehouse", project=PROJECT)
    rows = _rows(con, TABLE[envelope["log_type"]], [envelope["request_id"]])
    assert len(rows) == 1, f"{name}: {len(rows)} rows"
    row = rows[0]
    assert compare(envelope, row) == []
    assert row["project"] == PROJECT
    assert dict(row["redactions"] or []) == {}  # the fixtures carry no PII: nothing rewritten
    if envelope["log_type"] == "inference":
        summary = envelope["tool_calls_summary"]
        stored = row["tool_calls_summary"]
        if isinstance(summary, list):
            assert json.loads(stored) == decode_tool_calls(stored)
            assert [c["name"] for c in json.loads(stored)] == [c["name"] for c in summary]
        else:
            assert stored == (summary or "")  # the string form is stored as it came


def test_a_wrong_shape_is_answered_with_the_expected_shape(ingest: Ingest) -> None:
    bad = load("inference_tool_calls") | {
        "request_id": "01a2372c-63d4-7fff-8000-000000000001",
        "tool_calls_summary": {"name": "get_current_time"},
    }
    answer = httpx.post(
        ingest.url + "/v1/logs",
        content=json.dumps({"events": [bad]}).encode(),
        headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"},
        timeout=60,
    )
    assert answer.status_code == 202
    [rejected] = answer.json()["rejected"]
    assert rejected["index"] == 0
    [error] = rejected["errors"]
    assert error["loc"] == "tool_calls_summary"
    assert error["msg"].startswith('expected a list of {"name", "args_preview"} objects, e.g. [{')
