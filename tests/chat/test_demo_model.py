"""The offline demo model: deterministic per seed, tool calls by intent, streaming, usage, failures."""

from __future__ import annotations

import asyncio

import pytest
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage

from ollive.chat import TOOLS, DemoChatModel, DemoModelError, DemoModelTimeout, count_tokens


def _model(**kwargs: object) -> DemoChatModel:
    options: dict[str, object] = {"latency_scale": 0.0, "error_rate": 0.0, "timeout_rate": 0.0}
    options.update(kwargs)
    return DemoChatModel(**options)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("question", "tool", "args"),
    [
        ("What is 12 * (3 + 4)?", "calculator", {"expression": "12 * (3 + 4)"}),
        ("what's 15% of 80", "calculator", {"expression": "(15/100)*80"}),
        ("Where is my order ORD-10038?", "lookup_order", {"order_id": "ORD-10038"}),
        ("status of ord 10075 please", "lookup_order", {"order_id": "ORD-10075"}),
        ("What time is it in Tokyo?", "current_time", {"timezone": "Tokyo"}),
        ("How do I get a refund?", "search_docs", {"query": "How do I get a refund?"}),
    ],
)
def test_bound_tools_are_called_when_the_question_needs_them(
    question: str, tool: str, args: dict[str, str]
) -> None:
    reply = _model().bind_tools(TOOLS).invoke([HumanMessage(question)])
    assert isinstance(reply, AIMessage)
    assert [(c["name"], c["args"]) for c in reply.tool_calls] == [(tool, args)]
    assert reply.response_metadata["finish_reason"] == "tool_calls"


def test_two_intents_make_two_tool_calls_and_no_tools_means_text() -> None:
    reply = _model().bind_tools(TOOLS).invoke([HumanMessage("ORD-10001 and 2+2?")])
    assert [c["name"] for c in reply.tool_calls] == ["lookup_order", "calculator"]
    plain = _model().invoke([HumanMessage("What is 2+2?")])  # no tools bound: answers in text
    assert not plain.tool_calls and plain.text
    phone = _model().bind_tools(TOOLS).invoke([HumanMessage("call me at 415-555-0134")])
    assert not phone.tool_calls  # a phone number is not arithmetic


def test_same_seed_same_answer_other_seed_other_answer() -> None:
    question = [HumanMessage("Tell me about your company")]
    answers = {_model(seed=s).invoke(question).text for s in (1, 1, 2, 3, 4)}
    assert _model(seed=1).invoke(question).text == _model(seed=1).invoke(question).text
    assert len(answers) > 1


def test_answer_after_tool_results_uses_them() -> None:
    model = _model().bind_tools(TOOLS)
    ask = model.invoke([HumanMessage("What is 6*7?")])
    call = ask.tool_calls[0]
    result = ToolMessage("6*7 = 42", tool_call_id=call["id"], name="calculator")
    answer = model.invoke([HumanMessage("What is 6*7?"), ask, result])
    assert "42" in answer.text and not answer.tool_calls
    assert answer.response_metadata["finish_reason"] == "stop"


def test_streams_word_by_word_with_usage_on_the_last_chunk() -> None:
    async def collect() -> list:
        return [chunk async for chunk in _model().astream([HumanMessage("hello")])]

    chunks = asyncio.run(collect())
    texts = [c.text for c in chunks if c.text]
    assert len(texts) > 5
    usage = [c.usage_metadata for c in chunks if c.usage_metadata]
    assert len(usage) == 1
    full = "".join(texts)
    assert usage[0]["output_tokens"] == count_tokens(full)
    assert usage[0]["total_tokens"] == usage[0]["input_tokens"] + usage[0]["output_tokens"]
    assert [c.text for c in _model().stream([HumanMessage("hello")]) if c.text] == texts


def test_prompt_tokens_grow_with_the_prompt_and_the_tools() -> None:
    short = _model().invoke([HumanMessage("hi")]).usage_metadata
    long = _model().invoke([HumanMessage("hi " * 400)]).usage_metadata
    with_tools = _model().bind_tools(TOOLS).invoke([HumanMessage("hi")]).usage_metadata
    assert short and long and with_tools
    assert long["input_tokens"] > short["input_tokens"] + 300
    assert with_tools["input_tokens"] > short["input_tokens"] + 50


def test_reports_provider_and_model_for_telemetry() -> None:
    params = _model()._get_ls_params()
    assert (params["ls_provider"], params["ls_model_name"]) == ("ollive", "demo-chat")


def test_failures_and_timeouts_at_their_rates() -> None:
    with pytest.raises(DemoModelError):
        _model(error_rate=1.0).invoke([HumanMessage("hi")])
    with pytest.raises(DemoModelTimeout):
        _model(timeout_rate=1.0).invoke([HumanMessage("hi")])
    assert isinstance(DemoModelTimeout("x"), TimeoutError)
    model = _model(seed=3, error_rate=0.2)
    failed = 0
    for i in range(200):
        try:
            model.invoke([HumanMessage(f"question number {i}")])
        except DemoModelError:
            failed += 1
    assert 15 <= failed <= 70


def test_count_tokens_heuristic() -> None:
    assert count_tokens("") == 0
    assert count_tokens("word") == 1
    assert 90 <= count_tokens("lorem ipsum " * 40) <= 130
