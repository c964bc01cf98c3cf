"""The evaluator library: the built-ins, and how ``run_evaluator`` calls and normalises any
evaluator (real redaction engine for ``no_pii``; Ray's cloudpickle for shipping)."""

from __future__ import annotations

import functools
import math
from typing import Any

import pytest
from faker import Faker
from langchain_core.messages import AIMessage
from pydantic import BaseModel
from ray import cloudpickle

from ollive.errors import ConfigError, EvaluatorError, OlliveError
from ollive.evaluate.evaluators import (
    REFUSAL_PHRASES,
    ScoreValue,
    contains,
    cost_budget,
    evaluator_name,
    exact_match,
    json_valid,
    latency_budget,
    length_between,
    no_pii,
    not_refused,
    output_text,
    regex_match,
    run_evaluator,
)

ITEM = {
    "item_id": "it-1",
    "input": "What is the capital of France?",
    "expected_output": "Paris",
    "metadata": {},
    "source_request_id": None,
}
NO_EXPECTED = {**ITEM, "expected_output": None}


def values(fn: Any, output: Any, item: dict[str, Any] = ITEM, **context: Any) -> list[float]:
    return [s.value for s in run_evaluator(fn, item, output, **context)]


# --- output_text and names ------------------------------------------------------------------


class Answer(BaseModel):
    city: str


@pytest.mark.parametrize(
    ("output", "text"),
    [
        ("Paris", "Paris"),
        (None, ""),
        (AIMessage("Paris"), "Paris"),
        (AIMessage([{"type": "text", "text": "Par"}, {"type": "text", "text": "is"}]), "Paris"),
        ({"content": "Paris"}, "Paris"),
        ({"output": AIMessage("Paris")}, "Paris"),
        ({"answer": "Paris", "sources": []}, "Paris"),
        ({"messages": [AIMessage("hi"), AIMessage("Paris")]}, "Paris"),
        ({"b": 1, "a": [2]}, '{"a": [2], "b": 1}'),
        (42, "42"),
        (Answer(city="Paris"), '{"city": "Paris"}'),
        (["a", object], '["a", "<class \'object\'>"]'),  # str() of what JSON cannot hold
        ({1: "a", "b": 2}, "{1: 'a', 'b': 2}"),  # keys that cannot be sorted: str()
    ],
)
def test_output_text_of_every_shape(output: Any, text: str) -> None:
    assert output_text(output) == text


def test_evaluator_names() -> None:
    def mine(item: Any, output: Any) -> float:
        return 1.0

    class Scorer:
        def __call__(self, item: Any, output: Any) -> float:
            return 1.0

    assert evaluator_name(mine) == "mine"
    assert evaluator_name(functools.partial(mine)) == "mine"
    assert evaluator_name(Scorer()) == "Scorer"
    assert evaluator_name(exact_match(name="em")) == "em"
    assert evaluator_name(lambda item, output: 1) == "<lambda>"


# --- run_evaluator: return shapes -----------------------------------------------------------


def _returning(value: Any) -> Any:
    def shape(item: Any, output: Any) -> Any:
        return value

    return shape


@pytest.mark.parametrize(
    ("returned", "expected"),
    [
        (True, [ScoreValue("shape", 1.0)]),
        (False, [ScoreValue("shape", 0.0)]),
        (3, [ScoreValue("shape", 3.0)]),
        (0.25, [ScoreValue("shape", 0.25)]),
        (None, []),
        (ScoreValue("x", 0.5, "why"), [ScoreValue("x", 0.5, "why")]),
        ([ScoreValue("a", 1), ScoreValue("b", 0)], [ScoreValue("a", 1.0), ScoreValue("b", 0.0)]),
        ({"score": 0.5, "reason": "half"}, [ScoreValue("shape", 0.5, "half")]),
        (
            {"value": True, "comment": "ok", "metadata": {"k": 1}, "name": "custom"},
            [ScoreValue("custom", 1.0, "ok", {"k": 1})],
        ),
        ({"score": 2, "reasoning": "r"}, [ScoreValue("shape", 2.0, "r")]),
        ({"score": None}, []),
        (
            {"precision": 0.5, "recall": True, "skipped": None},
            [ScoreValue("shape.precision", 0.5), ScoreValue("shape.recall", 1.0)],
        ),
    ],
)
def test_every_return_shape_is_normalised(returned: Any, expected: list[ScoreValue]) -> None:
    assert run_evaluator(_returning(returned), ITEM, "Paris") == expected


