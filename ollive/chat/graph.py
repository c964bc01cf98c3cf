"""The agent as a LangGraph ``StateGraph``: a model node and a tools node in a loop.

::

    START ─▶ model ──(tool calls?)──▶ tools ─┐
               ▲  └──(no)──▶ END              │
               └──────────────────────────────┘

The model node streams (``model.astream``) and forwards each text piece through LangGraph's
custom stream (``stream_mode="custom"``) as ``{"type": "token", "text": ...}``, then one
``{"type": "tool_call", ...}`` per requested call. The tools node runs the calls concurrently
and writes ``{"type": "tool_result", ...}`` for each. A failing tool becomes a
``ToolMessage`` with ``status="error"`` (the model then explains), never an exception.

Tools run by calling their function directly (each is traced with ``@ollive.tool``), not
through LangChain's tool runner, so the LangChain callbacks of the run (the SDK's handler)
see the model calls only and no tool call is recorded twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, SystemMessage, ToolMessage
from langchain_core.messages.utils import message_chunk_to_message
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool, StructuredTool
from langgraph.config import get_stream_writer
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.graph.state import CompiledStateGraph

from ollive.chat.tools import TOOLS

__all__ = ["SYSTEM_PROMPT", "build_graph"]

SYSTEM_PROMPT = (
    "You are the support assistant of Acme Cloud. Answer briefly and accurately. Use the tools: "
    "lookup_order for order ids (ORD-10001), search_docs for product, billing and API "
    "questions, calculator for arithmetic, current_time for dates and times."
)
_MAX_RESULT_CHARS = 2_000


def build_graph(
    model: BaseChatModel,
    tools: Sequence[BaseTool] = TOOLS,
    *,
    system_prompt: str | None = SYSTEM_PROMPT,
    max_tool_rounds: int = 4,
) -> CompiledStateGraph[Any, Any, Any, Any]:
    """The compiled agent graph (state: LangGraph's ``MessagesState``).

    ``max_tool_rounds`` bounds the model→tools loop; past it the model's tool calls are
    not run and the graph ends. Stream it with ``stream_mode=["custom", "updates"]``.
    """
    bound = model.bind_tools(list(tools))
    by_name = {tool.name: tool for tool in tools}

    async def call_model(state: MessagesState, config: RunnableConfig) -> dict[str, Any]:
        messages: list[BaseMessage] = list(state["messages"])
        if system_prompt:
            messages.insert(0, SystemMessage(system_prompt))
        write = get_stream_writer()
        merged: Any = None
        async for chunk in bound.astream(messages, config):
            text = chunk.text
            if text:
                write({"type": "token", "text": text})
            merged = chunk if merged is None else merged + chunk
        message = message_chunk_to_message(merged) if merged is not None else AIMessage("")
        for call in getattr(message, "tool_calls", None) or []:
            write(
                {"type": "tool_call", "id": call["id"], "name": call["name"], "args": call["args"]}
            )
        return {"messages": [message]}

    async def call_tools(state: MessagesState) -> dict[str, Any]:
        last = state["messages"][-1]
        calls = getattr(last, "tool_calls", None) or []
        results = await asyncio.gather(*(_run_tool(by_name, call) for call in calls))
        write = get_stream_writer()
        for result in results:
            write(
                {
                    "type": "tool_result",
                    "id": result.tool_call_id,
                    "name": result.name,
                    "status": result.status,
                    "content": result.text[:_MAX_RESULT_CHARS],
                }
            )
        return {"messages": results}

    def route(state: MessagesState) -> str:
        last = state["messages"][-1]
        if isinstance(last, AIMessage) and last.tool_calls:
            return "tools" if _tool_rounds(state["messages"]) <= max_tool_rounds else END
        return END

    graph = StateGraph(MessagesState)
    graph.add_node("model", call_model)
    graph.add_node("tools", call_tools)
    graph.add_edge(START, "model")
    graph.add_conditional_edges("model", route, ["tools", END])
    graph.add_edge("tools", "model")
    return graph.compile(name="ollive-chat")


def _tool_rounds(messages: Sequence[BaseMessage]) -> int:
    """Model messages with tool calls in the current turn (since the last human message)."""
    rounds = 0
    for message in reversed(messages):
        if message.type == "human":
            break
        if isinstance(message, AIMessage) and message.tool_calls:
            rounds += 1
    return rounds


async def _run_tool(by_name: dict[str, BaseTool], call: dict[str, Any]) -> ToolMessage:
    """One tool call as a ToolMessage; errors (unknown tool, bad args, raised) included."""
    name, call_id = call["name"], call["id"]
    tool = by_name.get(name)
    try:
        if not isinstance(tool, StructuredTool) or tool.func is None:
            raise LookupError(f"unknown tool {name!r}")
        args = dict(call.get("args") or {})
        schema = tool.args_schema
        if isinstance(schema, type):
            args = schema.model_validate(args).model_dump(exclude_unset=True)  # type: ignore[union-attr]
        if tool.coroutine is not None:
            output = await tool.coroutine(**args)
        else:
            output = await asyncio.to_thread(tool.func, **args)  # copies the context
        return ToolMessage(str(output), tool_call_id=call_id, name=name)
    except Exception as exc:
        return ToolMessage(
            f"{type(exc).__name__}: {exc}", tool_call_id=call_id, name=name, status="error"
        )
