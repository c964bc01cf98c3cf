"""An offline chat model that behaves like a production one: :class:`DemoChatModel`.

No network, no weights. For a given ``seed`` and the same messages it answers the same way:

- when tools are bound (``bind_tools``) and the last message asks for arithmetic, an order
  (``ORD-10001``), the time or something in the product docs, it answers with tool calls
  (several at once when the question needs several); after the tool results it writes an
  answer from them;
- it streams its answer word by word (``_stream`` / ``_astream``), with a time to first
  token and an inter-token delay scaled by ``latency_scale`` (0 makes it instant);
- it reports ``usage_metadata`` counted with a characters-and-words heuristic;
- given a judge prompt (a system message holding :data:`JUDGE_MARKER`, as
  ``ollive.evaluate.judge.llm_judge`` sends), it replies with a JSON verdict on the prompt's
  scale, from simple features of the judged output (empty, a refusal, words shared with the
  expected output, else a hash), sometimes in a ```json fence;
- it fails (:class:`DemoModelError`) or times out (:class:`DemoModelTimeout`) at
  ``error_rate`` and ``timeout_rate``.

Its telemetry names are provider ``ollive``, model ``demo-chat`` (priced in the bundled table).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.language_models.base import LangSmithParams
from langchain_core.language_models.chat_models import generate_from_stream
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, ToolMessage
from langchain_core.messages.tool import tool_call_chunk
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import Field

from ollive.chat import _script
from ollive.chat._script import JUDGE_MARKER

__all__ = [
    "DEMO_MODEL",
    "DEMO_PROVIDER",
    "JUDGE_MARKER",
    "DemoChatModel",
    "DemoModelError",
    "DemoModelTimeout",
    "count_tokens",
]

DEMO_PROVIDER = "ollive"
DEMO_MODEL = "demo-chat"


class DemoModelError(RuntimeError):
    """The demo model's simulated upstream failure (a 503 from the provider)."""


class DemoModelTimeout(TimeoutError):
    """The demo model's simulated upstream timeout."""


def count_tokens(text: str) -> int:
    """Tokens in ``text`` by a heuristic: the larger of chars/4 and words*4/3 (no tokenizer)."""
    if not text:
        return 0
    return max(1, round(len(text) / 4), round(len(text.split()) * 4 / 3))