@pytest.mark.parametrize(
    ("returned", "message"),
    [
        ("good", "returned str 'good'; allowed: a number"),
        ([1.0, 0.5], "holds something else than ScoreValue"),
        ({"score": "high"}, "whose score is 'high'"),
        ({"precision": "high"}, "whose 'precision' is 'high'"),
        (math.nan, "must be finite"),
        (math.inf, "must be finite"),
        ({"score": -math.inf}, "must be finite"),
        ({"score": 1, "metadata": {"x": object()}}, "metadata is not JSON-able"),
    ],
)
def test_other_results_raise_evaluator_error(returned: Any, message: str) -> None:
    with pytest.raises(EvaluatorError, match=message) as caught:
        run_evaluator(_returning(returned), ITEM, "Paris")
    assert isinstance(caught.value, OlliveError) and isinstance(caught.value, ValueError)


def test_a_score_value_checks_itself() -> None:
    with pytest.raises(EvaluatorError, match="non-empty str name"):
        ScoreValue("", 1.0)
    with pytest.raises(EvaluatorError, match="must be a number"):
        ScoreValue("x", "1")  # type: ignore[arg-type]
    assert ScoreValue("x", 1).value == 1.0 and isinstance(ScoreValue("x", 1).value, float)


def test_exceptions_of_an_evaluator_propagate() -> None:
    def broken(item: Any, output: Any) -> float:
        raise KeyError("rubric")

    with pytest.raises(KeyError, match="rubric"):
        run_evaluator(broken, ITEM, "Paris")


# --- run_evaluator: context keywords --------------------------------------------------------

CONTEXT = {"latency_ms": 12.5, "cost_usd": 0.001, "error": None, "trace_id": "t", "request_id": "r"}


def test_an_evaluator_gets_only_the_context_it_accepts() -> None:
    seen: dict[str, Any] = {}

    def plain(item: Any, output: Any) -> float:
        seen["plain"] = True
        return 1.0

    def timed(item: Any, output: Any, latency_ms: float) -> float:
        seen["timed"] = latency_ms
        return 1.0

    def keyword_only(item: Any, output: Any, *, trace_id: str | None = None) -> float:
        seen["keyword_only"] = trace_id
        return 1.0

    def everything(item: Any, output: Any, **kw: Any) -> float:
        seen["everything"] = kw
        return 1.0

    class Method:
        def score(self, item: Any, output: Any, cost_usd: float | None = None) -> float:
            seen["method"] = cost_usd
            return 1.0

    for fn in (plain, timed, keyword_only, everything, Method().score, Method().score):
        assert values(fn, "Paris", **CONTEXT) == [1.0]
    assert seen == {
        "plain": True,
        "timed": 12.5,
        "keyword_only": "t",
        "everything": CONTEXT,
        "method": 0.001,
    }


def test_a_callable_without_a_signature_gets_no_extras() -> None:
    assert values(max, 2, item=1, **CONTEXT) == [2.0]  # max(item, output), named "max"


def test_a_partial_gets_the_context_its_function_accepts() -> None:
    def scaled(factor: float, item: Any, output: Any, latency_ms: float) -> float:
        return factor * latency_ms

    assert values(functools.partial(scaled, 2.0), "Paris", **CONTEXT) == [25.0]


# --- built-ins ------------------------------------------------------------------------------


