"""The validation fast path decides exactly as pydantic alone does.

``parse_body(body, n)`` (the fast path, pydantic for what it is unsure of) and
``parse_body(body, n, fast=False)`` (pydantic for every event) must accept the same events,
reject the same ones with the same errors, and build equal models: equal values of the same
types, the same fields set, the same JSON and the same Arrow rows.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ollive.bench import make_events
from ollive.events import template_hash
from ollive.ingest import ParsedBody, events_to_arrow, parse_body
from ollive.ingest import validate as validate_module
from tests.test_events import inference  # the contract tests' own example event

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
HEX = "0123456789abcdef"
_HUGE = "__HUGE__"  # written as 1e400 in the body: infinity once the standard library reads it


# --- comparing the two paths ------------------------------------------------------------


def _body(events: list[Any]) -> bytes:
    text = json.dumps({"events": events}, ensure_ascii=False)
    return text.replace(f'"{_HUGE}"', "1e400").replace(f'"-{_HUGE}"', "-1e400").encode()


def assert_same_decisions(events: list[Any]) -> ParsedBody:
    """Parse ``events`` both ways and compare everything the pipeline reads."""
    body = _body(events)
    fast = parse_body(body, max_events=10_000)
    slow = parse_body(body, max_events=10_000, fast=False)
    assert fast.indexes == slow.indexes
    assert [r.as_dict() for r in fast.rejected] == [r.as_dict() for r in slow.rejected]
    for mine, theirs in zip(fast.events, slow.events, strict=True):
        assert type(mine) is type(theirs)
        assert mine == theirs
        assert repr(mine) == repr(theirs)  # field order and exact types (1 vs 1.0, tzinfo)
        assert mine.model_fields_set == theirs.model_fields_set
        assert mine.model_dump() == theirs.model_dump()
        assert mine.model_dump_json() == theirs.model_dump_json()
    mine_tables = events_to_arrow("p", fast.events, now_ms=0)
    their_tables = events_to_arrow("p", slow.events, now_ms=0)
    assert mine_tables.keys() == their_tables.keys()
    for name, table in mine_tables.items():
        assert table.equals(their_tables[name]), name
    return fast


# --- realistic values, and the ways they go wrong -----------------------------------------


def _stamp(instant: datetime, form: str) -> Any:
    """``instant`` written the way some client might write it."""
    text = instant.isoformat()
    forms: dict[str, Callable[[], Any]] = {
        "iso": lambda: text,
        "zulu": lambda: text.replace("+00:00", "Z"),
        "millis": lambda: instant.isoformat(timespec="milliseconds"),
        "seconds": lambda: instant.isoformat(timespec="seconds"),
        "nanos": lambda: (
            (micro := instant.isoformat(timespec="microseconds"))[:26] + "789" + micro[26:]
        ),
        "naive": lambda: instant.replace(tzinfo=None).isoformat(),
        "space": lambda: text.replace("T", " "),
        "lower": lambda: text.replace("T", "t").replace("+00:00", "z"),
        "minus_zero": lambda: text.replace("+00:00", "-00:00"),
        "unix": lambda: int(instant.timestamp()),
        "unix_text": lambda: str(int(instant.timestamp())),
        "date": lambda: instant.date().isoformat(),
        "leap": lambda: text[:17] + "60" + text[19:],
    }
    return forms[form]()


def _mostly(valid: st.SearchStrategy[Any], odd: st.SearchStrategy[Any]) -> Any:
    """``valid`` 24 times in 25, else ``odd``: most generated events should pass, so that the
    fast path's accepts get compared, not only pydantic's rejections."""
    return st.sampled_from([True] * 24 + [False]).flatmap(lambda ok: valid if ok else odd)


FORMS = _mostly(
    st.sampled_from(["iso", "iso", "iso", "zulu", "millis", "seconds"]),
    st.sampled_from(
        ["nanos", "naive", "space", "lower", "minus_zero", "unix", "unix_text", "date", "leap"]
    ),
)
ZONES = st.sampled_from(
    [UTC, UTC, UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8))]
)
UUIDS = st.uuids().flatmap(
    lambda u: _mostly(
        st.sampled_from([str(u), str(u), str(u).upper(), u.hex]),
        st.sampled_from(["{" + str(u) + "}", "urn:uuid:" + str(u), str(u)[:-1], "x", 7]),
    )
)
TRACE_IDS = _mostly(
    st.text(HEX, min_size=32, max_size=32) | st.none(),
    st.sampled_from(["0" * 32, "A" * 32, "a" * 31, "a" * 32 + "\n", "g" * 32, 12]),
)
SPAN_IDS = _mostly(
    st.text(HEX, min_size=16, max_size=16) | st.none(),
    st.sampled_from(["0" * 16, "ABCDEF0123456789", "a" * 17, "a" * 16 + "\n", 12]),
)
TEXT = (
    st.text(max_size=30)
    | st.sampled_from(["", "é😀 naïve", "ınfo", "warn", "Fatal", " INFO", "ok", "\x00\n"])
    | st.integers(0, 5_000).map(lambda n: "x" * n)
    | st.integers(0, 700).map(lambda n: "é" * n + "😀")
)
NAMES = _mostly(
    st.sampled_from(["openai", "gpt-4o", "search", "app", "thumbs"])
    | st.text(min_size=1, max_size=12)
    | st.integers(250, 256).map(lambda n: "é" * n),
    st.sampled_from(["", "n" * 257, None, 5, ["a"]]),
)
JSONISH = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=12,
)
ODD_JSON = JSONISH | st.sampled_from([_HUGE, f"-{_HUGE}"])


def _deep(depth: int) -> Any:
    node: Any = "leaf"
    for _ in range(depth):
        node = {"k": node}
    return node


METADATA = _mostly(
    st.just({})
    | st.dictionaries(st.text(max_size=8), JSONISH, max_size=4)
    | st.integers(3, 5).map(_deep)
    | st.integers(16_360, 16_380).map(lambda n: {"blob": "x" * n}),
    st.integers(6, 8).map(_deep)
    | st.sampled_from([[], "text", {"x": _HUGE}, {"blob": "é" * 9_000}, None]),
)
NUMBERS = (
    st.integers(-2, 100_000_001)
    | st.floats(-10, 1e9, allow_nan=False)
    | st.sampled_from([True, False, "10", "1e3", 1.5, 10.0, 2**64, _HUGE, f"-{_HUGE}", None])
)
TOOL_CALLS = _mostly(
    st.sampled_from(
        [
            None,
            [],
            [{"name": "get_current_time", "args_preview": '{"tz": "UTC"}'}],
            [{"name": "lookup"}, {"name": "x", "args_preview": "y" * 600}],
            [{"name": "n", "args_preview": "z" * 400}] * 40,
            '[{"name": "a"}]',
            '  [{"name": "a", "args_preview": null}]',
            "[not json",
            "get_current_time(UTC)",
            "t" * 600,
        ]
    ),
    st.sampled_from(
        [
            [{"tool": "x"}],
            [{"name": ""}],
            [{"name": "n"}] * 129,
            [{"name": "n", "args_preview": "z" * 400}] * 60,
            {"name": "x"},
            3,
        ]
    ),
)


INSTANTS = _mostly(
    st.builds(
        lambda days, micros: NOW + timedelta(days=days / 100, microseconds=micros),
        st.integers(-10_000, 30_000),
        st.integers(0, 999_999),
    ),
    st.sampled_from(
        [
            datetime(2000, 1, 1, tzinfo=UTC),
            datetime(2000, 1, 1, tzinfo=UTC) - timedelta(microseconds=1),
            datetime(2099, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
            datetime(2100, 1, 1, tzinfo=UTC),
        ]
    ),
)


@st.composite
def timed_fields(draw: st.DrawFn) -> dict[str, Any]:
    started = draw(INSTANTS).astimezone(draw(ZONES))
    span_ms = draw(
        _mostly(
            st.floats(0, 200_000) | st.sampled_from([0.0, 1.0, 1200.0, 86_400_000.0]),
            st.sampled_from([86_400_001.0, -5.0, -0.001]),
        )
    )
    finished = started + timedelta(milliseconds=span_ms)
    fields: dict[str, Any] = {
        "started_at": _stamp(started, draw(FORMS)),
        "finished_at": _stamp(finished, draw(FORMS)),
    }
    latency = draw(
        _mostly(
            st.sampled_from(["none", "exact", "skewed", "int"]),
            st.sampled_from(["far", "bad"]),
        )
    )
    if latency == "exact":
        fields["latency_ms"] = round(span_ms, 3)
    elif latency == "skewed":
        fields["latency_ms"] = max(0.0, span_ms + draw(st.floats(-60, 60)))
    elif latency == "far":
        fields["latency_ms"] = span_ms * 2 + 100
    elif latency == "int":
        fields["latency_ms"] = int(span_ms)
    elif latency == "bad":
        fields["latency_ms"] = draw(NUMBERS)
    if draw(st.booleans()):
        fields["status"] = draw(
            _mostly(st.sampled_from(["ok", "error", "cancelled", "timeout"]), st.just("OK"))
        )
    if draw(st.booleans()):
        fields["error_code"] = draw(NAMES)
        fields["error_message"] = draw(_mostly(TEXT | st.none(), st.just(3)))
    return fields


@st.composite
def base_fields(draw: st.DrawFn) -> dict[str, Any]:
    fields: dict[str, Any] = {"request_id": draw(UUIDS)}
    optional: dict[str, st.SearchStrategy[Any]] = {
        "schema_version": _mostly(st.sampled_from(["1.0", "1.1"]), st.sampled_from(["1.2", 1.0])),
        "trace_id": TRACE_IDS,
        "span_id": SPAN_IDS,
        "parent_span_id": SPAN_IDS,
        "conversation_id": NAMES | st.none(),
        "session_id": NAMES | st.none(),
        "user_id": NAMES | st.none(),
        "service": NAMES,
        "metadata": METADATA,
        "project": st.just("evil"),
    }
    for name in draw(st.sets(st.sampled_from(sorted(optional)), max_size=6)):
        fields[name] = draw(optional[name])
    return fields


@st.composite
def inference_events(draw: st.DrawFn) -> dict[str, Any]:
    prompt = draw(st.integers(0, 5_000))
    completion = draw(st.integers(0, 2_000))
    event = {
        "log_type": "inference",
        **draw(base_fields()),
        **draw(timed_fields()),
        "provider": draw(NAMES),
        "model": draw(NAMES),
        "prompt_tokens": prompt,
        "completion_tokens": completion,
    }
    optional: dict[str, st.SearchStrategy[Any]] = {
        "total_tokens": _mostly(
            st.sampled_from([prompt + completion, prompt + completion + 7, None]), st.just(1)
        ),
        "cached_prompt_tokens": _mostly(st.sampled_from([0, prompt]), st.just(prompt + 1)),
        "ttft_ms": _mostly(st.floats(0, 1_000) | st.none(), st.sampled_from([99_999, 86_400_001])),
        "stream": _mostly(st.booleans(), st.sampled_from([1, "true"])),
        "cost_usd": _mostly(st.floats(0, 1e6) | st.none(), st.sampled_from([-1, 2e6])),
        "finish_reason": NAMES | st.none(),
        "tool_calls_count": _mostly(st.integers(0, 10_000), st.sampled_from([-1, 10_001])),
        "tool_calls_summary": TOOL_CALLS,
        "input_preview": TEXT | st.none(),
        "output_preview": TEXT | st.none(),
        "prompt_name": NAMES | st.none(),
        "prompt_version": _mostly(
            st.integers(-5, 10**63) | st.sampled_from(["v2", "v" * 64, None]),
            st.sampled_from(["v" * 65, True, 3.0, 10**64]),
        ),
        "prompt_hash": _mostly(
            st.text(HEX, min_size=16, max_size=16) | st.just("0" * 16) | st.none(),
            st.sampled_from(["ABCDEF0123456789", "abc", template_hash("t") + "\n"]),
        ),
    }
    for name in draw(st.sets(st.sampled_from(sorted(optional)), max_size=9)):
        event[name] = draw(optional[name])
    return event


@st.composite
def tool_events(draw: st.DrawFn) -> dict[str, Any]:
    event = {
        "log_type": "tool_execution",
        **draw(base_fields()),
        **draw(timed_fields()),
        "tool_name": draw(NAMES),
    }
    optional: dict[str, st.SearchStrategy[Any]] = {
        "parent_request_id": UUIDS | st.none(),
        "args_preview": TEXT | st.none(),
        "result_preview": TEXT | st.none(),
    }
    for name in draw(st.sets(st.sampled_from(sorted(optional)))):
        event[name] = draw(optional[name])
    return event


@st.composite
def application_events(draw: st.DrawFn) -> dict[str, Any]:
    instant = draw(INSTANTS)
    event = {
        "log_type": "application",
        **draw(base_fields()),
        "timestamp": _stamp(instant.astimezone(draw(ZONES)), draw(FORMS)),
    }
    optional: dict[str, st.SearchStrategy[Any]] = {
        "level": _mostly(
            st.sampled_from(["INFO", "info", "Warn", "fatal", "ınfo", "debug", "Error"]),
            st.sampled_from(["verbose", 20, None, " INFO"]),
        ),
        "logger": NAMES,
        "message": _mostly(TEXT, st.none()),
        "attributes": METADATA,
    }
    for name in draw(st.sets(st.sampled_from(sorted(optional)))):
        event[name] = draw(optional[name])
    return event


@st.composite
def score_events(draw: st.DrawFn) -> dict[str, Any]:
    instant = draw(INSTANTS)
    event = {
        "log_type": "score",
        **draw(base_fields()),
        "timestamp": _stamp(instant.astimezone(draw(ZONES)), draw(FORMS)),
        "target_request_id": draw(UUIDS),
        "name": draw(NAMES),
        "value": draw(
            _mostly(
                st.floats(-1e12, 1e12) | st.integers(-2, 2) | st.sampled_from([1e12, -1e12]),
                st.sampled_from([True, "1", 1e12 + 1, -2e12, _HUGE, f"-{_HUGE}", None]),
            )
        ),
    }
    optional: dict[str, st.SearchStrategy[Any]] = {
        "comment": TEXT | st.none(),
        "source": _mostly(st.sampled_from(["user", "model", "human"]), st.just("robot")),
    }
    for name in draw(st.sets(st.sampled_from(sorted(optional)))):
        event[name] = draw(optional[name])
    return event


EVENTS = inference_events() | tool_events() | application_events() | score_events()
FIELDS = [
    "log_type", "request_id", "started_at", "finished_at", "latency_ms", "ttft_ms", "status",
    "prompt_tokens", "completion_tokens", "total_tokens", "cost_usd", "metadata", "attributes",
    "input_preview", "provider", "model", "message", "level", "timestamp", "value", "name",
    "target_request_id", "tool_name", "trace_id", "span_id", "schema_version", "stream",
    "prompt_version", "tool_calls_summary", "extra",
]  # fmt: skip
MUTANTS = ODD_JSON | NUMBERS | TEXT | st.sampled_from(["inference", "score", "2026-11-28T12:00:00"])


@st.composite
def mutated_events(draw: st.DrawFn) -> dict[str, Any]:
    """A generated event with a few fields dropped, retyped or added."""
    event = draw(EVENTS)
    for name in draw(st.lists(st.sampled_from(FIELDS), max_size=3)):
        if draw(st.booleans()):
            event.pop(name, None)
        else:
            event[name] = draw(MUTANTS)
    return event


# --- the properties ---------------------------------------------------------------------

SETTINGS = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


@settings(SETTINGS, max_examples=300)
@given(st.lists(EVENTS, min_size=1, max_size=4))
def test_generated_events_get_the_same_decisions_and_models(events: list[Any]) -> None:
    assert_same_decisions(events)


@settings(SETTINGS, max_examples=250)
@given(st.lists(mutated_events(), min_size=1, max_size=3))
def test_mutated_events_get_the_same_decisions_and_errors(events: list[Any]) -> None:
    assert_same_decisions(events)


@settings(SETTINGS, max_examples=150)
@given(st.lists(JSONISH | st.dictionaries(st.sampled_from(FIELDS), JSONISH), max_size=3))
def test_any_json_items_get_the_same_decisions(items: list[Any]) -> None:
    assert_same_decisions(items)


# --- the repository's own payloads --------------------------------------------------------


def test_realistic_events_take_the_fast_path_and_match(monkeypatch: pytest.MonkeyPatch) -> None:
    events = make_events(5_000, "svc", seed=1)
    parsed = assert_same_decisions(events)
    assert len(parsed.events) == len(events) and not parsed.rejected

    def _no_pydantic(item: Any) -> Any:  # pragma: no cover - only called on a regression
        raise AssertionError(f"pydantic was asked about a plain event: {item}")

    monkeypatch.setattr(validate_module, "parse_event", _no_pydantic)
    assert len(parse_body(orjson.dumps({"events": events[:500]}), 10_000).events) == 500


def _sdk_like(index: int) -> dict[str, Any]:
    """Events shaped as the SDK writes them: ids, latency with three decimals, metadata."""
    started = NOW + timedelta(seconds=index)
    event: dict[str, Any] = {
        "schema_version": "1.1" if index % 3 == 0 else "1.0",
        "log_type": "inference",
        "request_id": str(uuid.UUID(int=index + 1, version=4)),
        "service": "svc",
        "started_at": started.isoformat(),
        "finished_at": (started + timedelta(milliseconds=812.5)).isoformat(),
        "latency_ms": 812.500,
        "status": "ok" if index % 5 else "error",
        "trace_id": f"{index + 1:032x}",
        "span_id": f"{index + 1:016x}",
        "parent_span_id": f"{index + 2:016x}",
        "metadata": {"tenant": "a", "tags": ["x", "y"], "n": index},
        "provider": "openai",
        "model": "gpt-4o-mini",
        "prompt_tokens": 120 + index,
        "completion_tokens": 30,
        "cached_prompt_tokens": 20,
        "ttft_ms": 150.25,
        "stream": True,
        "tool_calls_count": 1,
        "tool_calls_summary": [{"name": "get_current_time", "args_preview": '{"tz": "UTC"}'}],
        "input_preview": "héllo " * 120,
    }
    if index % 3 == 0:
        event.update(prompt_name="support", prompt_version=index, prompt_hash=template_hash("t"))
    if index % 5 == 0:
        event.update(error_code="RateLimit", error_message="slow down " * 500)
    return event


def test_sdk_shaped_events_match() -> None:
    parsed = assert_same_decisions([_sdk_like(i) for i in range(200)])
    assert len(parsed.events) == 200


EXAMPLES: list[dict[str, Any]] = [
    # tests/test_events.py
    inference(),
    inference(input_preview="x" * 5000, output_preview="y" * 501),
    inference(request_id="not-a-uuid", started_at="2026-11-28T12:00:00", prompt_tokens=-1),
    inference(trace_id="XYZ"),
    inference(finished_at=(NOW - timedelta(seconds=1)).isoformat()),
    inference(latency_ms=5000),
    inference(latency_ms=1190),
    inference(total_tokens=5),
    inference(ttft_ms=99_999),
    inference(metadata=_deep(10)),
    inference(metadata={"blob": "x" * 20_000}),
    inference(metadata={"tenant": "a", "tags": ["x", "y"]}),
    inference(latency_ms=_HUGE),
    inference(surprise=1),
    inference(started_at="1970-01-01T00:00:00Z"),
    {"log_type": "nope", "request_id": str(uuid.uuid4())},
    inference(tool_calls_count=1, tool_calls_summary=[{"name": "t", "args_preview": "{}"}]),
    inference(tool_calls_summary=[]),
    inference(tool_calls_summary="get_current_time(UTC)"),
    inference(tool_calls_summary=[{"tool": "x"}]),
    inference(schema_version="1.0"),
    inference(schema_version="1.1", prompt_name="a", prompt_version=3, prompt_hash="0" * 16),
    inference(prompt_name="support-answer"),
    inference(schema_version="1.0", prompt_version="v2"),
    inference(prompt_hash="ABCDEF0123456789"),
    inference(prompt_hash="abc"),
    inference(prompt_version="v" * 65),
    inference(prompt_version=True),
    inference(prompt_name="n" * 257),
    inference(schema_version="1.2"),
    # tests/ingest/test_hostile_input.py
    inference(finished_at="2999-01-01T00:00:00Z"),
    inference(prompt_tokens=10**30),
    inference(cost_usd=_HUGE),
    inference(metadata={"x": _HUGE}),
    inference(latency_ms=-5),
    inference(model="m" * 10_000),
    inference(drop_table="'; DROP TABLE inference_logs; --"),
    inference(prompt_tokens="ten"),
    inference(project="evil"),
    # the other types, as tests/test_events.py writes them
    {
        "log_type": "tool_execution",
        "request_id": str(uuid.uuid4()),
        "parent_request_id": str(uuid.uuid4()),
        "tool_name": "lookup_order",
        "started_at": NOW.isoformat(),
        "finished_at": NOW.isoformat(),
    },
    {
        "log_type": "tool_execution",
        "request_id": str(uuid.uuid4()),
        "tool_name": "lookup_order",
        "started_at": NOW.isoformat(),
        "finished_at": NOW.isoformat(),
        "prompt_name": "support-answer",
    },
    {
        "log_type": "application",
        "request_id": str(uuid.uuid4()),
        "timestamp": NOW.isoformat(),
        "level": "warn",
    },
    {
        "log_type": "score",
        "request_id": str(uuid.uuid4()),
        "timestamp": NOW.isoformat(),
        "target_request_id": str(uuid.uuid4()),
        "name": "thumbs_up",
        "value": 1,
    },
]


def test_the_repository_example_events_match() -> None:
    assert_same_decisions(EXAMPLES)  # in one body with an overflowing number
    finite = [e for e in EXAMPLES if _HUGE not in json.dumps(e)]
    parsed = assert_same_decisions(finite)  # in one body orjson reads: the fast path runs
    assert parsed.events and parsed.rejected
    for event in finite:
        assert_same_decisions([event])


@pytest.mark.parametrize("number", ["1e400", "-1e400"])
def test_overflowing_numbers_are_rejected_alike(number: str) -> None:
    """Such a body is read by the standard library, and then by pydantic alone."""
    text = json.dumps({"events": [inference(), inference(cost_usd=_HUGE)]})
    body = text.replace(f'"{_HUGE}"', number).encode()
    fast, slow = parse_body(body, 10), parse_body(body, 10, fast=False)
    assert fast.indexes == slow.indexes == [0]
    assert [r.as_dict() for r in fast.rejected] == [r.as_dict() for r in slow.rejected]


@pytest.mark.parametrize("number", [-(2**63) - 1, 2**64, 10**30])
def test_metadata_integers_beyond_64_bits_are_stored_as_validated(number: int) -> None:
    """Hypothesis found it: a body that orjson cannot read (here: an overflowing number in
    another event) is read by the standard library, which keeps integers beyond 64 bits;
    orjson then refused to write that metadata back, and the whole body failed in the
    Arrow conversion. The metadata text is now what validation kept."""
    events = [inference(metadata={"": [number], "text": "café"}), inference(cost_usd=_HUGE)]
    parsed = assert_same_decisions(events)
    (table,) = events_to_arrow("p", parsed.events, now_ms=0).values()
    stored = json.loads(table.column("metadata")[0].as_py())
    assert stored == {"": [number], "text": "café"} == parsed.events[0].metadata
