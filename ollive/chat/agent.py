"""The turn runner: one user message in, a stream of :class:`ChatEvent` out.

::

    agent = ChatAgent(make_model("demo"), RedisMemory(url))
    async for event in agent.stream("Where is ORD-10001?", conversation_id=None, user_id="u-1"):
        print(event.type, event.data)

Events, in order: ``conversation`` (its id and the turn id: enough to cancel), then any of
``token`` {text}, ``tool_call`` {id, name, args}, ``tool_result`` {id, name, status,
content}, and one terminal event: ``final`` {conversation_id, request_id, usage, content,
latency_ms}, ``cancelled`` {conversation_id, request_id, usage, content} or ``error``
{conversation_id, request_id, error, message}. ``request_id`` is the Ollive request id of
the turn's last inference (None when the SDK is off).

Each turn runs inside ``ollive.conversation(conversation_id, user_id=...)`` with the SDK's
LangChain callback: every model call is an ``inference`` event, every tool call a
``tool_execution`` event (from ``@ollive.tool``) whose ``parent_request_id`` is the inference
that asked for it. A turn stops when :meth:`ChatAgent.cancel` is called (from any replica
sharing the memory) or when the consumer stops iterating; its inference then ends with
status ``cancelled``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool

from ollive.chat.graph import SYSTEM_PROMPT, build_graph
from ollive.chat.memory import Memory, message_view
from ollive.chat.tools import TOOLS
from ollive.sdk import InferenceSpan, Prompt, conversation
from ollive.sdk.integrations.langchain import CallbackHandler

__all__ = ["ChatAgent", "ChatEvent"]

log = logging.getLogger("ollive.chat")

PROMPT_NAME = "demo-chatbot-system"  # the prompt version the chatbot's inferences carry
PROMPT_VERSION = 1
_TERMINAL = frozenset({"final", "cancelled", "error"})


@dataclass(frozen=True)
class ChatEvent:
    """One event of a turn's stream: ``type`` and a JSON-able ``data`` dict."""

    type: str
    data: dict[str, Any]

    def sse(self) -> str:
        """The event as a Server-Sent Events frame (``event:`` and ``data:`` lines)."""
        return f"event: {self.type}\ndata: {json.dumps(self.data, default=str)}\n\n"


class _TurnHandler(CallbackHandler):
    """The SDK's LangChain handler, plus what a turn needs from it.

    It remembers the turn's inference spans (their request ids go to the client) and
    attaches each to the turn's ``ollive.conversation`` scope, so ``@ollive.tool`` calls
    made after an inference link to it (``parent_request_id``).
    """

    def __init__(self, scope: Any) -> None:
        super().__init__()
        self.turn_scope = scope
        self.inferences: list[InferenceSpan] = []

    def _begin(self, span: Any, run: Any) -> None:
        super()._begin(span, run)
        if isinstance(span, InferenceSpan):
            span._scope = self.turn_scope  # InferenceSpan._on_end sets scope.last_inference
            self.inferences.append(span)

    @property
    def last_request_id(self) -> str | None:
        return self.inferences[-1].request_id if self.inferences else None


@dataclass
class _Turn:
    """What a running turn accumulates."""

    conversation_id: str
    user_id: str | None
    started: float = field(default_factory=time.perf_counter)
    messages: list[BaseMessage] = field(default_factory=list)
    partial: list[str] = field(default_factory=list)
    outcome: str = "final"
    error: BaseException | None = None
    handler: _TurnHandler | None = None


