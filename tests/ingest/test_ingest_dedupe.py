"""Dedupe claims in a real Valkey: duplicates answered, failed attempts retried, degraded mode."""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import Iterator

import pytest
import redis.asyncio as aioredis

from ollive.ingest import Deduper


def _ids(n: int) -> list[str]:
    return [str(uuid.uuid4()) for _ in range(n)]


@pytest.fixture
def deduper(valkey_url: str) -> Iterator[Deduper]:
    yield Deduper(aioredis.Redis.from_url(valkey_url), window_s=60, pending_ttl_s=1, wait_s=0.2)


def test_committed_events_are_duplicates(deduper: Deduper, project: str) -> None:
    async def run() -> None:
        ids = _ids(4)
        first = await deduper.claim(project, ids + ids[:1], "a")
        assert first.keep == [True] * 4 + [False] and first.duplicates == 1
        assert await deduper.commit([(project, rid) for rid in ids])
        again = await deduper.claim(project, ids, "b")
        assert again.keep == [False] * 4 and again.duplicates == 4

    asyncio.run(run())


def test_a_failed_attempt_is_stored_when_retried(deduper: Deduper, project: str) -> None:
    async def run() -> None:
        ids = _ids(3)
        await deduper.claim(project, ids, "a")
        await deduper.release(project, ids, "a")  # the writer failed: claims dropped
        retry = await deduper.claim(project, ids, "b")
        assert retry.keep == [True] * 3 and retry.duplicates == 0

    asyncio.run(run())


def test_a_concurrent_claim_is_held_then_freed_by_expiry(deduper: Deduper, project: str) -> None:
    async def run() -> None:
        ids = _ids(2)
        await deduper.claim(project, ids, "dead-replica")  # never commits nor releases
        held = await deduper.claim(project, ids, "b")
        assert held.held == 2 and held.keep == [False, False]
        await asyncio.sleep(1.1)  # pending_ttl_s
        later = await deduper.claim(project, ids, "c")
        assert later.keep == [True, True] and later.duplicates == 0

    asyncio.run(run())


def test_release_only_drops_own_claims(deduper: Deduper, project: str) -> None:
    async def run() -> None:
        ids = _ids(2)
        await deduper.claim(project, ids, "a")
        await deduper.commit([(project, ids[0])])
        await deduper.release(project, ids, "a")
        again = await deduper.claim(project, ids, "b")
        assert again.keep == [False, True] and again.duplicates == 1

    asyncio.run(run())


def test_unreachable_valkey_keeps_everything_and_says_degraded(project: str) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = aioredis.Redis.from_url(f"redis://127.0.0.1:{port}", socket_connect_timeout=0.2)
    deduper = Deduper(client)

    async def run() -> None:
        ids = _ids(3)
        outcome = await deduper.claim(project, ids + ids[:1], "a")
        assert outcome.degraded and outcome.keep == [True, True, True, False]
        assert deduper.degraded and not await deduper.ping()

    asyncio.run(run())


def test_claims_held_past_the_ttl_stay_pending_until_marked(deduper: Deduper, project: str) -> None:
    # pending_ttl_s is 1 s: a body in flight for 2.5 s keeps its claims, and a duplicate
    # sent meanwhile is held, not claimed a second time; after the block they stay pending
    # until the writer's marks land, late as they may be
    async def run() -> None:
        ids = _ids(3)
        first = await deduper.claim(project, ids, "slow")
        assert first.keep == [True] * 3
        async with deduper.holding(project, ids, "slow"):
            await asyncio.sleep(2.5)
            copy = await deduper.claim(project, ids, "copy")
            assert copy.held == 3 and copy.keep == [False] * 3
        await asyncio.sleep(2.5)
        copy = await deduper.claim(project, ids, "copy")
        assert copy.held == 3
        await deduper.commit([(project, rid) for rid in ids])
        copy = await deduper.claim(project, ids, "copy")
        assert copy.duplicates == 3

    asyncio.run(run())


def test_claims_never_marked_expire_after_the_linger(valkey_url: str, project: str) -> None:
    # the writer died before its marks: the replica stops renewing after linger_s, and the
    # claims expire a TTL later, so the client's retry is stored
    client = aioredis.Redis.from_url(valkey_url)
    deduper = Deduper(client, window_s=60, pending_ttl_s=1, wait_s=0.1, linger_s=0.5)

    async def run() -> None:
        ids = _ids(2)
        await deduper.claim(project, ids, "a")
        async with deduper.holding(project, ids, "a"):
            pass
        await asyncio.sleep(0.6)
        assert (await deduper.claim(project, ids, "b")).held == 2
        await asyncio.sleep(2.0)  # renewed until ~1.2 s in, so free from ~1.7 s
        assert (await deduper.claim(project, ids, "b")).keep == [True, True]
        await client.aclose()

    asyncio.run(run())


def test_renewal_leaves_committed_and_foreign_claims_alone(valkey_url: str, project: str) -> None:
    deduper = Deduper(aioredis.Redis.from_url(valkey_url), window_s=60, pending_ttl_s=2, wait_s=0.1)

    async def run() -> None:
        ids = _ids(3)
        await deduper.claim(project, ids[:2], "a")
        await deduper.claim(project, ids[2:], "b")
        await deduper.commit([(project, ids[0])])
        await asyncio.sleep(1.2)
        assert await deduper.renew(project, ids, "a") == 1  # only ids[1] is a's and pending
        await asyncio.sleep(1.2)  # b's claim was not renewed: it expired; a's holds
        again = await deduper.claim(project, ids, "c")
        assert again.keep == [False, False, True] and again.duplicates == 1 and again.held == 1

    asyncio.run(run())
