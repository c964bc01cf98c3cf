"""Every documented envelope against the exported JSON Schema and the pydantic contract
(fast: no Ray, no warehouse), and the answers a wrong ``tool_calls_summary`` gets."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ollive._schema_file import SCHEMA_PATH
from ollive.errors import ContractError
from ollive.events import TOOL_CALLS_SUMMARY_EXAMPLE, parse_event
from ollive.ingest.validate import parse_body
from ollive.insights import decode_tool_calls

from ._envelopes import TIME_FIELDS, expected_row, load, names, parse_time

NAMES = names()


@pytest.fixture(scope="module")
def validator() -> Any:
    import jsonschema

    schema = json.loads(SCHEMA_PATH.read_text("utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def test_the_fixtures_cover_the_documented_envelopes() -> None:
    kinds = {load(n)["log_type"] for n in NAMES}
    assert kinds == {"inference", "tool_execution", "application", "score"}
    statuses = {load(n).get("status") for n in NAMES if load(n)["log_type"] == "inference"}
    assert statuses == {"ok", "error", "cancelled", "timeout"}
    stamps = [load(n)[f] for n in NAMES for f in TIME_FIELDS if f in load(n)]
    assert any(s.endswith("Z") for s in stamps) and any("+02:00" in s for s in stamps)
    assert any("-05:00" in s for s in stamps)
    assert any(len(s.split(".")[-1].rstrip("Z")) == 9 for s in stamps if "." in s)  # nanos
    assert any(len(s.split(".")[-1].rstrip("Z")) == 6 for s in stamps if "." in s)  # micros
    assert any(load(n).get("user_id", "x") is None for n in NAMES)
    assert any(load(n).get("ttft_ms") for n in NAMES)
    summaries = [load(n).get("tool_calls_summary") for n in NAMES]
    assert [] in summaries and any(isinstance(s, list) and s for s in summaries)
    assert any(isinstance(s, str) for s in summaries)  # the form older SDKs send
    versions = {load(n)["schema_version"] for n in NAMES}
    assert versions == {"1.0", "1.1"}  # v1.0 envelopes stay valid next to v1.1 ones
    prompted = [load(n) for n in NAMES if load(n).get("prompt_name")]
    assert prompted and all(e["schema_version"] == "1.1" for e in prompted)
    assert any(isinstance(e["prompt_version"], int) for e in prompted)


@pytest.mark.parametrize("name", NAMES)
def test_the_schema_accepts_every_fixture(name: str, validator: Any) -> None:
    errors = [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(load(name))]
    assert not errors, errors


@pytest.mark.parametrize("name", NAMES)
def test_pydantic_parses_every_fixture_as_documented(name: str) -> None:
    envelope = load(name)
    for event in (parse_event(envelope), parse_event(json.dumps(envelope))):
        assert event.log_type == envelope["log_type"]
        want = expected_row(envelope)
        for field, sent in envelope.items():
            got = getattr(event, field)
            if field in TIME_FIELDS:
                assert got == parse_time(sent), field
            elif field == "tool_calls_summary" and isinstance(sent, list):
                assert isinstance(got, str) and json.loads(got) == want[field]
                assert decode_tool_calls(got) == want[field]
            elif field in ("request_id", "parent_request_id", "target_request_id") and sent:
                assert str(got) == sent, field
            elif field == "latency_ms" and sent is None:
                assert got == pytest.approx(want["latency_ms"]), field
            elif field == "total_tokens" and sent is None:
                continue
            elif field == "prompt_version":
                assert got == want[field], field  # an integer is stored as its text
            else:
                assert got == sent, field


def test_a_whole_batch_of_fixtures_is_accepted() -> None:
    body = json.dumps({"events": [load(n) for n in NAMES]}).encode()
    parsed = parse_body(body, max_events=100)
    assert parsed.rejected == [] and len(parsed.events) == len(NAMES)


def test_the_documented_tool_calls_summary_and_its_other_forms() -> None:
    envelope = load("inference_tool_calls")
    listed = envelope["tool_calls_summary"]
    as_list = parse_event(envelope).tool_calls_summary
    as_text = parse_event(envelope | {"tool_calls_summary": json.dumps(listed)}).tool_calls_summary
    assert (
        as_list == as_text == '[{"name":"get_current_time","args_preview":"{\\"tz\\": \\"UTC\\"}"}]'
    )
    assert parse_event(envelope | {"tool_calls_summary": "[]"}).tool_calls_summary == "[]"
    assert parse_event(envelope | {"tool_calls_summary": None}).tool_calls_summary is None
    legacy = 'get_current_time({"tz": "UTC"}); lookup_order(A1)'
    assert parse_event(envelope | {"tool_calls_summary": legacy}).tool_calls_summary == legacy
    assert decode_tool_calls(legacy) == [
        {"name": "get_current_time", "args_preview": '{"tz": "UTC"}'},
        {"name": "lookup_order", "args_preview": "A1"},
    ]
    assert parse_event(envelope | {"tool_calls_summary": "x" * 900}).tool_calls_summary == (
        "x" * 499 + "…"
    )
    long_args = [{"name": "t", "args_preview": "a" * 900}]
    cut = json.loads(parse_event(envelope | {"tool_calls_summary": long_args}).tool_calls_summary)
    assert cut[0]["args_preview"] == "a" * 499 + "…"


@pytest.mark.parametrize(
    ("value", "detail"),
    [
        ({"name": "get_current_time"}, "got dict"),
        (7, "got int"),
        (["get_current_time"], "[0]"),
        ([{"tool": "get_current_time"}], "[0].name: Field required"),
        ([{"name": ""}], "[0].name"),
        ([{"name": "t", "args_preview": {"tz": "UTC"}}], "[0].args_preview"),
    ],
)
def test_a_wrong_tool_calls_summary_says_what_was_expected(value: Any, detail: str) -> None:
    with pytest.raises(ContractError) as info:
        parse_event(load("inference_tool_calls") | {"tool_calls_summary": value})
    [error] = info.value.errors
    assert error["loc"] == "tool_calls_summary"
    assert error["msg"].startswith('expected a list of {"name", "args_preview"} objects, e.g. ')
    assert TOOL_CALLS_SUMMARY_EXAMPLE in error["msg"] and detail in error["msg"]
    json.loads(TOOL_CALLS_SUMMARY_EXAMPLE)  # the example itself is valid JSON


def test_tool_calls_summary_is_bounded_like_metadata() -> None:
    envelope = load("inference_tool_calls")
    many = [{"name": f"t{i}"} for i in range(129)]
    with pytest.raises(ContractError, match="129 entries; the limit is 128"):
        parse_event(envelope | {"tool_calls_summary": many})
    big = [{"name": "t" * 256, "args_preview": "é" * 500} for _ in range(20)]
    with pytest.raises(ContractError, match="bytes as JSON; the limit is 16384"):
        parse_event(envelope | {"tool_calls_summary": big})


def test_the_http_answer_names_the_shape() -> None:
    body = {"events": [load("inference_tool_calls") | {"tool_calls_summary": {"name": "x"}}]}
    parsed = parse_body(json.dumps(body).encode(), max_events=10)
    [rejection] = parsed.rejected
    assert rejection.index == 0 and rejection.errors[0]["loc"] == "tool_calls_summary"
    assert "expected a list of" in rejection.errors[0]["msg"]
