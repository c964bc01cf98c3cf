"""Dedupe in Valkey/Redis: a duplicate of a committed event is answered, not stored again.

Per event, one key ``ollive:dd:{project}:{request_id}`` moves through three states:

``(absent)`` ──claim──▶ ``p:<owner>`` (pending, TTL ``pending_ttl_s``) ──commit──▶ ``c`` (TTL ``window_s``)
                              │ release (the attempt failed, compare-and-delete) ▼ (absent)

* **claim** (one round trip per body: one ``EVALSHA`` of a Lua script over every key, so the
  client packs one command, not one per event): ``SET key p:<owner> NX PX ttl GET`` for
  every event. Absent -> claimed by this request (store it); ``c`` -> duplicate (answer, do
  not store); ``p:<other>`` -> another request holds it right now.
* A held event is re-checked for up to ``wait_s`` (the other request usually commits within
  a flush). If it is still held, the caller releases its own claims and answers 429: the
  client retries, and then the event is either a duplicate (the other commit won) or claimed
  (the other attempt failed and released it, or its replica died and the claim expired).
  No event is lost and none is reported as a phantom duplicate.
* **commit** (one ``EVALSHA`` per flush): the writers mark events ``c`` once they are
  durable (inserted or spooled), so a replica that dies after the commit still leaves the
  right answer for the retry.
* **release**: on failure the claim is deleted only if it is still ours (a Lua script).
* **hold**: from its claim on, a request renews its own claims every third of
  ``pending_ttl_s`` (:meth:`Deduper.holding`), so a body that waits longer than the TTL
  (the dedupe wait, a busy replica, a saturated writer) keeps its events. After the writes
  it goes on renewing those still pending until the writers' marks land (the marks come
  one flush after the answer) or ``linger_s`` passes; only a replica that died lets its
  claims expire early. Without the renewal, a slow first copy and a later duplicate were both
  stored and both acknowledged, and a copy resent before late marks was stored again.

When Valkey is unreachable, :meth:`Deduper.claim` keeps every event (duplicates inside one
body are still dropped), reports ``degraded`` and retries the server after
``retry_after_s``; the ReplacingMergeTree raw tables collapse any duplicate that slips
through (``FINAL``), and ``ollive.store.maintenance.rebuild_aggregates`` repairs the 5-minute aggregates.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["DedupeOutcome", "Deduper", "dedupe_key"]

log = logging.getLogger(__name__)

COMMITTED = b"c"
# one reply per key: 0 claimed (absent, or already ours), 1 committed (a duplicate), 2 held
_CLAIM = """
local out = {}
for i, key in ipairs(KEYS) do
  local before = redis.call('SET', key, ARGV[1], 'NX', 'PX', ARGV[2], 'GET')
  if not before or before == ARGV[1] then out[i] = 0
  elseif before == 'c' then out[i] = 1
  else out[i] = 2 end
