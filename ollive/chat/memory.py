"""Conversation memory: the history of each conversation and its running turn.

:class:`RedisMemory` keeps it in Valkey/Redis, so every chatbot replica sees the same
conversations; keys expire ``ttl_s`` after the last write. :class:`LocalMemory` keeps it in
the process (one replica, tests, scripts). Both satisfy :class:`Memory`.

Keys (prefix ``ollive:chat:<conversation_id>``): ``:messages`` a list of JSON messages
(LangChain's ``message_to_dict`` form), ``:meta`` a hash (user_id, created_at), ``:turn``
the running turn's id, ``:cancel`` the id of a turn asked to stop (short-lived).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Sequence
from typing import Any, Protocol

from langchain_core.messages import BaseMessage, message_to_dict, messages_from_dict

__all__ = ["LocalMemory", "Memory", "RedisMemory", "message_view"]

_PREFIX = "ollive:chat:"
_CANCEL_TTL_S = 120
_TURN_TTL_S = 900


class Memory(Protocol):
    """Where conversations live. Every method is a coroutine."""

    async def create(self, user_id: str | None = None, conversation_id: str | None = None) -> str:
        """A new, empty conversation (``conversation_id`` or a fresh id); returns its id."""
        ...

    async def exists(self, conversation_id: str) -> bool:
        """True when the conversation is known (and not expired)."""
        ...

    async def load(self, conversation_id: str, limit: int | None = None) -> list[BaseMessage]:
        """The last ``limit`` messages (all when None), oldest first."""
        ...

    async def append(self, conversation_id: str, messages: Sequence[BaseMessage]) -> None:
        """Add messages at the end and refresh the TTL."""
        ...

    async def meta(self, conversation_id: str) -> dict[str, str]:
        """user_id and created_at of a conversation (empty when unknown)."""
        ...

    async def start_turn(self, conversation_id: str) -> str:
        """Mark a turn as running; returns its id (a stale cancel request is dropped)."""
        ...

    async def finish_turn(self, conversation_id: str, turn_id: str) -> None:
        """Mark the turn as done (no-op when another turn took over)."""
        ...

    async def request_cancel(self, conversation_id: str) -> str | None:
        """Ask the running turn to stop; returns its id, or None when none is running."""
        ...

    async def cancel_requested(self, conversation_id: str, turn_id: str) -> bool:
        """True once :meth:`request_cancel` targeted this turn (polled by the stream)."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...


def message_view(message: BaseMessage) -> dict[str, Any]:
    """A message as the chat API shows it: role, content, and tool details when present."""
    role = {"human": "user", "ai": "assistant", "tool": "tool", "system": "system"}.get(
        message.type, message.type
    )
    view: dict[str, Any] = {"role": role, "content": message.text}
    calls = getattr(message, "tool_calls", None)
    if calls:
        view["tool_calls"] = [{"id": c["id"], "name": c["name"], "args": c["args"]} for c in calls]
    if message.type == "tool":
        view["name"] = getattr(message, "name", None)
        view["tool_call_id"] = getattr(message, "tool_call_id", None)
        view["status"] = getattr(message, "status", "success")
    if message.response_metadata.get("cancelled"):
        view["cancelled"] = True
    return view


def _new_id() -> str:
    return f"conv-{uuid.uuid4().hex[:20]}"


