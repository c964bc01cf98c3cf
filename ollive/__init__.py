"""Ollive: observability for LLM products.

In an application (the SDK; importing ``ollive`` pulls in nothing heavy)::

    import ollive
    ollive.init(endpoint="http://localhost:8000/v1", api_key="ollive-demo", service="support-bot")
    with ollive.conversation("c-42", user_id="u-7"):
        with ollive.inference(provider="openai", model="gpt-4o-mini") as span:
            ...

In a notebook::

    con = ollive.connect()
    con.table("inference_logs").to_pandas()
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:  # pragma: no cover
    from ollive.store import Connection


def connect(url: str | None = None, **kwargs: Any) -> Connection:
    """Open the warehouse as an Ibis connection (see :func:`ollive.store.connect`).

    Resolution order: ``url``; ``OLLIVE_WAREHOUSE_URL``; the running platform's warehouse
    actor (``ollive up``); the embedded chDB directory under ``OLLIVE_HOME``.
    """
    from ollive.store import connect as _connect

    return _connect(url, **kwargs)


# --- SDK (ollive.sdk) -------------------------------------------------------------------
# (the SDK section: init, conversation, prompt, inference, tool, score, flush, shutdown, ...)
from ollive.sdk import (  # noqa: E402
    LoggingHandler,
    conversation,
    current_inference,
    flush,
    inference,
    init,
    prompt,
    score,
    shutdown,
    stats,
    tool,
)

_LAZY_SUBMODULES = frozenset(
    {
        "cache",
        "chat",
        "config",
        "datasets",
        "demo",
        "errors",
        "evaluate",
        "evaluators",
        "experiments",
        "events",
        "ids",
        "ingest",
        "insights",
        "integrations",
        "pricing",
        "redact",
        "store",
        "ui",
    }
)


def __getattr__(name: str) -> object:
    """``ollive.insights``, ``ollive.ui``, ``ollive.datasets`` ... are imported on first use,
    so that importing ``ollive`` in an application stays light (no Ray, chDB, Presidio, Ibis
    or Panel)."""
    if name in _LAZY_SUBMODULES:
        import importlib

        return importlib.import_module(f"ollive.{name}")
    raise AttributeError(f"module 'ollive' has no attribute {name!r}")


__all__ = ["__version__", "connect"]
__all__ += [
    "LoggingHandler",
    "conversation",
    "current_inference",
    "flush",
    "inference",
    "init",
    "prompt",
    "score",
    "shutdown",
    "stats",
    "tool",
]
