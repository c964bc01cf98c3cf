"""The LangChain/LangGraph callback with a real StateGraph and a deterministic local chat model."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Annotated, Any, TypedDict

import pytest
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    ToolMessage,
)
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.tools import tool
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.prebuilt import ToolNode

import ollive
from ollive.events import parse_event
from ollive.integrations.langchain import CallbackHandler
from tests.sdk.conftest import IngestServer


class ScriptedChatModel(BaseChatModel):
    """Asks for one tool call per user question, then answers with what the tool said."""

    streaming: bool = False
    fail: bool = False

    @property
    def _llm_type(self) -> str:
        return "scripted"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_name": "scripted-1"}

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> Any:
        params = super()._get_ls_params(stop=stop, **kwargs)
        params["ls_provider"] = "local"
        params["ls_model_name"] = "scripted-1"
        return params

    def bind_tools(self, tools: Any, **kwargs: Any) -> ScriptedChatModel:  # type: ignore[override]
        return self

    def _reply(self, messages: list[BaseMessage]) -> AIMessage:
        if self.fail:
            raise ConnectionError("model endpoint unreachable")
        last = messages[-1]
        usage = {
            "input_tokens": 10 * len(messages),
            "output_tokens": 7,
            "total_tokens": 10 * len(messages) + 7,
        }
        if isinstance(last, ToolMessage):
            return AIMessage(
                content=f"The answer is {last.content}.",
                usage_metadata=usage,
                response_metadata={"finish_reason": "stop"},
            )
        question = str(last.content)
        call = {
            "name": "lookup",
            "args": {"query": question},
            "id": f"call-{question}",
            "type": "tool_call",
        }
        return AIMessage(
            content="",
            tool_calls=[call],
            usage_metadata=usage,
            response_metadata={"finish_reason": "tool_calls"},
        )

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=self._reply(messages))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        reply = self._reply(messages)
        words = str(reply.content).split(" ") if reply.content else [""]
        for i, word in enumerate(words):
            text = word if i == 0 else " " + word
            last = i == len(words) - 1
            chunk = AIMessageChunk(
                content=text,
                tool_call_chunks=[
                    {
                        "name": c["name"],
                        "args": str(c["args"]).replace("'", '"'),
                        "id": c["id"],
                        "index": n,
                        "type": "tool_call_chunk",
                    }
                    for n, c in enumerate(reply.tool_calls)
                ]
                if last
                else [],
                usage_metadata=reply.usage_metadata if last else None,
                response_metadata=reply.response_metadata if last else {},
            )
            if run_manager:
                run_manager.on_llm_new_token(text, chunk=ChatGenerationChunk(message=chunk))
            yield ChatGenerationChunk(message=chunk)


@tool
def lookup(query: str) -> str:
    """Look something up."""
    if query == "explode":
        raise ValueError("lookup exploded")
    return f"42 for {query}"


class State(TypedDict):
    messages: Annotated[list[BaseMessage], add_messages]


def build_graph(model: ScriptedChatModel) -> Any:
    bound = model.bind_tools([lookup])

    def call_model(state: State) -> dict[str, Any]:
        return {"messages": [bound.invoke(state["messages"])]}

    async def acall_model(state: State) -> dict[str, Any]:
        return {"messages": [await bound.ainvoke(state["messages"])]}

    def route(state: State) -> str:
        last = state["messages"][-1]
        return "tools" if isinstance(last, AIMessage) and last.tool_calls else END

    graph = StateGraph(State)
    graph.add_node("model", call_model if not model.streaming else acall_model)
    graph.add_node("tools", ToolNode([lookup], handle_tool_errors=False))
    graph.add_edge(START, "model")
    graph.add_conditional_edges("model", route, ["tools", END])
    graph.add_edge("tools", "model")
    return graph.compile()


def events_of(server: IngestServer) -> tuple[list[dict], list[dict]]:
    assert ollive.flush(10)
    assert not server.invalid, server.invalid
    for event in server.events.values():
        parse_event(event)
    return server.of_type("inference"), server.of_type("tool_execution")


def test_graph_loop_model_then_tool_then_answer(sdk: IngestServer) -> None:
    graph = build_graph(ScriptedChatModel())
    result = graph.invoke(
        {"messages": [HumanMessage("refunds")]},
        config={
            "callbacks": [CallbackHandler()],
            "configurable": {"thread_id": "thread-7"},
            "metadata": {"user_id": "u-1"},
        },
    )
    assert result["messages"][-1].content == "The answer is 42 for refunds."
    inferences, tools = events_of(sdk)
    assert len(inferences) == 2 and len(tools) == 1
    first = next(e for e in inferences if e["finish_reason"] == "tool_calls")
    final = next(e for e in inferences if e["finish_reason"] == "stop")
    (tool_event,) = tools
    assert (first["provider"], first["model"]) == ("local", "scripted-1")
    assert first["tool_calls_count"] == 1 and "lookup" in first["tool_calls_summary"]
    assert (first["prompt_tokens"], first["completion_tokens"], first["total_tokens"]) == (
        10,
        7,
        17,
    )
    assert final["output_preview"] == "The answer is 42 for refunds."
    assert (
        tool_event["tool_name"] == "lookup"
        and tool_event["parent_request_id"] == first["request_id"]
    )
    assert (
        "42 for refunds" in tool_event["result_preview"] and "refunds" in tool_event["args_preview"]
    )
    assert len({e["trace_id"] for e in [*inferences, *tools]}) == 1
    assert {e["conversation_id"] for e in [*inferences, *tools]} == {"thread-7"}
    assert {e["user_id"] for e in [*inferences, *tools]} == {"u-1"}


def test_concurrent_streaming_runs_stay_separate(sdk: IngestServer) -> None:
    graph = build_graph(ScriptedChatModel(streaming=True))
    handler = CallbackHandler()

    async def run(question: str) -> str:
        config = {"callbacks": [handler], "configurable": {"thread_id": f"conv-{question}"}}
        chunks = []
        async for message, _meta in graph.astream(
            {"messages": [HumanMessage(question)]}, config=config, stream_mode="messages"
        ):
            chunks.append(message)
        return question

    async def main() -> list[str]:
        return await asyncio.gather(*(run(f"q{i}") for i in range(6)))

    assert asyncio.run(main()) == [f"q{i}" for i in range(6)]
    inferences, tools = events_of(sdk)
    assert len(inferences) == 12 and len(tools) == 6
    by_request = {e["request_id"]: e for e in inferences}
    for tool_event in tools:
        parent = by_request[tool_event["parent_request_id"]]
        question = tool_event["conversation_id"].removeprefix("conv-")
        assert parent["conversation_id"] == tool_event["conversation_id"]
        assert parent["trace_id"] == tool_event["trace_id"]
        assert question in tool_event["args_preview"]
    for event in inferences:
        assert event["stream"] is True and event["ttft_ms"] is not None
        assert event["total_tokens"] > 0
    assert len({e["trace_id"] for e in inferences}) == 6


def test_errors_and_nesting_under_an_ollive_span(sdk: IngestServer) -> None:
    handler = CallbackHandler(conversation_id="c-err")
    with (
        ollive.inference("ollive", "outer") as outer,
        pytest.raises(ValueError, match="lookup exploded"),
    ):
        build_graph(ScriptedChatModel()).invoke(
            {"messages": [HumanMessage("explode")]}, config={"callbacks": [handler]}
        )
    with pytest.raises(ConnectionError):
        build_graph(ScriptedChatModel(fail=True)).invoke(
            {"messages": [HumanMessage("x")]}, config={"callbacks": [handler]}
        )
    inferences, tools = events_of(sdk)
    (tool_event,) = tools
    assert tool_event["status"] == "error" and tool_event["error_code"] == "ValueError"
    assert tool_event["trace_id"] == outer.trace_id
    failed = next(e for e in inferences if e["status"] == "error")
    assert failed["error_code"] == "ConnectionError" and failed["conversation_id"] == "c-err"
    nested = [
        e for e in inferences if e["model"] == "scripted-1" and e["trace_id"] == outer.trace_id
    ]
    assert nested and all(e["parent_span_id"] == outer.span_id for e in nested)


def test_handler_is_a_noop_before_init() -> None:
    graph = build_graph(ScriptedChatModel())
    result = graph.invoke(
        {"messages": [HumanMessage("a")]}, config={"callbacks": [CallbackHandler()]}
    )
    assert result["messages"][-1].content == "The answer is 42 for a."


def test_ollive_tools_after_a_graph_run_link_to_its_last_inference(sdk: IngestServer) -> None:
    @ollive.tool
    def notify(text: str) -> str:
        return "sent"

    with ollive.conversation("c-mixed"):
        build_graph(ScriptedChatModel()).invoke(
            {"messages": [HumanMessage("mixed")]}, config={"callbacks": [CallbackHandler()]}
        )
        notify("done")
    inferences, tools = events_of(sdk)
    final = next(e for e in inferences if e["finish_reason"] == "stop")
    ours = next(t for t in tools if t["tool_name"] == "notify")
    assert ours["parent_request_id"] == final["request_id"]
    assert {e["conversation_id"] for e in [*inferences, *tools]} == {"c-mixed"}
    assert len({e["trace_id"] for e in [*inferences, *tools]}) == 1