end
return out
"""
_COMMIT = """
for i, key in ipairs(KEYS) do redis.call('SET', key, 'c', 'PX', ARGV[1]) end
return #KEYS
"""
_CLAIMED, _DUPLICATE = 0, 1
_RENEW = """
local n = 0
for i, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then n = n + redis.call('PEXPIRE', key, ARGV[2]) end
end
return n
"""
_RELEASE = """
local n = 0
for i, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then n = n + redis.call('DEL', key) end
end
return n
"""


def dedupe_key(project: str, request_id: str) -> str:
    """The Valkey key of one event."""
    return f"ollive:dd:{project}:{request_id}"


@dataclass(slots=True)
class DedupeOutcome:
    """What a claim decided, position by position."""

    keep: list[bool] = field(default_factory=list)  # claimed: store it
    duplicates: int = 0  # committed before, or repeated inside the body
    held: int = 0  # still claimed by another request after the wait (answer 429)
    degraded: bool = False  # Valkey unreachable: kept without checking

    @property
    def claimed(self) -> int:
        return sum(self.keep)


class Deduper:
    """Claims, commits and releases events in Valkey/Redis (``redis.asyncio`` client)."""

    def __init__(
        self,
        client: Any,
        window_s: int = 600,
        pending_ttl_s: int = 30,
        wait_s: float = 1.0,
        retry_after_s: float = 2.0,
        linger_s: float = 30.0,
    ) -> None:
        self._client = client
        self.window_s = window_s
        self.pending_ttl_s = pending_ttl_s
        self.wait_s = wait_s
        self.retry_after_s = retry_after_s
        self.linger_s = linger_s
        self._holders: set[asyncio.Task[None]] = set()
        self._down_until = 0.0
        self._release = client.register_script(_RELEASE) if client is not None else None
        self._claim = client.register_script(_CLAIM) if client is not None else None
        self._commit = client.register_script(_COMMIT) if client is not None else None
        self._renew = client.register_script(_RENEW) if client is not None else None

    @property
    def degraded(self) -> bool:
        """True while Valkey is considered unreachable."""
        return self._client is None or time.monotonic() < self._down_until

    def _mark_down(self, exc: BaseException) -> None:
        if not self.degraded:
            log.warning("dedupe degraded: Valkey unreachable (%s); accepting without dedupe", exc)
        self._down_until = time.monotonic() + self.retry_after_s

    async def ping(self) -> bool:
        """True when Valkey answers (also clears the degraded state)."""
        if self._client is None:
            return False
        try:
            await self._client.ping()
        except Exception as exc:
            self._mark_down(exc)
            return False
        if self._down_until:
            log.warning("dedupe recovered: Valkey answers again")
        self._down_until = 0.0
        return True

    async def claim(self, project: str, request_ids: Sequence[str], owner: str) -> DedupeOutcome:
        """Claim every event for ``owner`` (see the module docstring)."""
        outcome = DedupeOutcome(keep=[False] * len(request_ids))
        first: dict[str, int] = {}
        for pos, rid in enumerate(request_ids):
            if rid in first:
                outcome.duplicates += 1
            else:
                first[rid] = pos
        if self.degraded:
            return self._keep_all(outcome, first)
        pending = dict(first)
        deadline = time.monotonic() + self.wait_s
        try:
            while pending:
                held = await self._try_claim(project, pending, owner, outcome)
                if not held or time.monotonic() >= deadline:
                    outcome.held = len(held)
                    break
                pending = held
                await asyncio.sleep(0.05)
        except Exception as exc:  # ConnectionError, TimeoutError, BusyLoadingError ...
            self._mark_down(exc)
            return self._keep_all(
                DedupeOutcome(keep=[False] * len(request_ids), duplicates=outcome.duplicates), first
            )
        return outcome

    def _keep_all(self, outcome: DedupeOutcome, first: dict[str, int]) -> DedupeOutcome:
        for pos in first.values():
            outcome.keep[pos] = True
        outcome.degraded = True
        return outcome

    async def _try_claim(
        self, project: str, pending: dict[str, int], owner: str, outcome: DedupeOutcome
    ) -> dict[str, int]:
        """One round trip; returns the events another request still holds."""
        assert self._claim is not None
        prefix = dedupe_key(project, "")
        codes = await self._claim(
            keys=[prefix + rid for rid in pending],
            args=[f"p:{owner}", int(self.pending_ttl_s * 1000)],
        )
        held: dict[str, int] = {}
        for (rid, pos), code in zip(pending.items(), codes, strict=True):
            if code == _CLAIMED:
                outcome.keep[pos] = True
            elif code == _DUPLICATE:
                outcome.duplicates += 1
            else:
                held[rid] = pos
        return held

    async def release(self, project: str, request_ids: Sequence[str], owner: str) -> None:
        """Delete this owner's claims (after a failed attempt); never raises."""
        if self._release is None or not request_ids or self.degraded:
            return
        try:
            keys = [dedupe_key(project, rid) for rid in request_ids]
            await self._release(keys=keys, args=[f"p:{owner}"])
        except Exception as exc:
            self._mark_down(exc)

    async def renew(self, project: str, request_ids: Sequence[str], owner: str) -> int:
        """Reset the TTL of this owner's pending claims; returns how many it still holds
        (committed or released events are left alone). Never raises."""
        if self._renew is None or not request_ids or self.degraded:
            return 0
        try:
            keys = [dedupe_key(project, rid) for rid in request_ids]
            return int(
                await self._renew(keys=keys, args=[f"p:{owner}", int(self.pending_ttl_s * 1000)])
            )
        except Exception as exc:
            self._mark_down(exc)
            return 0

    @contextlib.asynccontextmanager
    async def holding(
        self, project: str, request_ids: Sequence[str], owner: str
    ) -> AsyncIterator[None]:
        """Keep this owner's claims pending while the block runs, and afterwards until each
        is committed (the writers' marks) or released, for at most ``linger_s``: renewed
        every third of ``pending_ttl_s`` by a task of its own. A process that dies stops
        renewing, and its claims expire.

        The task is never cancelled: it sees the block's end at its next renewal and stops
        by itself. A command cancelled half-way could leave its reply on the connection."""
        if self._renew is None or not request_ids:
            yield
            return
        ended: list[float] = []  # when the block ended

        async def keep_pending() -> None:
            while True:
                await asyncio.sleep(self.pending_ttl_s / 3)
                held = await self.renew(project, request_ids, owner)
                if ended and (not held or time.monotonic() > ended[0] + self.linger_s):
                    return

        task = asyncio.create_task(keep_pending())
        self._holders.add(task)  # held here: the event loop keeps only weak references
        task.add_done_callback(self._holders.discard)
        try:
            yield
        finally:
            ended.append(time.monotonic())

    async def commit(self, pairs: Sequence[tuple[str, str]]) -> bool:
        """Mark ``(project, request_id)`` pairs committed for ``window_s``; False if Valkey is down."""
        if self._commit is None or not pairs or self.degraded:
            return False
        try:
            await self._commit(
                keys=[dedupe_key(project, rid) for project, rid in pairs],
                args=[int(self.window_s * 1000)],
            )
        except Exception as exc:
            self._mark_down(exc)
            return False
        return True
