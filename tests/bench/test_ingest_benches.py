"""``ollive bench ingest --rate`` and ``ollive bench otlp``, run as a user measures a running
ingest: each command in a subprocess with ``--url``, against the real ingest app on the test
session's Ray; the subprocess counts the run's rows through that cluster's warehouse actor
(it joins with ``OLLIVE_RAY_ADDRESS``, as a notebook does).

Why ``--url`` rather than each command's own embedded platform: that start (a whole local
Ray, ~60 s a run on 2 cores) is already covered end to end by the soak and ``ollive ingest``
tests; here the subject is the pacing, the latencies and the exporter.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from tests.serve._serve import Ingest, running_ingest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def ingest(ray_session: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ingest]:
    home = tmp_path_factory.mktemp("bench-home")
    with running_ingest(ray_session, home, "bench-url", shards=2) as ingest:
        yield ingest


def _bench(ingest: Ingest, *args: str) -> dict[str, Any]:
    import ray

    env = {k: v for k, v in os.environ.items() if not k.startswith(("OLLIVE_", "RAY_ADDRESS"))}
    env["OLLIVE_RAY_ADDRESS"] = ray.get_runtime_context().gcs_address
    env["OLLIVE_WAREHOUSE_URL"] = "ray://warehouse"
    out = subprocess.run(
        [sys.executable, "-m", "ollive.cli", "bench", *args, "--url", ingest.url],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    figures: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return figures


def test_a_paced_ingest_run_reports_rates_latencies_and_exact_counts(ingest: Ingest) -> None:
    figures = _bench(ingest, "ingest", "--events", "3000", "--rate", "1000", "--concurrency", "2")
    assert figures["bench"] == "ingest"
    assert figures["events"] == figures["acknowledged"] == figures["stored"] == 3000
    assert figures["ack_events_per_s"] > 0 and figures["end_to_end_events_per_s"] > 0
    assert figures["rate_target"] == 1000
    # 3 bodies of 1000 due 1 s apart: the client keeps the pace unless it falls far behind
    assert 0 < figures["rate_achieved"] <= 1100
    for key in ("ack_ms", "ack_ms_from_send"):
        p50, p95, p99 = (figures[key][p] for p in ("p50", "p95", "p99"))
        assert 0 < p50 <= p95 <= p99
    # measured from the scheduled time, a body waits at least as long as from its send
    assert figures["ack_ms"]["p99"] >= figures["ack_ms_from_send"]["p99"]


def test_an_otel_app_delivers_every_span_it_sends(ingest: Ingest) -> None:
    figures = _bench(ingest, "otlp", "--spans", "2000")
    assert figures["bench"] == "otlp"
    # 2000 spans fit the processor's default queue (2048): none is dropped
    assert figures["spans"] == figures["sent"] == figures["stored"] == 2000
    assert figures["stored_equals_sent"] is True
    assert figures["dropped"] == 0 and figures["export_failures"] == 0
    assert figures["export_batches"] >= 2000 // 512
    assert figures["app_spans_per_s"] > 0 and figures["delivered_spans_per_s"] > 0
    assert figures["exporter"]["max_export_batch_size"] == 512
    assert figures["exporter"]["schedule_delay_ms"] == 5000
