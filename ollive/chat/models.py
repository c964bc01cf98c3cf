"""Choosing the chat model from a spec string: ``demo`` (default) or ``openai:<model>``.

``openai:<model>`` uses langchain-openai's ``ChatOpenAI`` (streaming, with usage in the
stream). It reads ``OPENAI_API_KEY`` and ``OPENAI_BASE_URL`` itself, so any
OpenAI-compatible server works (vLLM, Ollama, LiteLLM, a local test server).
"""

from __future__ import annotations

from dataclasses import dataclass

from langchain_core.language_models import BaseChatModel

from ollive.chat.demo_model import DemoChatModel
from ollive.errors import ConfigError

__all__ = ["DemoOptions", "make_model"]


@dataclass(frozen=True)
class DemoOptions:
    """Knobs of the offline demo model (see :class:`~ollive.chat.demo_model.DemoChatModel`)."""

    seed: int = 0
    latency_scale: float = 1.0
    error_rate: float = 0.02
    timeout_rate: float = 0.01
    timeout_s: float = 20.0


def make_model(
    spec: str = "demo",
    demo: DemoOptions | None = None,
    *,
    timeout_s: float = 60.0,
    max_retries: int = 0,
) -> BaseChatModel:
    """The chat model named by ``spec``.

    - ``"demo"``: :class:`DemoChatModel` configured by ``demo``;
    - ``"openai:<model>"``: ``ChatOpenAI(model=<model>)``; ``timeout_s`` and ``max_retries``
      go to the OpenAI client (retries are off by default so failures show in telemetry).

    Raises :class:`~ollive.errors.ConfigError` for any other spec.
    """
    kind, _, name = spec.strip().partition(":")
    if kind == "demo" and not name:
        opts = demo or DemoOptions()
        return DemoChatModel(
            seed=opts.seed,
            latency_scale=opts.latency_scale,
            error_rate=opts.error_rate,
            timeout_rate=opts.timeout_rate,
            timeout_s=opts.timeout_s,
        )
    if kind == "openai" and name:
        try:
            from langchain_openai import ChatOpenAI
        except ImportError as exc:  # pragma: no cover - part of the [chat] extra
            raise ConfigError(
                "openai:<model> needs langchain-openai: pip install 'ollive[chat]'"
            ) from exc
        return ChatOpenAI(
            model=name,
            streaming=True,
            stream_usage=True,
            timeout=timeout_s,
            max_retries=max_retries,
        )
    raise ConfigError(
        f"unknown chat model {spec!r}: use 'demo' or 'openai:<model>' (e.g. openai:gpt-4o-mini)"
    )