def test_exact_match() -> None:
    assert values(exact_match(), "  Paris\n") == [1.0]
    assert values(exact_match(), "paris") == [0.0]
    assert values(exact_match(ignore_case=True), "paris") == [1.0]
    assert values(exact_match(strip=False), " Paris") == [0.0]
    assert values(exact_match(), "Paris", NO_EXPECTED) == []
    assert values(exact_match(), AIMessage("Paris")) == [1.0]
    item = {**ITEM, "expected_output": {"city": "Paris", "country": "FR"}}
    assert values(exact_match(), {"country": "FR", "city": "Paris"}, item) == [1.0]
    assert values(exact_match(expected_key="label"), "x", {**ITEM, "label": "x"}) == [1.0]
    assert values(exact_match(), "4", {**ITEM, "expected_output": 4}) == [1.0]


def test_contains() -> None:
    assert values(contains("paris"), "It is PARIS.") == [1.0]
    assert values(contains("paris", ignore_case=False), "It is PARIS.") == [0.0]
    assert values(contains(expected_key="expected_output"), "The capital is Paris.") == [1.0]
    assert values(contains(expected_key="expected_output"), "Lyon") == [0.0]
    assert values(contains(expected_key="expected_output"), "Paris", NO_EXPECTED) == []
    with pytest.raises(ConfigError, match="exactly one"):
        contains()
    with pytest.raises(ConfigError, match="exactly one"):
        contains("a", expected_key="b")


def test_regex_match() -> None:
    assert values(regex_match(r"ORD-\d{5}"), "Your order ORD-10001 shipped") == [1.0]
    assert values(regex_match(r"ORD-\d{5}"), "no order") == [0.0]
    assert values(regex_match(r"^paris$", flags=2), "PARIS") == [1.0]  # re.IGNORECASE
    with pytest.raises(ConfigError, match="invalid pattern"):
        regex_match("(")


SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "population": {"type": "integer"}},
    "required": ["city"],
}


def test_json_valid() -> None:
    assert values(json_valid(), '{"city": "Paris"}') == [1.0]
    assert values(json_valid(), 'Here:\n```json\n{"city": "Paris"}\n```\nDone.') == [1.0]
    assert values(json_valid(), {"city": "Paris"}) == [1.0]  # a dict output is JSON
    [bad] = run_evaluator(json_valid(), ITEM, "city: Paris")
    assert bad.value == 0.0 and bad.comment and bad.comment.startswith("not JSON")
    assert values(json_valid(SCHEMA), '{"city": "Paris", "population": 2100000}') == [1.0]
    [wrong] = run_evaluator(json_valid(SCHEMA), ITEM, '{"city": "Paris", "population": "many"}')
    assert wrong.value == 0.0
    assert wrong.comment == "schema: $.population: 'many' is not of type 'integer'"
    [missing] = run_evaluator(json_valid(SCHEMA), ITEM, "{}")
    assert missing.comment == "schema: $: 'city' is a required property"
    with pytest.raises(ConfigError, match="invalid JSON Schema"):
        json_valid({"type": "no-such-type"})


def test_length_between() -> None:
    assert values(length_between(1, 10), "Paris") == [1.0]
    assert values(length_between(10), "Paris") == [0.0]
    [long] = run_evaluator(length_between(max_chars=3), ITEM, "Paris")
    assert (long.name, long.value, long.metadata) == ("length_ok", 0.0, {"chars": 5})
    assert long.comment == "5 chars, allowed [0, 3]"
    with pytest.raises(ConfigError):
        length_between(5, 2)


@pytest.mark.parametrize(
    "text",
    [
        "I can't help with that.",
        "I’m sorry, but I cannot share that information.",
        "As an AI language model, I do not have opinions.",
        "I am unable to access your account.",
    ],
)
def test_not_refused_spots_refusals(text: str) -> None:
    [score] = run_evaluator(not_refused(), ITEM, text)
    assert score.value == 0.0 and score.comment and score.comment.startswith("refusal: ")
    assert score.metadata["phrase"] in REFUSAL_PHRASES


def test_not_refused_passes_answers_and_takes_phrases() -> None:
    assert values(not_refused(), "The capital of France is Paris.") == [1.0]
    assert values(not_refused(), "") == [1.0]
    assert values(not_refused(phrases=["Computer  says no"]), "computer says no") == [0.0]