class RedisMemory:
    """Conversation memory in Valkey/Redis (``redis.asyncio``), shared by all replicas.

    The client is made on first use, in the running event loop.
    """

    def __init__(self, url: str, *, ttl_s: int = 86_400, max_messages: int = 200) -> None:
        self.url = url
        self.ttl_s = ttl_s
        self.max_messages = max_messages
        self._client: Any = None

    @property
    def _redis(self) -> Any:
        if self._client is None:
            from ollive.cache.client import async_redis

            self._client = async_redis(self.url, decode_responses=True)
        return self._client

    async def create(self, user_id: str | None = None, conversation_id: str | None = None) -> str:
        cid = conversation_id or _new_id()
        key = _PREFIX + cid + ":meta"
        meta = {"created_at": f"{time.time():.3f}", "user_id": user_id or ""}
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping=meta)
            pipe.expire(key, self.ttl_s)
            await pipe.execute()
        return cid

    async def exists(self, conversation_id: str) -> bool:
        base = _PREFIX + conversation_id
        return bool(await self._redis.exists(base + ":meta", base + ":messages"))

    async def load(self, conversation_id: str, limit: int | None = None) -> list[BaseMessage]:
        start = 0 if not limit else -limit
        raw = await self._redis.lrange(_PREFIX + conversation_id + ":messages", start, -1)
        return messages_from_dict([json.loads(item) for item in raw])

    async def append(self, conversation_id: str, messages: Sequence[BaseMessage]) -> None:
        if not messages:
            return
        base = _PREFIX + conversation_id
        items = [json.dumps(message_to_dict(m)) for m in messages]
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.rpush(base + ":messages", *items)
            pipe.ltrim(base + ":messages", -self.max_messages, -1)
            pipe.hsetnx(base + ":meta", "created_at", f"{time.time():.3f}")
            pipe.expire(base + ":messages", self.ttl_s)
            pipe.expire(base + ":meta", self.ttl_s)
            await pipe.execute()

    async def meta(self, conversation_id: str) -> dict[str, str]:
        return dict(await self._redis.hgetall(_PREFIX + conversation_id + ":meta"))

    async def start_turn(self, conversation_id: str) -> str:
        turn_id = uuid.uuid4().hex
        base = _PREFIX + conversation_id
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(base + ":turn", turn_id, ex=_TURN_TTL_S)
            pipe.delete(base + ":cancel")
            await pipe.execute()
        return turn_id

    async def finish_turn(self, conversation_id: str, turn_id: str) -> None:
        base = _PREFIX + conversation_id
        if await self._redis.get(base + ":turn") == turn_id:
            await self._redis.delete(base + ":turn")

    async def request_cancel(self, conversation_id: str) -> str | None:
        base = _PREFIX + conversation_id
        turn_id = await self._redis.get(base + ":turn")
        if turn_id:
            await self._redis.set(base + ":cancel", turn_id, ex=_CANCEL_TTL_S)
        return turn_id or None

    async def cancel_requested(self, conversation_id: str, turn_id: str) -> bool:
        return bool(await self._redis.get(_PREFIX + conversation_id + ":cancel") == turn_id)

    async def close(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await client.aclose()


class LocalMemory:
    """Conversation memory in this process (no TTL): one replica, tests, scripts."""

    def __init__(self) -> None:
        self._messages: dict[str, list[BaseMessage]] = {}
        self._meta: dict[str, dict[str, str]] = {}
        self._turns: dict[str, str] = {}
        self._cancels: dict[str, str] = {}

    async def create(self, user_id: str | None = None, conversation_id: str | None = None) -> str:
        cid = conversation_id or _new_id()
        self._meta[cid] = {"created_at": f"{time.time():.3f}", "user_id": user_id or ""}
        return cid

    async def exists(self, conversation_id: str) -> bool:
        return conversation_id in self._meta or conversation_id in self._messages

    async def load(self, conversation_id: str, limit: int | None = None) -> list[BaseMessage]:
        items = self._messages.get(conversation_id, [])
        return list(items[-limit:] if limit else items)

    async def append(self, conversation_id: str, messages: Sequence[BaseMessage]) -> None:
        self._meta.setdefault(conversation_id, {"created_at": f"{time.time():.3f}", "user_id": ""})
        self._messages.setdefault(conversation_id, []).extend(messages)

    async def meta(self, conversation_id: str) -> dict[str, str]:
        return dict(self._meta.get(conversation_id, {}))

    async def start_turn(self, conversation_id: str) -> str:
        turn_id = uuid.uuid4().hex
        self._turns[conversation_id] = turn_id
        self._cancels.pop(conversation_id, None)
        return turn_id

    async def finish_turn(self, conversation_id: str, turn_id: str) -> None:
        if self._turns.get(conversation_id) == turn_id:
            del self._turns[conversation_id]

    async def request_cancel(self, conversation_id: str) -> str | None:
        turn_id = self._turns.get(conversation_id)
        if turn_id:
            self._cancels[conversation_id] = turn_id
        return turn_id

    async def cancel_requested(self, conversation_id: str, turn_id: str) -> bool:
        return self._cancels.get(conversation_id) == turn_id

    async def close(self) -> None:
        return None
