"""The tools: safe calculator, docs search, order lookup, time; each traced with @ollive.tool."""

from __future__ import annotations

import json

import pytest

from ollive.chat import TOOLS, calculator, current_time, lookup_order, search_docs

from .conftest import EventSink, wait_until


@pytest.mark.parametrize(
    ("expression", "value"),
    [
        ("2 + 3 * 4", "14"),
        ("(2 + 3) * 4", "20"),
        ("2 ^ 10", "1024"),
        ("7 / 2", "3.5"),
        ("sqrt(16) + abs(-2)", "6"),
        ("-3 ** 2", "-9"),
        ("10 % 4", "2"),
    ],  # fmt: skip
)
def test_calculator_evaluates_arithmetic(expression: str, value: str) -> None:
    assert calculator(expression) == f"{expression} = {value}"


@pytest.mark.parametrize(
    "expression",
    [
        "__import__('os').system('true')",
        "open('/etc/passwd')",
        "x + 1",
        "2 ** 1000",
        "[1, 2]",
        "(1).__class__",
        "lambda: 1",
    ],  # fmt: skip
)
def test_calculator_refuses_anything_but_arithmetic(expression: str) -> None:
    with pytest.raises(ValueError):
        calculator(expression)


def test_search_docs_finds_the_right_passage() -> None:
    assert json.loads(search_docs("how do I get a refund?"))["results"][0]["id"] == "refunds"
    assert json.loads(search_docs("rotate my API key"))["results"][0]["id"] == "api-keys"
    assert json.loads(search_docs("zzz qqq"))["results"] == []


def test_lookup_order_normalises_ids_and_raises_for_unknown_ones() -> None:
    assert json.loads(lookup_order("ord10038"))["order_id"] == "ORD-10038"
    with pytest.raises(LookupError):
        lookup_order("ORD-1")


def test_current_time_knows_cities_and_zones() -> None:
    assert "Asia/Tokyo" in current_time("Tokyo")
    assert "(UTC)" in current_time()
    assert current_time("Mars/Olympus").startswith("Unknown timezone")


def test_tools_are_langchain_tools_with_schemas() -> None:
    assert [t.name for t in TOOLS] == ["current_time", "calculator", "search_docs", "lookup_order"]
    assert set(TOOLS[1].args) == {"expression"}
    assert TOOLS[3].invoke({"order_id": "ORD-10001"}).startswith('{"order_id": "ORD-10001"')


def test_each_call_is_a_tool_execution_event(sink: EventSink) -> None:
    calculator("1 + 1")
    with pytest.raises(LookupError):
        lookup_order("ORD-0")
    events = wait_until(
        lambda: len(sink.of_type("tool_execution")) == 2 and sink.of_type("tool_execution")
    )
    by_name = {e["tool_name"]: e for e in events}
    assert (
        by_name["calculator"]["status"] == "ok"
        and "1 + 1 = 2" in by_name["calculator"]["result_preview"]
    )
    assert by_name["lookup_order"]["status"] == "error"
    assert by_name["lookup_order"]["error_code"] == "LookupError"
