"""The demo chatbot: a LangGraph agent with tools, an offline demo model, and memory.

::

    from ollive.chat import ChatAgent, LocalMemory, make_model
    agent = ChatAgent(make_model("demo"), LocalMemory())
    async for event in agent.stream("What is 12 * 7?"):
        ...

Served over HTTP by ``serve/chatbot.py`` (``POST /chat``, see ``docs/chat.md``). Needs the
``[chat]`` extra (LangGraph, langchain-core, langchain-openai).
"""

from __future__ import annotations

from ollive.chat.agent import ChatAgent, ChatEvent
from ollive.chat.demo_model import (
    DEMO_MODEL,
    DEMO_PROVIDER,
    DemoChatModel,
    DemoModelError,
    DemoModelTimeout,
    count_tokens,
)
from ollive.chat.graph import SYSTEM_PROMPT, build_graph
from ollive.chat.memory import LocalMemory, Memory, RedisMemory, message_view
from ollive.chat.models import DemoOptions, make_model
from ollive.chat.tools import TOOLS, calculator, current_time, lookup_order, search_docs

__all__ = [
    "DEMO_MODEL",
    "DEMO_PROVIDER",
    "SYSTEM_PROMPT",
    "TOOLS",
    "ChatAgent",
    "ChatEvent",
    "DemoChatModel",
    "DemoModelError",
    "DemoModelTimeout",
    "DemoOptions",
    "LocalMemory",
    "Memory",
    "RedisMemory",
    "build_graph",
    "calculator",
    "count_tokens",
    "current_time",
    "lookup_order",
    "make_model",
    "message_view",
    "search_docs",
]
