"""Hostile input against the contract and the ingest pipeline (Ray-free, property-based).

``parse_event`` raises nothing but ContractError, whatever JSON-ish value it gets, and an
accepted event round-trips. ``IngestPipeline.prepare`` answers any body with a batch,
ContractError (400) or BatchTooLargeError (413); a bad event never rejects its batch mates,
its rejection names the field path, and nothing of it reaches the warehouse.
"""

from __future__ import annotations

import gzip
import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ollive.errors import ContractError
from ollive.events import MAX_METADATA_DEPTH, MAX_PREVIEW_CHARS, parse_event
from ollive.ingest import BatchTooLargeError, IngestPipeline

FIELDS = [
    "log_type", "request_id", "started_at", "finished_at", "latency_ms", "ttft_ms", "status",
    "prompt_tokens", "completion_tokens", "cost_usd", "metadata", "input_preview", "provider",
    "model", "message", "level", "timestamp", "value", "name", "target_request_id", "tool_name",
    "trace_id", "span_id", "conversation_id", "schema_version", "project", "stream", "extra",
]  # fmt: skip
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40)
    | st.sampled_from(
        [
            "inference",
            "tool_execution",
            "application",
            "score",
            "1.0",
            "ok",
            "error",
            "1969-12-31T23:59:59Z",
            "2999-01-01T00:00:00Z",
            "2026-11-28T12:00:00Z",
            str(uuid.uuid4()),
            "\ud800",
            "NaN",
            "-Infinity",
            "9" * 400,
        ]  # fmt: skip
    )
)
JSONISH = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
PIPELINE = IngestPipeline(None, max_body_bytes=200_000, max_events=50)


