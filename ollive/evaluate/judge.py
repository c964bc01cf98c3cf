"""LLM-as-judge: a chat model scores an output against a rubric.

::

    from ollive.evaluate.judge import llm_judge

    helpful = llm_judge(
        "Does the answer solve the user's problem, correctly and politely?",
        base_url="http://localhost:8000/v1", api_key="EMPTY", model_name="qwen2.5-7b-instruct",
        name="judge.helpfulness", rate_limit_per_min=120,
    )
    helpful({"input": "How do I reset my password?"}, "Click 'Forgot password' on the login page.")
    # ScoreValue(name='judge.helpfulness', value=0.75, comment='Clear and correct ...',
    #            metadata={'raw_score': 4.0, 'judge_model': 'qwen2.5-7b-instruct', ...})

The judge sends a system message (the rubric, the scale and strict output instructions,
starting with :data:`JUDGE_MARKER`) and a human message with the item's input, its expected
output when there is one, and the output to judge, each between ``<input>``,
``<expected_output>`` and ``<output>`` tags. The reply must be one JSON object
``{"score": <number in the scale>, "reasoning": "..."}`` (a ```json fence or text around it is
accepted); an unreadable reply is retried ``max_retries`` times, then
:class:`~ollive.errors.JudgeError`. See ``docs/evaluators.md``.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from ollive.errors import ConfigError, JudgeError
from ollive.evaluate.evaluators import ScoreValue, _parse_json, output_text
from ollive.pricing import default_price_table

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel
    from langchain_core.messages import AIMessage, BaseMessage

__all__ = ["JUDGE_MARKER", "JudgeError", "RateLimiter", "llm_judge", "rate_limiter"]

JUDGE_MARKER = "[ollive-judge]"
"""Starts every judge system prompt (the offline demo model answers such prompts with a verdict)."""

_SYSTEM = """{marker} You are an impartial evaluator of an AI assistant's output.

Rubric:
{rubric}

Score the output on a scale from {lo:g} to {hi:g} ({lo:g} is the worst, {hi:g} the best), \
judging by the rubric only. The expected output, when given, is a reference answer.
Reply with exactly one JSON object and nothing else, in this form:
{{"score": <a number from {lo:g} to {hi:g}>, "reasoning": "<one or two sentences>"}}"""

_RETRY = (
    "That reply could not be used ({error}). Reply with only one JSON object: "
    '{{"score": <a number from {lo:g} to {hi:g}>, "reasoning": "<one or two sentences>"}}'
)


class _Verdict(BaseModel):
    """A judge's reply: a score within the scale (passed as validation context) and why."""

    model_config = ConfigDict(extra="ignore")

    score: float = Field(allow_inf_nan=False)
    reasoning: str = Field(
        default="", validation_alias=AliasChoices("reasoning", "reason", "explanation")
    )

    @field_validator("score")
    @classmethod
    def _within_scale(cls, score: float, info: ValidationInfo) -> float:
        lo, hi = (info.context or {}).get("scale", (-math.inf, math.inf))
        if not lo <= score <= hi:
            raise ValueError(f"score {score:g} is outside the scale {lo:g} to {hi:g}")
        return score


def _describe(exc: ValueError) -> str:
    """What is wrong with a reply, in one short line (for the retry prompt and the error)."""
    if isinstance(exc, ValidationError):
        problems = (
            f"{'.'.join(map(str, e['loc'])) or 'reply'}: {e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors()
        )
        return "; ".join(problems)[:200]
    return f"not a JSON object: {exc}"[:200]


def _read_verdict(text: str, scale: tuple[float, float]) -> _Verdict:
    """The verdict in a reply; ``ValueError`` (pydantic's included) when there is none."""
    return _Verdict.model_validate(
        _parse_json(text.strip(), embedded=True), context={"scale": scale}
    )


# --- rate limiting --------------------------------------------------------------------------


