"""The wire contract: validation a user can act on, and the exported JSON Schema."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from ollive import ids as _ids
from ollive._schema_file import SCHEMA_PATH, render_schema
from ollive.errors import ContractError
from ollive.events import (
    MAX_PREVIEW_CHARS,
    SCHEMA_VERSION,
    SCHEMA_VERSIONS,
    ApplicationEvent,
    InferenceEvent,
    ScoreEvent,
    ToolExecutionEvent,
    parse_event,
    template_hash,
)

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def inference(**overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "log_type": "inference",
        "request_id": str(_ids.uuid7()),
        "provider": "openai",
        "model": "gpt-4o",
        "started_at": NOW.isoformat(),
        "finished_at": (NOW + timedelta(milliseconds=1200)).isoformat(),
        "prompt_tokens": 100,
        "completion_tokens": 20,
    }
    body.update(overrides)
    return body


def errors_of(body: dict[str, object]) -> dict[str, str]:
    with pytest.raises(ContractError) as info:
        parse_event(body)
    return {e["loc"]: e["msg"] for e in info.value.errors}


def test_each_log_type_parses_to_its_model() -> None:
    rid = str(_ids.uuid7())
    assert isinstance(parse_event(inference()), InferenceEvent)
    tool = {
        "log_type": "tool_execution",
        "request_id": rid,
        "parent_request_id": rid,
        "tool_name": "lookup_order",
        "started_at": NOW.isoformat(),
        "finished_at": NOW.isoformat(),
    }
    assert isinstance(parse_event(tool), ToolExecutionEvent)
    app = {
        "log_type": "application",
        "request_id": rid,
        "timestamp": NOW.isoformat(),
        "level": "warn",
    }
    parsed = parse_event(app)
    assert isinstance(parsed, ApplicationEvent) and parsed.level == "WARNING"
    score = {
        "log_type": "score",
        "request_id": rid,
        "timestamp": NOW.isoformat(),
        "target_request_id": rid,
        "name": "thumbs_up",
        "value": 1,
    }
    assert isinstance(parse_event(score), ScoreEvent)


def test_derived_fields_are_filled() -> None:
    event = parse_event(inference())
    assert isinstance(event, InferenceEvent)
    assert event.latency_ms == pytest.approx(1200)
    assert event.total_tokens == 120
    assert event.schema_version == "1.0"


def test_previews_are_cut_not_rejected() -> None:
    event = parse_event(inference(input_preview="x" * 5000, output_preview="y" * 501))
    assert isinstance(event, InferenceEvent)
    assert len(event.input_preview or "") == MAX_PREVIEW_CHARS
    assert len(event.output_preview or "") == MAX_PREVIEW_CHARS


def test_errors_name_the_field_and_reason() -> None:
    errors = errors_of(
        inference(
            request_id="not-a-uuid",
            started_at="2026-11-28T12:00:00",  # naive
            prompt_tokens=-1,
            trace_id="XYZ",
        )
    )
    assert "request_id" in errors and "UUID" in errors["request_id"]
    assert "started_at" in errors and "timezone" in errors["started_at"]
    assert "prompt_tokens" in errors
    assert "trace_id" in errors and "hex" in errors["trace_id"]


def test_time_order_and_latency_consistency() -> None:
    backwards = inference(finished_at=(NOW - timedelta(seconds=1)).isoformat())
    assert any("before started_at" in m for m in errors_of(backwards).values())
    inconsistent = inference(latency_ms=5000)
    assert any("disagrees" in m for m in errors_of(inconsistent).values())
    assert parse_event(inference(latency_ms=1190))  # clock skew tolerance


def test_total_tokens_and_ttft_bounds() -> None:
    assert any("total_tokens" in m for m in errors_of(inference(total_tokens=5)).values())
    assert errors_of(inference(ttft_ms=99_999))


def test_metadata_bounded_in_size_and_depth() -> None:
    deep: dict[str, object] = {}
    node = deep
    for _ in range(10):
        node["k"] = {}
        node = node["k"]  # type: ignore[assignment]
    assert "metadata" in errors_of(inference(metadata=deep))
    assert "metadata" in errors_of(inference(metadata={"blob": "x" * 20_000}))
    assert parse_event(inference(metadata={"tenant": "a", "tags": ["x", "y"]}))


def test_nan_unknown_fields_and_far_timestamps_are_rejected() -> None:
    assert errors_of(inference(latency_ms=float("nan")))
    assert "surprise" in errors_of(inference(surprise=1))
    assert "started_at" in errors_of(inference(started_at="1970-01-01T00:00:00Z"))
    assert errors_of({"log_type": "nope", "request_id": str(_ids.uuid7())})


def test_json_text_input() -> None:
    assert isinstance(parse_event(json.dumps(inference())), InferenceEvent)


def test_exported_schema_is_current() -> None:
    """Fails when events.py changed without `ollive schema` being run."""
    assert SCHEMA_PATH.read_text("utf-8") == render_schema(), "run `ollive schema` and commit"
    schema = json.loads(render_schema())
    assert {"inference", "tool_execution", "application", "score"} <= set(
        schema["discriminator"]["mapping"]
    )


def test_exported_schema_validates_real_events() -> None:
    import jsonschema

    schema = json.loads(render_schema())
    jsonschema.validate(inference(), schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(inference(prompt_tokens=-5), schema)


def test_uuid7_is_time_ordered_and_versioned() -> None:
    ids = [_ids.uuid7() for _ in range(1000)]
    assert all(i.version == 7 for i in ids)
    assert ids == sorted(ids)
    assert len(_ids.new_trace_id()) == 32 and len(_ids.new_span_id()) == 16


def test_tool_calls_summary_takes_the_documented_list_and_the_string_form() -> None:
    calls = [{"name": "get_current_time", "args_preview": '{"tz": "UTC"}'}]
    event = parse_event(inference(tool_calls_count=1, tool_calls_summary=calls))
    assert isinstance(event, InferenceEvent)
    assert json.loads(event.tool_calls_summary or "") == calls
    assert parse_event(inference(tool_calls_summary=[])).tool_calls_summary == "[]"  # type: ignore[union-attr]
    legacy = parse_event(inference(tool_calls_summary="get_current_time(UTC)"))
    assert legacy.tool_calls_summary == "get_current_time(UTC)"  # type: ignore[union-attr]
    errors = errors_of(inference(tool_calls_summary=[{"tool": "x"}]))
    assert 'expected a list of {"name", "args_preview"} objects' in errors["tool_calls_summary"]


# --- contract v1.1: prompt versions -----------------------------------------------------


def test_a_v1_0_event_without_prompt_fields_is_still_valid_and_unchanged() -> None:
    for body in (inference(), inference(schema_version="1.0")):
        event = parse_event(body)
        assert isinstance(event, InferenceEvent)
        assert event.schema_version == "1.0"
        assert (event.prompt_name, event.prompt_version, event.prompt_hash) == (None, None, None)
    assert SCHEMA_VERSION == "1.1" and SCHEMA_VERSIONS == ("1.0", "1.1")


def test_a_v1_1_inference_carries_its_prompt() -> None:
    digest = template_hash("You answer support questions about {product}.")
    event = parse_event(
        inference(
            schema_version="1.1", prompt_name="support-answer", prompt_version=3, prompt_hash=digest
        )
    )
    assert isinstance(event, InferenceEvent)
    assert (event.prompt_name, event.prompt_version, event.prompt_hash) == (
        "support-answer",
        "3",  # an integer version is stored as its decimal text
        digest,
    )
    assert event.model_dump(mode="json")["prompt_version"] == "3"
    # without schema_version, prompt fields make it a v1.1 event; a stated version is kept
    assert parse_event(inference(prompt_name="support-answer")).schema_version == "1.1"  # type: ignore[union-attr]
    assert parse_event(inference(schema_version="1.0", prompt_version="v2")).schema_version == "1.0"


def test_template_hash_is_the_first_16_hex_of_sha256() -> None:
    import hashlib

    text = "Résumé: {text}\nAnswer in one line."
    assert template_hash(text) == hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    assert len(template_hash("")) == 16 and template_hash("a") != template_hash("b")


@pytest.mark.parametrize(
    ("fields", "loc", "message"),
    [
        ({"prompt_hash": "ABCDEF0123456789"}, "prompt_hash", "16 lowercase hex digits"),
        ({"prompt_hash": "abc"}, "prompt_hash", "SHA-256 of the template text"),
        ({"prompt_version": "v" * 65}, "prompt_version", "at most 64 characters"),
        ({"prompt_version": True}, "prompt_version", "valid string"),
        ({"prompt_name": "n" * 257}, "prompt_name", "at most 256 characters"),
        ({"schema_version": "1.2"}, "schema_version", "'1.0' or '1.1'"),
    ],
)
def test_bad_prompt_fields_are_rejected_by_name(
    fields: dict[str, object], loc: str, message: str
) -> None:
    errors = errors_of(inference(**fields))
    assert loc in errors and message in errors[loc], errors


def test_prompt_fields_belong_to_inferences_only() -> None:
    rid = str(_ids.uuid7())
    tool = {
        "log_type": "tool_execution",
        "request_id": rid,
        "tool_name": "lookup_order",
        "started_at": NOW.isoformat(),
        "finished_at": NOW.isoformat(),
        "prompt_name": "support-answer",
    }
    assert "prompt_name" in errors_of(tool)


def test_the_exported_schema_knows_v1_1() -> None:
    import jsonschema

    schema = json.loads(render_schema())
    digest = template_hash("t")
    jsonschema.validate(
        inference(schema_version="1.1", prompt_name="a", prompt_version=3, prompt_hash=digest),
        schema,
    )
    jsonschema.validate(inference(schema_version="1.0"), schema)
    for bad in ({"prompt_hash": "XYZ"}, {"prompt_version": "v" * 65}, {"schema_version": "2.0"}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(inference(**bad), schema)