def test_latency_and_cost_budgets_read_the_context() -> None:
    assert values(latency_budget(100), "x", latency_ms=80.0) == [1.0]
    [slow] = run_evaluator(latency_budget(100), ITEM, "x", latency_ms=250.0, cost_usd=None)
    assert (slow.name, slow.value, slow.metadata) == ("latency_ok", 0.0, {"latency_ms": 250.0})
    assert values(latency_budget(100), "x") == []
    assert values(cost_budget(0.01), "x", cost_usd=0.002) == [1.0]
    assert values(cost_budget(0.01, name="cheap"), "x", cost_usd=0.5) == [0.0]
    assert values(cost_budget(0.01), "x", cost_usd=None, latency_ms=1.0) == []


@pytest.fixture(scope="module")
def fake() -> Faker:
    faker = Faker("en_US")
    faker.seed_instance(7)
    return faker


def test_no_pii_counts_types_and_never_reports_values(fake: Faker) -> None:
    email, phone = fake.email(), fake.phone_number()
    [score] = run_evaluator(no_pii(), ITEM, f"Write to {email} or call {phone} today.")
    assert score.value == 0.0
    assert score.metadata == {"entities": {"EMAIL_ADDRESS": 1, "PHONE_NUMBER": 1}}
    assert score.comment == "found EMAIL_ADDRESS x1, PHONE_NUMBER x1"
    assert email not in repr(score) and phone not in repr(score)
    assert values(no_pii(), "The capital of France is Paris.") == [1.0]


def test_no_pii_looks_only_for_the_entities_asked(fake: Faker) -> None:
    text = f"mail {fake.email()}"
    assert values(no_pii(entities=["PHONE_NUMBER"]), text) == [1.0]
    assert values(no_pii(entities=["EMAIL_ADDRESS"]), text) == [0.0]


# --- shipping to Ray workers ----------------------------------------------------------------

BUILTINS = [
    (exact_match(), "Paris", [1.0]),
    (contains(expected_key="expected_output"), "in Paris", [1.0]),
    (regex_match(r"\bParis\b"), "Paris", [1.0]),
    (json_valid(SCHEMA), '{"city": "Paris"}', [1.0]),
    (length_between(1, 3), "Paris", [0.0]),
    (not_refused(), "I am unable to do that", [0.0]),
    (no_pii(), "mail ada@example.com", [0.0]),
    (latency_budget(10), "x", [0.0]),
    (cost_budget(1.0), "x", [1.0]),
]


@pytest.mark.parametrize(("evaluator", "output", "expected"), BUILTINS, ids=lambda v: repr(v)[:30])
def test_builtins_survive_cloudpickle(evaluator: Any, output: Any, expected: list[float]) -> None:
    values(evaluator, output)  # used once here first: a built engine must not travel
    copy = cloudpickle.loads(cloudpickle.dumps(evaluator))
    assert repr(copy) == repr(evaluator)
    assert evaluator_name(copy) == evaluator_name(evaluator)
    assert values(copy, output, latency_ms=50.0, cost_usd=0.5) == expected


def test_no_pii_with_own_redactor_ships_its_policy() -> None:
    from ollive.redact import Policy, Redactor

    mine = Redactor(Policy(entities=["EMAIL_ADDRESS"]), ner_model=None)
    evaluator = no_pii(redactor=mine)
    assert values(evaluator, "call +1 212-555-0147, mail ada@example.com") == [0.0]
    copy = cloudpickle.loads(cloudpickle.dumps(evaluator))
    assert values(copy, "call +1 212-555-0147") == [1.0]  # phones are not in that policy
    assert values(copy, "mail ada@example.com") == [0.0]


def test_builtins_read_like_their_call() -> None:
    assert repr(exact_match(ignore_case=True)) == (
        "exact_match(expected_key='expected_output', ignore_case=True, strip=True, "
        "name='exact_match')"
    )
    assert repr(latency_budget(500)) == "latency_budget(max_ms=500.0, name='latency_ok')"