def _mutated(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    event = dict(base)
    for key, value in changes.items():
        if value is None and key in event and len(changes) % 2:
            del event[key]
        else:
            event[key] = value
    return event


@settings(
    max_examples=300,
    deadline=None,
    # make_inference is a stateless factory: sharing it between examples is fine
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    log_type=st.sampled_from(["inference", "tool_execution", "application", "score"]),
    changes=st.dictionaries(st.sampled_from(FIELDS), JSONISH, max_size=5),
)
def test_parse_event_raises_only_contract_error_and_accepted_events_round_trip(
    log_type: str, changes: dict[str, Any], make_inference: Callable[..., dict[str, Any]]
) -> None:
    base = _valid(log_type, make_inference)
    try:
        event = parse_event(_mutated(base, changes))
    except ContractError as exc:
        assert exc.errors and all("loc" in e and "msg" in e for e in exc.errors)
        return
    dumped = event.model_dump(mode="json")
    assert parse_event(dumped) == event
    assert parse_event(event.model_dump_json()) == event
    for name in ("input_preview", "output_preview", "args_preview", "result_preview"):
        assert len(getattr(event, name, None) or "") <= MAX_PREVIEW_CHARS


def test_a_span_longer_than_a_day_is_rejected_not_stored_unbounded(
    make_inference: Callable[..., dict[str, Any]],
) -> None:
    """Without latency_ms, the latency derived from the timestamps obeys the same one-day
    bound as a given one, so every accepted event parses again from its own dump."""
    from datetime import UTC, datetime, timedelta

    started = (datetime.now(UTC) - timedelta(days=3)).isoformat()
    with pytest.raises(ContractError, match="longer than a day"):
        parse_event(make_inference(started_at=started))
    event = parse_event(
        make_inference(started_at=(datetime.now(UTC) - timedelta(hours=23)).isoformat())
    )
    assert parse_event(event.model_dump(mode="json")) == event


def test_a_deeply_nested_tool_calls_text_is_free_text_not_a_crash(
    make_inference: Callable[..., dict[str, Any]],
) -> None:
    """A ``tool_calls_summary`` string of 100,000 ``[`` made ``json.loads`` raise
    RecursionError inside the validator (a 500): it is free text, cut like any other."""
    event = parse_event(make_inference(tool_calls_summary="[" * 100_000))
    assert event.tool_calls_summary is not None
    assert len(event.tool_calls_summary) <= MAX_PREVIEW_CHARS


@settings(max_examples=300, deadline=None)
@given(st.one_of(JSONISH, st.binary(max_size=300)))
def test_pipeline_answers_any_body_with_a_batch_or_a_4xx_error(body: Any) -> None:
    raw = body if isinstance(body, bytes) else json.dumps(body, allow_nan=True).encode()
    try:
        batch = PIPELINE.prepare(raw, "hostile")
    except (ContractError, BatchTooLargeError):
        return
    assert len(batch.events) + len(batch.rejected) >= 1


def _valid(log_type: str, make_inference: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    inf = make_inference()
    rid = str(uuid.uuid4())
    return {
        "inference": inf,
        "tool_execution": {
            "log_type": "tool_execution", "request_id": rid, "tool_name": "lookup",
            "started_at": inf["started_at"], "finished_at": inf["finished_at"],
        },
        "application": {"log_type": "application", "request_id": rid, "message": "hello",
                        "timestamp": inf["finished_at"]},
        "score": {"log_type": "score", "request_id": rid, "target_request_id": inf["request_id"],
                  "name": "thumbs", "value": 1.0, "timestamp": inf["finished_at"]},
    }[log_type]  # fmt: skip


def _deep(depth: int) -> Any:
    node: Any = "leaf"
    for _ in range(depth):
        node = {"k": node}
    return node


HOSTILE_EVENTS: dict[str, dict[str, Any]] = {
    "far_past": {"started_at": "1970-01-01T00:00:00Z"},
    "far_future": {"finished_at": "2999-01-01T00:00:00Z"},
    "huge_tokens": {"prompt_tokens": 10**30},
    "huge_float": {"cost_usd": "__HUGE__"},  # written as 1e400 in the body: inf as a double
    "huge_in_metadata": {"metadata": {"x": "__HUGE__"}},
    "negative_latency": {"latency_ms": -5},
    "deep_metadata": {"metadata": _deep(MAX_METADATA_DEPTH + 3)},
    "big_metadata": {"metadata": {"blob": "x" * 20_000}},
    "long_name": {"model": "m" * 10_000},
    "unknown_field": {"drop_table": "'; DROP TABLE inference_logs; --"},
    "wrong_type": {"prompt_tokens": "ten"},
    "lone_surrogate": {"input_preview": "\ud800"},
}


def test_bad_events_never_reject_their_batch_mates_and_are_not_stored(
    warehouse: Any, project: str, make_inference: Callable[..., dict[str, Any]]
) -> None:
    good = [make_inference(input_preview="fine " * 200) for _ in range(3)]
    bad = [make_inference(**over) for over in HOSTILE_EVENTS.values()]
    events = [good[0], *bad[:5], good[1], *bad[5:], good[2]]
    text = json.dumps({"events": events}).replace('"__HUGE__"', "1e400")
    body = text.encode("utf-8", "surrogatepass")
    batch = IngestPipeline(None).prepare(body, project)
    assert sorted(str(e.request_id) for e in batch.events) == sorted(g["request_id"] for g in good)
    assert len(batch.rejected) == len(bad)
    for rejection in batch.rejected:
        loc = rejection.as_dict()["errors"][0]["loc"]  # the field path inside events[index]
        assert loc.split(".")[0] in events[rejection.index], (rejection.index, loc)
    assert all(len(e.input_preview or "") <= MAX_PREVIEW_CHARS for e in batch.events)
    for table, data in batch.to_arrow()[0].items():
        warehouse.insert_arrow(table, data)
    ids = ", ".join(f"'{e['request_id']}'" for e in events)
    stored = (
        warehouse.query_arrow(
            f"SELECT toString(request_id) AS id FROM inference_logs WHERE request_id IN ({ids})"
        )
        .column("id")
        .to_pylist()
    )
    assert sorted(stored) == sorted(g["request_id"] for g in good)


@pytest.mark.parametrize(
    "body, encoding, error",
    [
        (b'\xff\xfe{"log_type": "inference"}', None, ContractError),  # invalid UTF-8
        (b'{"events": [{"latency_ms": NaN}]}', None, ContractError),  # NaN is not JSON
        (b"[" * 150_000 + b"]" * 150_000, None, BatchTooLargeError),  # over the body limit
        (b"[" * 5_000 + b"]" * 5_000, None, ContractError),  # deeply nested JSON
        (b'{"events": ' + json.dumps([{}] * 51).encode() + b"}", None, BatchTooLargeError),
        (gzip.compress(b" " * 5_000_000), "gzip", BatchTooLargeError),  # a zip bomb
        (b"\x1f\x8b not gzip", "gzip", ContractError),
        (b"{}", "br", ContractError),
        (b'"just a string"', None, ContractError),
        (b'{"events": {"a": 1}}', None, ContractError),
    ],
    # named, not spelled out: the bodies are long, and a gzip body holds the time it was made
    # (the two xdist workers must collect the same ids)
    ids=[
        "invalid-utf8",
        "nan",
        "over-the-body-limit",
        "deeply-nested",
        "too-many-events",
        "zip-bomb",
        "not-gzip",
        "unknown-encoding",
        "a-string",
        "events-not-a-list",
    ],
)
def test_hostile_bodies_are_4xx_errors(body: bytes, encoding: str | None, error: type) -> None:
    with pytest.raises(error):
        PIPELINE.prepare(body, "hostile", encoding)
