"""validate ▸ price ▸ redact ▸ Arrow, Ray-free, with the real Redactor and the chDB warehouse."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pyarrow as pa
import pytest

from ollive.ingest import IngestPipeline, events_to_arrow
from ollive.redact import RedactionResult, Redactor
from ollive.store import RAW_TABLES

EMAIL = "write to ada.lovelace@example.com today"


@pytest.fixture(scope="module")
def pipeline() -> IngestPipeline:
    return IngestPipeline(Redactor())


def _body(events: list[dict[str, Any]]) -> bytes:
    return json.dumps({"events": events}).encode()


def _all_types(inference: Any) -> list[dict[str, Any]]:
    ev = inference(input_preview=EMAIL, output_preview="fine", error_message=EMAIL)
    tool = {**inference(args_preview=EMAIL, result_preview="ok"), "log_type": "tool_execution"}
    for key in ("provider", "model", "prompt_tokens", "completion_tokens"):
        tool.pop(key)
    tool["tool_name"] = "lookup"
    app = {
        "log_type": "application",
        "request_id": inference()["request_id"],
        "timestamp": ev["finished_at"],
        "message": EMAIL,
    }
    score = {
        "log_type": "score",
        "request_id": inference()["request_id"],
        "timestamp": ev["finished_at"],
        "target_request_id": ev["request_id"],
        "name": "thumbs",
        "value": 1,
        "comment": EMAIL,
    }
    return [ev, tool, app, score]


def test_every_text_field_is_redacted_and_counted(
    pipeline: IngestPipeline, make_inference: Any
) -> None:
    batch = pipeline.prepare(_body(_all_types(make_inference)), "p1")
    assert not batch.rejected and len(batch.events) == 4
    texts = [
        batch.events[0].input_preview,
        batch.events[0].error_message,
        batch.events[1].args_preview,
    ]
    texts += [batch.events[2].message, batch.events[3].comment]
    assert all("ada.lovelace" not in (t or "") for t in texts)
    assert batch.redactions[0] == {"EMAIL_ADDRESS": 2}
    assert batch.redaction_totals() == {"EMAIL_ADDRESS": 5}


def test_cost_is_filled_from_the_price_table(pipeline: IngestPipeline, make_inference: Any) -> None:
    batch = pipeline.prepare(
        _body([make_inference(prompt_tokens=1_000_000, completion_tokens=0)]), "p1"
    )
    assert batch.events[0].cost_usd and batch.events[0].cost_usd > 0


class _Failing:
    """A redactor whose every text fails, as a broken Presidio would."""

    def redact_batch(
        self, texts: Sequence[str], project: str | None = None
    ) -> list[RedactionResult]:
        return [RedactionResult(text="", error="boom") for _ in texts]


def test_fail_open_drops_the_text_and_counts_it(make_inference: Any) -> None:
    batch = IngestPipeline(_Failing()).prepare(_body([make_inference(input_preview=EMAIL)]), "p1")
    assert batch.events[0].input_preview is None
    assert batch.redactions[0] == {"REDACTION_FAILED": 1}


def test_fail_closed_rejects_the_event_with_its_field(make_inference: Any) -> None:
    pipe = IngestPipeline(_Failing(), fail_closed=True)
    batch = pipe.prepare(_body([make_inference(), make_inference(output_preview=EMAIL)]), "p1")
    assert len(batch.events) == 1
    assert batch.rejected[0].index == 1 and batch.rejected[0].errors[0]["loc"] == "output_preview"


def test_arrow_tables_match_the_raw_schemas_and_insert(
    pipeline: IngestPipeline, warehouse: Any, project: str, make_inference: Any
) -> None:
    events = [e for _ in range(3) for e in _all_types(make_inference)]
    batch = pipeline.prepare(_body(events), project)
    batch.keep([True] * 12)
    shards = batch.to_arrow(shards=2)
    assert sum(t.num_rows for part in shards for t in part.values()) == 12
    tables = events_to_arrow(project, batch.events, batch.redactions)
    for name, table in tables.items():
        assert table.schema.equals(RAW_TABLES[name])
        warehouse.insert_arrow(name, table, token=f"{project}-{name}")
    got = warehouse.query_arrow(
        f"SELECT redactions['EMAIL_ADDRESS'] AS n, project FROM inference_logs WHERE project = '{project}'"
    )
    assert got.column("n").to_pylist() == [2, 2, 2]


def test_dedupe_keep_mask_drops_events(pipeline: IngestPipeline, make_inference: Any) -> None:
    batch = pipeline.prepare(_body([make_inference(), make_inference()]), "p1")
    batch.keep([False, True])
    assert len(batch.events) == 1 and len(batch.redactions) == 1
    assert isinstance(batch.to_arrow()[0]["inference_logs"], pa.Table)


def test_the_request_ids_of_a_shard_are_its_arrow_rows(
    pipeline: IngestPipeline, make_inference: Any
) -> None:
    """A replica releases the dedupe claims of the shards whose write failed, and only
    those: the ids it names for a shard are the rows that shard's writer was sent."""
    events = [e for _ in range(10) for e in _all_types(make_inference)]
    batch = pipeline.prepare(_body(events), "p1")
    shards = batch.to_arrow(shards=3)
    for shard, tables in enumerate(shards):
        rows = {rid for t in tables.values() for rid in t.column("request_id").to_pylist()}
        assert set(batch.request_ids_in([shard], 3)) == rows
    assert sorted(batch.request_ids_in([0, 2], 3) + batch.request_ids_in([1], 3)) == sorted(
        batch.request_ids
    )
