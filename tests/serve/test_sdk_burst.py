"""A burst from the SDK to the real ingest app: nothing lost, nothing stored twice.

200,000 inferences in a tight loop (a batch job, an offline evaluation) with the SDK's
default bounds: the in-memory queue fills, the rest goes to the disk buffer, and the
worker sends it all, in order, to ingest on Ray Serve; every event is stored exactly once
(raw rows without FINAL, and the 5-minute MV).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import ollive
from ollive.bench import count_service_rows
from tests.serve._serve import Ingest, running_ingest

pytestmark = pytest.mark.slow

KEY, PROJECT, APP = "test-burst-key", "burst-test", "burst-test"
EVENTS = 200_000


@pytest.fixture(scope="module")
def ingest(ray_session: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ingest]:
    home = tmp_path_factory.mktemp("burst-home")
    # redaction off: this test is about the SDK's delivery, not ingest's CPU
    with running_ingest(
        ray_session, home, APP, shards=2, replica_cpus=0.5, redaction=False,
        api_keys={KEY: PROJECT},
    ) as ingest:  # fmt: skip
        yield ingest


def test_a_200k_burst_is_stored_exactly_once(ingest: Ingest, tmp_path: Path) -> None:
    service = f"burst-{uuid.uuid4().hex[:8]}"
    ollive.init(endpoint=ingest.url + "/v1", api_key=KEY, service=service, spill_dir=str(tmp_path))
    try:
        for i in range(EVENTS):
            with ollive.inference("openai", "gpt-4o-mini", input=f"job item {i}") as span:
                span.set_usage(120, 30)
                span.set_output("done")
        during = ollive.stats()
        assert during["dropped"] == 0, during
        assert during["spilled"] > 0, "the burst never reached the disk buffer"
        assert ollive.flush(timeout_s=900), ollive.stats()
        after = ollive.stats()
    finally:
        ollive.shutdown(10)
    assert (after["sent"], after["failed"], after["dropped"]) == (EVENTS, 0, 0), after
    deadline = time.monotonic() + 120
    while (counts := count_service_rows(ingest.warehouse, service))[
        "inference_logs"
    ] < EVENTS and time.monotonic() < deadline:
        time.sleep(1)
    assert counts["inference_logs"] == EVENTS  # stored once, before any merge
    assert counts["inference_logs_final"] == EVENTS
    assert counts["inference_stats_5m"] == EVENTS  # the MV counts each once
    assert not any(tmp_path.rglob("*.jsonl")), "segments left behind"