class DemoChatModel(BaseChatModel):
    """The offline demo chat model (see the module docstring)."""

    model_name: str = Field(default=DEMO_MODEL, description="Model name reported in telemetry.")
    seed: int = Field(default=0, description="Same seed and same messages: same answer.")
    latency_scale: float = Field(
        default=1.0, ge=0, description="Multiplies every simulated delay; 0 = instant."
    )
    error_rate: float = Field(
        default=0.02, ge=0, le=1, description="Share of calls failing with DemoModelError."
    )
    timeout_rate: float = Field(
        default=0.01, ge=0, le=1, description="Share of calls raising DemoModelTimeout."
    )
    timeout_s: float = Field(
        default=20.0, gt=0, description="How long a timing-out call hangs (times scale)."
    )

    @property
    def _llm_type(self) -> str:
        return "ollive-demo"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_name": self.model_name, "seed": self.seed}

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        return LangSmithParams(
            ls_provider=DEMO_PROVIDER, ls_model_name=self.model_name, ls_model_type="chat"
        )

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """This model with ``tools`` bound (OpenAI tool schemas): it may now call them."""
        schemas = [convert_to_openai_tool(tool) for tool in tools]
        return self.bind(tools=schemas, **kwargs)

    # --- one call = one plan, replayed with sleeps -----------------------------------------
    def _plan(self, messages: list[BaseMessage], kwargs: dict[str, Any]) -> _script.Plan:
        tools = [t["function"]["name"] for t in kwargs.get("tools") or [] if "function" in t]
        digest = hashlib.sha256(f"{self.seed}\x00{_transcript(messages)}".encode()).digest()
        plan = _script.plan(messages, tools, int.from_bytes(digest[:8], "big"))
        roll = plan.rng.random()
        if roll < self.error_rate:
            plan.failure = "error"
        elif roll < self.error_rate + self.timeout_rate:
            plan.failure = "timeout"
        plan.prompt_tokens = _prompt_tokens(messages, kwargs.get("tools"))
        return plan

    def _steps(self, plan: _script.Plan) -> Iterator[tuple[float, ChatGenerationChunk | None]]:
        """(delay_s, chunk) pairs; a ``None`` chunk means: raise the planned failure now."""
        scale = self.latency_scale
        rng = plan.rng
        ttft = (0.25 + 0.0004 * plan.prompt_tokens + rng.uniform(0.0, 0.35)) * scale
        if plan.failure == "timeout":
            yield self.timeout_s * scale, None
            return
        if plan.failure == "error":
            yield ttft * rng.uniform(0.2, 1.0), None
            return
        completion = 0
        if plan.tool_calls:
            chunks = [
                tool_call_chunk(name=c["name"], args=json.dumps(c["args"]), id=c["id"], index=i)
                for i, c in enumerate(plan.tool_calls)
            ]
            completion = sum(
                count_tokens(c["name"] + json.dumps(c["args"])) + 3 for c in plan.tool_calls
            )
            yield (
                ttft,
                ChatGenerationChunk(message=AIMessageChunk(content="", tool_call_chunks=chunks)),
            )
        else:
            pieces = _script.split_words(plan.text)
            for i, piece in enumerate(pieces):
                delay = ttft if i == 0 else rng.uniform(0.012, 0.03) * scale
                yield delay, ChatGenerationChunk(message=AIMessageChunk(content=piece))
            completion = count_tokens(plan.text)
        reason = "tool_calls" if plan.tool_calls else "stop"
        usage = {
            "input_tokens": plan.prompt_tokens,
            "output_tokens": completion,
            "total_tokens": plan.prompt_tokens + completion,
        }
        last = AIMessageChunk(
            content="",
            usage_metadata=usage,  # type: ignore[arg-type]
            response_metadata={"finish_reason": reason, "model_name": self.model_name},
            chunk_position="last",
        )
        yield 0.0, ChatGenerationChunk(message=last, generation_info={"finish_reason": reason})

    def _raise(self, plan: _script.Plan) -> None:
        if plan.failure == "timeout":
            raise DemoModelTimeout(f"{self.model_name}: upstream timed out")
        raise DemoModelError(f"{self.model_name}: upstream error 503 (service unavailable)")

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        plan = self._plan(messages, kwargs)
        for delay, chunk in self._steps(plan):
            if delay > 0:
                time.sleep(delay)
            if chunk is None:
                self._raise(plan)
                return
            yield chunk

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        plan = self._plan(messages, kwargs)
        for delay, chunk in self._steps(plan):
            if delay > 0:
                await asyncio.sleep(delay)
            if chunk is None:
                self._raise(plan)
                return
            yield chunk

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return generate_from_stream(self._stream(messages, stop, run_manager, **kwargs))

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        chunks = [c async for c in self._astream(messages, stop, run_manager, **kwargs)]
        return generate_from_stream(iter(chunks))


def _text(message: BaseMessage) -> str:
    content = message.content
    if isinstance(content, str):
        return content
    return " ".join(p if isinstance(p, str) else str(p.get("text", "")) for p in content)


def _transcript(messages: Sequence[BaseMessage]) -> str:
    parts = []
    for m in messages:
        calls = getattr(m, "tool_calls", None) or []
        extra = json.dumps([[c["name"], c["args"]] for c in calls], sort_keys=True) if calls else ""
        name = m.tool_call_id if isinstance(m, ToolMessage) else ""
        parts.append(f"{m.type}:{name}:{_text(m)}:{extra}")
    return "\x1e".join(parts)


def _prompt_tokens(messages: Sequence[BaseMessage], tools: Any) -> int:
    total = 3
    for m in messages:
        total += 4 + count_tokens(_text(m))
        for call in getattr(m, "tool_calls", None) or []:
            total += 3 + count_tokens(call["name"] + json.dumps(call["args"]))
    if tools:
        total += count_tokens(json.dumps(tools))
    return total