class RateLimiter:
    """At most ``per_min`` calls a minute, evenly spaced: a token bucket that holds one token.

    :meth:`acquire` blocks (with ``sleep``) until the caller's turn; threads queue in arrival
    order. ``clock`` and ``sleep`` default to ``time.monotonic`` and ``time.sleep``.
    """

    def __init__(
        self,
        per_min: float,
        *,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        if not per_min > 0:
            raise ConfigError(f"rate_limit_per_min must be > 0, got {per_min!r}")
        self.per_min = float(per_min)
        self.interval_s = 60.0 / self.per_min
        self._clock = clock or time.monotonic
        self._sleep = sleep or time.sleep
        self._lock = threading.Lock()
        self._next_s: float | None = None

    def acquire(self) -> float:
        """Wait for the next slot; returns the seconds waited."""
        with self._lock:
            now = self._clock()
            start = now if self._next_s is None else max(now, self._next_s)
            self._next_s = start + self.interval_s
        wait_s = start - now
        if wait_s > 0:
            self._sleep(wait_s)
        return wait_s


_limiters: dict[tuple[str, float], RateLimiter] = {}
_limiters_lock = threading.Lock()


def rate_limiter(
    name: str,
    per_min: float,
    *,
    clock: Callable[[], float] | None = None,
    sleep: Callable[[float], None] | None = None,
) -> RateLimiter:
    """The process-wide limiter of the judges named ``name`` at ``per_min`` (made on first
    use, with ``clock`` and ``sleep`` if given; later calls return the same one)."""
    key = (name, float(per_min))
    with _limiters_lock:
        limiter = _limiters.get(key)
        if limiter is None:
            limiter = _limiters[key] = RateLimiter(per_min, clock=clock, sleep=sleep)
        return limiter


# --- the judge ------------------------------------------------------------------------------

_clients: dict[tuple[str, str | None, str, float], BaseChatModel] = {}
_clients_lock = threading.Lock()


def _openai_client(
    base_url: str, api_key: str | None, model: str, timeout_s: float
) -> BaseChatModel:
    """A ``ChatOpenAI`` for an OpenAI-compatible server, one per process and settings."""
    key = (base_url, api_key, model, timeout_s)
    with _clients_lock:
        chat = _clients.get(key)
        if chat is None:
            try:
                from langchain_openai import ChatOpenAI
            except ImportError as exc:  # pragma: no cover - part of the [chat] extra
                raise ConfigError(
                    "llm_judge(base_url=...) needs langchain-openai: pip install 'ollive[chat]'"
                ) from exc
            try:
                chat = ChatOpenAI(
                    base_url=base_url,
                    api_key=api_key,
                    model=model,
                    timeout=timeout_s,
                    temperature=0,
                )
            except Exception as exc:  # the OpenAI client refuses its settings (no API key)
                raise ConfigError(
                    f"llm_judge: cannot make a client for {base_url}: {exc}. Pass api_key=... "
                    "(any string for a server without keys)"
                ) from exc
            _clients[key] = chat
        return chat


def _section(tag: str, value: Any) -> str:
    return f"<{tag}>\n{output_text(value)}\n</{tag}>"


def _messages(judge: _Judge, item: Mapping[str, Any], output: Any) -> list[BaseMessage]:
    from langchain_core.messages import HumanMessage, SystemMessage

    lo, hi = judge.scale
    system = _SYSTEM.format(marker=JUDGE_MARKER, rubric=judge.rubric.strip(), lo=lo, hi=hi)
    parts = [_section("input", item.get("input"))]
    if item.get("expected_output") is not None:
        parts.append(_section("expected_output", item["expected_output"]))
    parts.append(_section("output", output))
    return [SystemMessage(system), HumanMessage("\n\n".join(parts))]


@dataclass
class _Usage:
    prompt_tokens: int | None = None
    completion_tokens: int | None = None

    def add(self, reply: AIMessage) -> None:
        usage = getattr(reply, "usage_metadata", None)
        if usage:
            self.prompt_tokens = (self.prompt_tokens or 0) + usage.get("input_tokens", 0)
            self.completion_tokens = (self.completion_tokens or 0) + usage.get("output_tokens", 0)


def _identity(chat: BaseChatModel, reply: AIMessage, fallback: str | None) -> tuple[str, str]:
    """(provider, model) of the judge, as LangChain reports them."""
    try:
        params: Mapping[str, Any] = chat._get_ls_params()
    except Exception:  # a model without LangSmith parameters
        params = {}
    provider = str(params.get("ls_provider") or "")
    meta = getattr(reply, "response_metadata", None) or {}
    model = meta.get("model_name") or params.get("ls_model_name") or fallback
    return provider, str(model or type(chat).__name__)


@dataclass(frozen=True, repr=False)
class _Judge:
    rubric: str
    name: str
    scale: tuple[float, float]
    model: BaseChatModel | None = field(default=None, compare=False)
    base_url: str | None = None
    api_key: str | None = None
    model_name: str | None = None
    rate_limit_per_min: float | None = None
    max_retries: int = 1
    timeout_s: float = 60.0

    def __repr__(self) -> str:
        rubric = self.rubric if len(self.rubric) <= 40 else self.rubric[:37] + "..."
        where = type(self.model).__name__ if self.model is not None else self.base_url
        return f"llm_judge({rubric!r}, name={self.name!r}, model={where!r}, scale={self.scale!r})"

    def _chat(self) -> BaseChatModel:
        if self.model is not None:
            return self.model
        assert self.base_url is not None and self.model_name is not None
        return _openai_client(self.base_url, self.api_key, self.model_name, self.timeout_s)

    def __call__(self, item: dict[str, Any], output: Any) -> ScoreValue:
        chat = self._chat()
        messages = _messages(self, item if isinstance(item, Mapping) else {}, output)
        limiter = (
            rate_limiter(self.name, self.rate_limit_per_min) if self.rate_limit_per_min else None
        )
        usage = _Usage()
        raw = error = ""
        for attempt in range(1, self.max_retries + 2):
            if limiter is not None:
                limiter.acquire()
            reply = chat.invoke(messages)
            usage.add(reply)
            raw = output_text(reply)
            try:
                verdict = _read_verdict(raw, self.scale)
            except ValueError as exc:
                error = _describe(exc)
                messages = [*messages, *_retry_messages(raw, error, self.scale)]
                continue
            return self._score(verdict, usage, _identity(chat, reply, self.model_name), attempt)
        raise JudgeError(
            f"judge {self.name!r}: no usable verdict after {self.max_retries + 1} "
            f"attempt(s) ({error}); the last reply starts {raw[:200]!r}"
        )

    def _score(
        self, verdict: _Verdict, usage: _Usage, identity: tuple[str, str], attempts: int
    ) -> ScoreValue:
        lo, hi = self.scale
        provider, model = identity
        cost = None
        if provider and usage.prompt_tokens is not None:
            cost = default_price_table().cost(
                provider, model, usage.prompt_tokens, usage.completion_tokens or 0
            )
        metadata = {
            "raw_score": verdict.score,
            "judge_model": model,
            "judge_provider": provider or None,
            "prompt_tokens": usage.prompt_tokens,
            "completion_tokens": usage.completion_tokens,
            "cost_usd": cost,
            "attempts": attempts,
        }
        value = (verdict.score - lo) / (hi - lo)
        return ScoreValue(self.name, value, verdict.reasoning or None, metadata)


def _retry_messages(raw: str, error: str, scale: tuple[float, float]) -> list[BaseMessage]:
    from langchain_core.messages import AIMessage, HumanMessage

    lo, hi = scale
    return [AIMessage(raw), HumanMessage(_RETRY.format(error=error, lo=lo, hi=hi))]


def llm_judge(
    rubric: str,
    *,
    model: BaseChatModel | None = None,
    base_url: str | None = None,
    api_key: str | None = None,
    model_name: str | None = None,
    name: str = "judge",
    scale: tuple[float, float] = (1, 5),
    rate_limit_per_min: float | None = None,
    max_retries: int = 1,
    timeout_s: float = 60.0,
) -> Callable[..., ScoreValue]:
    """An evaluator that asks a chat model to score the output by ``rubric``.

    The model is ``model`` (any LangChain chat model), or a ``ChatOpenAI`` for the
    OpenAI-compatible server at ``base_url`` serving ``model_name`` (``api_key``: ``None``
    reads ``OPENAI_API_KEY``; ``timeout_s`` per request; temperature 0), made on first use in
    the process that calls the judge. The value is the score mapped from ``scale`` to [0, 1];
    the comment is the judge's reasoning; ``metadata`` holds ``raw_score``, ``judge_model``,
    ``judge_provider``, ``prompt_tokens``, ``completion_tokens`` (summed over attempts),
    ``cost_usd`` (from the price table; ``None`` for unpriced models) and ``attempts``.
    ``rate_limit_per_min``: a limiter shared by the judges of this name in this process
    (each Ray worker has its own). An unreadable reply is retried ``max_retries`` times, then
    :class:`~ollive.errors.JudgeError`; errors of the model itself propagate.
    """
    _check(rubric, model, base_url, model_name, scale, rate_limit_per_min, max_retries, timeout_s)
    lo, hi = float(scale[0]), float(scale[1])
    return _Judge(
        rubric, name, (lo, hi), model, base_url, api_key, model_name,
        rate_limit_per_min, max_retries, timeout_s,
    )  # fmt: skip


def _check(
    rubric: str,
    model: BaseChatModel | None,
    base_url: str | None,
    model_name: str | None,
    scale: tuple[float, float],
    rate_limit_per_min: float | None,
    max_retries: int,
    timeout_s: float,
) -> None:
    if not isinstance(rubric, str) or not rubric.strip():
        raise ConfigError("llm_judge needs a rubric: what a good output is, in a few sentences")
    if (model is None) == (base_url is None):
        raise ConfigError(
            "llm_judge needs model=<a LangChain chat model> or base_url=... with model_name=..., "
            "exactly one of the two"
        )
    if base_url is not None and not model_name:
        raise ConfigError("llm_judge(base_url=...) needs model_name=<the served model>")
    if len(scale) != 2 or not all(math.isfinite(s) for s in scale) or not scale[0] < scale[1]:
        raise ConfigError(f"llm_judge: scale must be (low, high) with low < high, got {scale!r}")
    if rate_limit_per_min is not None and not rate_limit_per_min > 0:
        raise ConfigError(f"llm_judge: rate_limit_per_min must be > 0, got {rate_limit_per_min}")
    if max_retries < 0 or not timeout_s > 0:
        raise ConfigError("llm_judge: max_retries must be >= 0 and timeout_s > 0")