class ChatAgent:
    """Runs chat turns with the agent graph, memory and instrumentation."""

    def __init__(
        self,
        model: BaseChatModel,
        memory: Memory,
        *,
        tools: Sequence[BaseTool] = TOOLS,
        system_prompt: str | None = SYSTEM_PROMPT,
        instrument: bool = True,
        history_limit: int = 40,
        cancel_poll_s: float = 0.1,
    ) -> None:
        self.graph = build_graph(model, tools, system_prompt=system_prompt)
        #: every model call of a turn carries the system prompt's name, version and hash
        self.prompt = Prompt(PROMPT_NAME, version=PROMPT_VERSION, template=system_prompt or "")
        self.memory = memory
        self.instrument = instrument
        self.history_limit = history_limit
        self.cancel_poll_s = cancel_poll_s

    async def cancel(self, conversation_id: str) -> bool:
        """Stop the conversation's running turn (wherever it runs); False when none runs."""
        return await self.memory.request_cancel(conversation_id) is not None

    async def history(self, conversation_id: str) -> dict[str, Any] | None:
        """The conversation as ``{conversation_id, user_id, messages: [...]}``; None if unknown."""
        if not await self.memory.exists(conversation_id):
            return None
        meta = await self.memory.meta(conversation_id)
        messages = await self.memory.load(conversation_id)
        return {
            "conversation_id": conversation_id,
            "user_id": meta.get("user_id") or None,
            "messages": [message_view(m) for m in messages],
        }

    async def stream(
        self, message: str, conversation_id: str | None = None, user_id: str | None = None
    ) -> AsyncIterator[ChatEvent]:
        """Run one turn and yield its events (see the module docstring)."""
        memory = self.memory
        if conversation_id is None or not await memory.exists(conversation_id):
            conversation_id = await memory.create(user_id, conversation_id)
        turn_id = await memory.start_turn(conversation_id)
        turn = _Turn(conversation_id, user_id)
        yield ChatEvent("conversation", {"conversation_id": conversation_id, "turn_id": turn_id})
        history = await memory.load(conversation_id, self.history_limit)
        user = HumanMessage(message)
        queue: asyncio.Queue[ChatEvent | None] = asyncio.Queue()
        runner = asyncio.create_task(self._run(turn, [*history, user], queue))
        watcher = asyncio.create_task(self._watch(conversation_id, turn_id, runner))
        try:
            while (event := await queue.get()) is not None:
                yield event
            await runner
            yield await self._conclude(turn, user)
        finally:
            watcher.cancel()
            if not runner.done():  # the consumer went away: stop the turn, keep what we have
                runner.cancel()
                await asyncio.wait([runner])
                with contextlib.suppress(Exception):
                    await self._conclude(turn, user)
            with contextlib.suppress(Exception):
                await memory.finish_turn(conversation_id, turn_id)

    async def _run(
        self, turn: _Turn, messages: list[BaseMessage], queue: asyncio.Queue[Any]
    ) -> None:
        try:
            with (
                conversation(turn.conversation_id, user_id=turn.user_id) as scope,
                self.prompt,
            ):
                config: RunnableConfig = {"recursion_limit": 25}
                if self.instrument:
                    turn.handler = _TurnHandler(scope)
                    config["callbacks"] = [turn.handler]
                stream = self.graph.astream(
                    {"messages": messages}, config, stream_mode=["custom", "updates"]
                )
                async for part in stream:
                    mode, data = cast(tuple[str, Any], part)
                    if mode == "custom":
                        if data["type"] == "token":
                            turn.partial.append(data["text"])
                        queue.put_nowait(
                            ChatEvent(data["type"], {k: v for k, v in data.items() if k != "type"})
                        )
                    else:
                        for update in data.values():
                            turn.messages.extend((update or {}).get("messages", []))
                            turn.partial.clear()
        except asyncio.CancelledError:
            turn.outcome = "cancelled"
        except Exception as exc:
            turn.outcome, turn.error = "error", exc
            log.warning("chat turn failed in %s: %s", turn.conversation_id, exc)
        finally:
            queue.put_nowait(None)

    async def _watch(self, conversation_id: str, turn_id: str, runner: asyncio.Task[None]) -> None:
        while not runner.done():
            await asyncio.sleep(self.cancel_poll_s)
            try:
                if await self.memory.cancel_requested(conversation_id, turn_id):
                    runner.cancel()
                    return
            except Exception as exc:  # memory unreachable: keep the turn running
                log.warning("cancel check failed for %s: %s", conversation_id, exc)

    async def _conclude(self, turn: _Turn, user: HumanMessage) -> ChatEvent:
        """Store the turn in memory and make its terminal event."""
        saved: list[BaseMessage] = [user, *turn.messages]
        partial = "".join(turn.partial)
        if turn.outcome == "cancelled" and partial:
            saved.append(AIMessage(partial, response_metadata={"cancelled": True}))
        await self.memory.append(turn.conversation_id, saved)
        request_id = turn.handler.last_request_id if turn.handler else None
        data: dict[str, Any] = {"conversation_id": turn.conversation_id, "request_id": request_id}
        if turn.outcome == "error":
            data.update(error=type(turn.error).__name__, message=str(turn.error)[:500])
            return ChatEvent("error", data)
        answers = [m for m in turn.messages if isinstance(m, AIMessage)]
        content = answers[-1].text if answers and turn.outcome == "final" else partial
        data.update(
            usage=_usage(answers),
            content=content,
            tool_calls=sum(len(m.tool_calls) for m in answers),
            latency_ms=round((time.perf_counter() - turn.started) * 1000, 1),
        )
        return ChatEvent(turn.outcome, data)


def _usage(messages: Sequence[AIMessage]) -> dict[str, int]:
    total = {"input_tokens": 0, "output_tokens": 0, "total_tokens": 0}
    for message in messages:
        usage: dict[str, Any] = dict(message.usage_metadata or {})
        for key in total:
            total[key] += int(usage.get(key) or 0)
    return total
