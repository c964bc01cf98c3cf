"""Whatever the app hands the SDK, what it sends passes the contract and respects its limits."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ollive
from ollive.events import MAX_PREVIEW_CHARS, parse_event

SENT: list[dict[str, Any]] = []


def _capture(request: httpx.Request) -> httpx.Response:
    SENT.extend(json.loads(gzip.decompress(request.content))["events"])
    return httpx.Response(202, json={"accepted": 0, "duplicates": 0, "rejected": []})


@pytest.fixture
def captured() -> Iterator[list[dict[str, Any]]]:
    SENT.clear()
    ollive.init(endpoint="http://ingest.invalid/v1", transport=httpx.MockTransport(_capture))
    yield SENT
    ollive.shutdown(2)


anything = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    text=st.text(max_size=1_200),
    name=st.text(max_size=300),
    value=anything,
    tokens=st.integers(min_value=0, max_value=10**6),
)
def test_every_event_passes_the_contract(
    captured: list[dict[str, Any]], text: str, name: str, value: Any, tokens: int
) -> None:
    captured.clear()

    @ollive.tool(name=name or None)
    def tool_fn(arg: Any) -> Any:
        return value

    with ollive.conversation(name or None, session_id=text[:300] or None, user_id=name or None):
        with ollive.inference(name or "p", text or "m", input=value, metadata={"k": value}) as span:
            span.set_usage(tokens, tokens // 2, cached_prompt_tokens=tokens * 2)
            span.set_output(text)
            span.set_finish_reason(name)
            span.set_tool_calls([name, {"name": text, "args": value}])
            span.record_first_token()
            tool_fn(value)
        ollive.score(span.request_id, name or "s", tokens, comment=text)
    with pytest.raises(ValueError), ollive.inference("p", "m"):
        raise ValueError(text * 10)
    assert ollive.flush(10)
    assert len(captured) == 4
    for event in captured:
        parsed = parse_event(event)
        for field in (
            "input_preview",
            "output_preview",
            "args_preview",
            "result_preview",
            "tool_calls_summary",
        ):
            preview = getattr(parsed, field, None)
            assert preview is None or len(preview) <= MAX_PREVIEW_CHARS
            raw = event.get(field)
            assert raw is None or len(raw) <= MAX_PREVIEW_CHARS  # cut by the SDK, not by ingest


def test_request_ids_are_uuid7_with_the_ids_module_layout() -> None:
    import random
    import uuid

    from ollive.ids import uuid7_from_ms, uuid7_str

    state = random.getstate()
    try:
        for ms in (0, 1_700_000_000_123, 2**48 - 1):
            random.seed(ms)
            ours = uuid7_str(ms)
            random.seed(ms)
            assert ours == str(uuid7_from_ms(ms, random.getrandbits(74)))
            assert uuid.UUID(ours).version == 7
    finally:
        random.setstate(state)


def test_tool_calls_go_out_as_the_documented_list(captured: list[dict[str, Any]]) -> None:
    with ollive.inference("openai", "gpt-4o-mini") as span:
        span.set_tool_calls(
            [
                {"function": {"name": "get_current_time", "arguments": '{"tz": "UTC"}'}},
                {"name": "lookup_order", "args": {"order_id": "A-1"}},
                "no_args",
            ]
        )
    assert ollive.flush(10)
    (event,) = captured
    assert event["tool_calls_count"] == 3
    assert event["tool_calls_summary"][0] == {
        "name": "get_current_time",
        "args_preview": '{"tz": "UTC"}',
    }
    assert event["tool_calls_summary"][1]["name"] == "lookup_order"
    assert "A-1" in event["tool_calls_summary"][1]["args_preview"]
    assert event["tool_calls_summary"][2] == {"name": "no_args", "args_preview": None}
    stored = parse_event(event).tool_calls_summary  # kept as JSON text in the warehouse
    assert json.loads(stored) == event["tool_calls_summary"]
