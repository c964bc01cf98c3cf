"""The graph and the turn runner: streaming events, memory, instrumentation, cancellation."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from langchain_core.messages import HumanMessage

from ollive.chat import ChatAgent, ChatEvent, DemoChatModel, LocalMemory, RedisMemory, build_graph
from ollive.chat.graph import SYSTEM_PROMPT
from ollive.events import template_hash

from .conftest import EventSink, wait_until


def _model(**kwargs: Any) -> DemoChatModel:
    options: dict[str, Any] = {"latency_scale": 0.0, "error_rate": 0.0, "timeout_rate": 0.0}
    options.update(kwargs)
    return DemoChatModel(**options)


async def _collect(
    agent: ChatAgent, message: str, cid: str | None = None, **kw: Any
) -> list[ChatEvent]:
    return [event async for event in agent.stream(message, cid, **kw)]


def test_graph_loops_model_tools_model_and_streams_tokens() -> None:
    graph = build_graph(_model())

    async def run() -> list[tuple[str, Any]]:
        stream = graph.astream(
            {"messages": [HumanMessage("What is 6 * 7?")]}, stream_mode=["custom", "updates"]
        )
        return [part async for part in stream]

    parts = asyncio.run(run())
    nodes = [next(iter(data)) for mode, data in parts if mode == "updates"]
    assert nodes == ["model", "tools", "model"]
    custom = [data for mode, data in parts if mode == "custom"]
    assert custom[0] == {"type": "tool_call", "id": custom[0]["id"], "name": "calculator",
                         "args": {"expression": "6 * 7"}}  # fmt: skip
    assert custom[1]["type"] == "tool_result" and custom[1]["content"] == "6 * 7 = 42"
    tokens = [d["text"] for d in custom if d["type"] == "token"]
    assert len(tokens) > 3 and "42" in "".join(tokens)


def test_turn_events_and_history_in_local_memory() -> None:
    agent = ChatAgent(_model(), LocalMemory(), instrument=False)
    events = asyncio.run(_collect(agent, "Where is ORD-10075?", user_id="u-1"))
    kinds = [e.type for e in events]
    assert kinds[0] == "conversation" and kinds[-1] == "final"
    assert kinds.count("tool_call") == 1 and kinds.count("tool_result") == 1
    final = events[-1].data
    tokens = "".join(e.data["text"] for e in events if e.type == "token")
    assert final["content"] == tokens and "ORD-10075" in tokens
    assert final["request_id"] is None  # no SDK: no request id
    assert (
        final["usage"]["total_tokens"]
        == final["usage"]["input_tokens"] + final["usage"]["output_tokens"]
    )
    cid = final["conversation_id"]
    again = asyncio.run(_collect(agent, "thanks!", cid))
    assert again[-1].data["conversation_id"] == cid
    history = asyncio.run(agent.history(cid))
    assert history is not None and history["user_id"] == "u-1"
    assert [m["role"] for m in history["messages"]] == [
        "user",
        "assistant",
        "tool",
        "assistant",
        "user",
        "assistant",
    ]
    assert asyncio.run(agent.history("conv-nope")) is None


def test_same_seed_gives_the_same_turn() -> None:
    def answer(seed: int) -> str:
        agent = ChatAgent(_model(seed=seed), LocalMemory(), instrument=False)
        return asyncio.run(_collect(agent, "Tell me about your plans"))[-1].data["content"]

    assert answer(5) == answer(5)


def test_a_turn_is_recorded_as_inferences_and_linked_tool_executions(sink: EventSink) -> None:
    agent = ChatAgent(_model(), LocalMemory())
    events = asyncio.run(_collect(agent, "Is ORD-10001 shipped? And what is 2+2?", user_id="u-9"))
    final = events[-1].data
    cid = final["conversation_id"]
    inferences = wait_until(
        lambda: len(sink.of_type("inference")) == 2 and sink.of_type("inference")
    )
    tools = wait_until(
        lambda: len(sink.of_type("tool_execution")) == 2 and sink.of_type("tool_execution")
    )
    assert not sink.invalid
    asking = next(i for i in inferences if i["tool_calls_count"] == 2)
    answering = next(i for i in inferences if i is not asking)
    assert answering["request_id"] == final["request_id"]
    assert asking["finish_reason"] == "tool_calls" and answering["finish_reason"] == "stop"
    assert {t["parent_request_id"] for t in tools} == {asking["request_id"]}
    assert {t["tool_name"] for t in tools} == {"lookup_order", "calculator"}
    for event in inferences + tools:
        assert event["conversation_id"] == cid and event["user_id"] == "u-9"
        assert event["trace_id"] == asking["trace_id"]
    for event in inferences:
        assert (event["provider"], event["model"], event["stream"]) == ("ollive", "demo-chat", True)
        assert event["prompt_tokens"] > 0 and event["completion_tokens"] > 0
        # the system prompt's version rides on every model call (contract v1.1)
        assert (event["prompt_name"], event["prompt_version"]) == ("demo-chatbot-system", "1")
        assert event["prompt_hash"] == template_hash(SYSTEM_PROMPT)
    assert final["usage"]["input_tokens"] == sum(i["prompt_tokens"] for i in inferences)


def test_a_failing_model_ends_the_turn_with_an_error_event(sink: EventSink) -> None:
    agent = ChatAgent(_model(error_rate=1.0), LocalMemory())
    events = asyncio.run(_collect(agent, "hello"))
    assert events[-1].type == "error" and events[-1].data["error"] == "DemoModelError"
    recorded = wait_until(
        lambda: sink.of_type("inference", request_id=events[-1].data["request_id"])
    )
    assert recorded[0]["status"] == "error" and recorded[0]["error_code"] == "DemoModelError"


def test_a_timing_out_model_is_recorded_as_timeout(sink: EventSink) -> None:
    agent = ChatAgent(_model(timeout_rate=1.0), LocalMemory())
    events = asyncio.run(_collect(agent, "hello"))
    recorded = wait_until(
        lambda: sink.of_type("inference", request_id=events[-1].data["request_id"])
    )
    assert recorded[0]["status"] == "timeout"


async def _cancel_mid_stream(agent: ChatAgent, message: str) -> list[ChatEvent]:
    events: list[ChatEvent] = []
    async for event in agent.stream(message):
        events.append(event)
        if event.type == "token" and sum(e.type == "token" for e in events) == 3:
            assert await agent.cancel(event_conversation(events))
    return events


def event_conversation(events: list[ChatEvent]) -> str:
    return str(events[0].data["conversation_id"])


@pytest.mark.parametrize("memory_kind", ["local", "redis"])
def test_cancel_stops_the_turn_and_the_inference_is_cancelled(
    sink: EventSink, memory_kind: str, request: pytest.FixtureRequest
) -> None:
    async def run() -> tuple[list[ChatEvent], dict[str, Any] | None, bool]:
        memory = (
            LocalMemory()
            if memory_kind == "local"
            else RedisMemory(request.getfixturevalue("valkey_url"))
        )
        agent = ChatAgent(_model(latency_scale=1.0), memory, cancel_poll_s=0.02)
        events = await _cancel_mid_stream(agent, "Tell me everything about your company")
        cid = event_conversation(events)
        history, again = await agent.history(cid), await agent.cancel(cid)
        await memory.close()
        return events, history, again

    events, history, cancelled_again = asyncio.run(run())
    last = events[-1]
    assert last.type == "cancelled"
    streamed = "".join(e.data["text"] for e in events if e.type == "token")
    assert last.data["content"] == streamed
    recorded = wait_until(lambda: sink.of_type("inference", request_id=last.data["request_id"]))
    assert recorded[0]["status"] == "cancelled"
    assert history is not None
    assert history["messages"][-1] == {"role": "assistant", "content": streamed, "cancelled": True}
    assert cancelled_again is False  # nothing runs any more


def test_a_consumer_that_goes_away_cancels_the_turn(sink: EventSink) -> None:
    agent = ChatAgent(_model(latency_scale=1.0), LocalMemory())

    async def run() -> str:
        stream = agent.stream("Tell me everything about your company")
        async for event in stream:
            if event.type == "token":
                break
        await stream.aclose()  # what Starlette does when the HTTP client disconnects
        return str(event.data)

    asyncio.run(run())
    recorded = wait_until(lambda: sink.of_type("inference", status="cancelled"))
    assert len(recorded) == 1


def test_redis_memory_is_shared_and_expires(valkey_url: str) -> None:
    async def run() -> None:
        one, two = RedisMemory(valkey_url, ttl_s=60), RedisMemory(valkey_url, ttl_s=60)
        cid = await one.create("u-1")
        await one.append(cid, [HumanMessage("hi")])
        assert await two.exists(cid) and (await two.meta(cid))["user_id"] == "u-1"
        assert [m.text for m in await two.load(cid)] == ["hi"]
        turn = await one.start_turn(cid)
        assert await two.request_cancel(cid) == turn and await one.cancel_requested(cid, turn)
        new_turn = await one.start_turn(cid)  # a new turn is not cancelled by the old request
        assert not await one.cancel_requested(cid, new_turn)
        await one.finish_turn(cid, new_turn)
        assert await two.request_cancel(cid) is None
        import redis.asyncio as redis

        client = redis.Redis.from_url(valkey_url)
        assert 0 < await client.ttl(f"ollive:chat:{cid}:messages") <= 60
        await client.aclose()
        await one.close()
        await two.close()

    asyncio.run(run())
