"""The write-ahead log's disk fills up under the real ingest app: ingest answers 503 with
``Retry-After`` and says why, nothing acknowledged is lost, nothing refused is stored, and
ingest takes events again by itself once there is space (no restart).

The writers' spool directory is a real 1 MiB filesystem (a tmpfs mounted over it; root
only, skipped elsewhere); the done files it keeps for the recovery window fill it.
"""

from __future__ import annotations

import gzip
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ollive.bench import count_service_rows, make_events
from tests._tmpfs import resize, small_filesystem
from tests.serve._serve import Ingest, running_ingest

pytestmark = pytest.mark.slow

KEY, PROJECT, APP = "test-disk-key", "disk-test", "disk-test"


@pytest.fixture(scope="module")
def disk(
    ray_session: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Ingest, Path]]:
    home = tmp_path_factory.mktemp("disk-home")
    with small_filesystem(home / "spool", "1m") as spool, running_ingest(
        ray_session, home, APP, replica_cpus=0.5, redaction=False, api_keys={KEY: PROJECT},
    ) as ingest:  # fmt: skip
        yield ingest, spool


def _post(ingest: Ingest, events: list[dict[str, Any]]) -> httpx.Response:
    return httpx.post(
        ingest.url + "/v1/logs",
        content=gzip.compress(json.dumps({"events": events}).encode()),
        headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json",
                 "Content-Encoding": "gzip"},
        timeout=60,
    )  # fmt: skip


def test_a_full_write_ahead_log_answers_503_and_recovers(disk: tuple[Ingest, Path]) -> None:
    ingest, spool = disk
    service = f"disk-{uuid.uuid4().hex[:8]}"
    events = make_events(20_000, service, seed=5)
    bodies = [events[i : i + 200] for i in range(0, len(events), 200)]
    acked = 0
    refused: httpx.Response | None = None
    sent = 0
    for body in bodies:
        answer = _post(ingest, body)
        sent += 1
        if answer.status_code == 503:
            refused = answer
            break
        assert answer.status_code == 202, answer.text
        assert answer.json()["rejected"] == [], answer.text
        acked += answer.json()["accepted"] + answer.json()["duplicates"]
    assert refused is not None, "the 1 MiB spool never filled up"
    assert refused.headers["Retry-After"] == "10"
    assert "write-ahead log full" in refused.json()["detail"], refused.text
    assert "no space left" in refused.json()["detail"]
    print(f"\n[fault] disk full: acked_before={acked} refused_body={sent}")

    # space returns: the same body goes through, then the rest. A writer flushes each table
    # on its own, so part of the refused body may have been stored (and marked) before the
    # disk filled: its resend answers those events as duplicates, stored once.
    resize(spool, "64m")
    for body in bodies[sent - 1 :]:
        answer = _post(ingest, body)
        assert answer.status_code == 202, answer.text
        assert answer.json()["rejected"] == [], answer.text
        acked += answer.json()["accepted"] + answer.json()["duplicates"]
    assert acked == len(events)

    # a 202 means the events are on the write-ahead log; the inserts follow within a flush,
    # so wait until the counts stop changing (raw and FINAL, which are counted one by one)
    tables = ("inference_logs", "tool_executions", "application_logs", "scores")
    deadline = time.monotonic() + 60
    previous: dict[str, int] = {}
    while (counts := count_service_rows(ingest.warehouse, service)) != previous or sum(
        counts[f"{t}_final"] for t in tables
    ) < len(events):
        assert time.monotonic() < deadline, counts
        previous = counts
        time.sleep(0.5)
    stored = sum(counts[f"{t}_final"] for t in tables)
    raw = sum(counts[t] for t in tables)
    assert stored == raw == len(events), counts  # acknowledged == stored, nothing twice
