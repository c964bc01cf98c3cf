"""The ingest app on real Ray Serve: HTTP contract, exact counts, failures that lose nothing.

One Serve app per module (1 replica, 2 writers, small flush age) over a real Valkey, the
chDB warehouse actor and real HTTP. Each test uses its own API key -> project and a unique
``service``, and counts its rows by service.
"""

from __future__ import annotations

import gzip
import json
import re
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from ollive.bench import count_service_rows, drive, make_batches, make_events
from tests._valkey import start_valkey
from tests.serve._serve import serve_base_url

pytestmark = pytest.mark.slow

KEY = "test-ingest-key"
PROJECT = "ingest-test"


@dataclass
class Ingest:
    url: str
    warehouse: Any
    warehouse_url: str
    valkey: Any
    writers: list[Any]


@pytest.fixture(scope="module")
def ingest(ray_session: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ingest]:
    from ray import serve

    from ollive.store.actor import ActorWarehouse
    from serve.app import IngestArgs, build_app
    from serve.warehouse import ensure_warehouse_actor
    from serve.writers import ensure_writers

    home = tmp_path_factory.mktemp("ingest-home")
    valkey = start_valkey()
    ensure_warehouse_actor(f"chdb://{home / 'warehouse'}")
    warehouse = ActorWarehouse()
    overrides = {
        "home": str(home),
        "writer_shards": 2,
        "writer_flush_age_s": 0.05,
        "dedupe_pending_ttl_s": 5,
        "max_body_bytes": 3_000_000,
        "health_report_s": 1.0,  # the pipeline_stats report, every second instead of minute
    }
    args = IngestArgs(
        app_name="ingest-test",
        redis_url=valkey.connection_url,
        replicas=1,
        replica_cpus=0.5,
        api_keys={KEY: PROJECT},
        settings=overrides,
    )
    base = serve_base_url()
    serve.run(build_app(args), name="ingest-test", route_prefix="/")
    settings = args.resolved_settings()
    writers = ensure_writers("ingest-test", 2, settings, "ray://warehouse", valkey.connection_url)
    yield Ingest(base, warehouse, warehouse.backing_url, valkey, writers)
    serve.delete("ingest-test")
    for writer in writers:
        ray_session.kill(writer, no_restart=True)
    if valkey.is_running():
        valkey.stop()


def _post(url: str, body: bytes, **headers: str) -> httpx.Response:
    base = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
    return httpx.post(url + "/v1/logs", content=body, headers={**base, **headers}, timeout=60)


def _service() -> str:
    return f"svc-{uuid.uuid4().hex[:10]}"


def _wait_counts(
    ingest: Ingest, service: str, expected: int, timeout_s: float = 60
) -> dict[str, int]:
    deadline = time.monotonic() + timeout_s
    while True:
        counts = count_service_rows(ingest.warehouse, service)
        raw = sum(
            counts[t] for t in ("inference_logs", "tool_executions", "application_logs", "scores")
        )
        if raw >= expected or time.monotonic() > deadline:
            return counts
        time.sleep(0.5)


def _expected(events: list[dict[str, Any]]) -> dict[str, int]:
    table = {
        "inference": "inference_logs",
        "tool_execution": "tool_executions",
        "application": "application_logs",
        "score": "scores",
    }
    out = dict.fromkeys(table.values(), 0)
    for e in events:
        out[table[e["log_type"]]] += 1
    return out


def _assert_exact(counts: dict[str, int], events: list[dict[str, Any]]) -> None:
    expected = _expected(events)
    for table, n in expected.items():
        assert counts[table] == n, (table, counts)
        assert counts[f"{table}_final"] == n, (table, counts)
    assert counts["inference_stats_5m"] == expected["inference_logs"]
    assert counts["tool_stats_5m"] == expected["tool_executions"]


def test_bad_input_is_answered_and_nothing_rejected_is_stored(ingest: Ingest) -> None:
    service = _service()
    good = make_events(3, service, seed=1)
    bad = dict(good[0], request_id="not-a-uuid")
    body = json.dumps(
        {"events": [good[0], bad, good[1], {"log_type": "inference"}, good[2]]}
    ).encode()
    answer = _post(ingest.url, gzip.compress(body), **{"Content-Encoding": "gzip"})
    assert answer.status_code == 202, answer.text
    data = answer.json()
    assert data["accepted"] == 3 and data["duplicates"] == 0
    assert [r["index"] for r in data["rejected"]] == [1, 3]
    assert data["rejected"][0]["errors"][0]["loc"] == "request_id"
    assert _post(ingest.url, b"{not json").status_code == 400
    assert _post(ingest.url, b"x" * 3_100_000).status_code == 413
    assert _post(ingest.url, body, **{"Content-Type": "text/plain"}).status_code == 415
    assert _post(ingest.url, body, Authorization="Bearer nope").status_code == 401
    assert (
        httpx.post(
            ingest.url + "/v1/logs", content=body, headers={"Content-Type": "application/json"}
        ).status_code
        == 401
    )
    counts = _wait_counts(ingest, service, 3)
    assert (
        sum(counts[t] for t in ("inference_logs", "tool_executions", "application_logs", "scores"))
        == 3
    )
    assert httpx.get(ingest.url + "/healthz").json() == {"status": "ok"}
    assert "/v1/logs" in httpx.get(ingest.url + "/openapi.json").json()["paths"]


def test_40k_events_with_5_percent_duplicates_are_counted_exactly(ingest: Ingest) -> None:
    # 40 bodies of 1,000, 4 at a time (it was 100k: the same paths at 40% of the suite's time)
    service = _service()
    events = make_events(40_000, service, seed=2)
    bodies = make_batches(events, 1000, duplicate_rate=0.05)
    result = drive(ingest.url, KEY, bodies, concurrency=4)
    assert result.failures == 0 and result.rejected == 0
    # every copy is answered once; a body refused with 429 after part of it was stored
    # answers that part as duplicates on its retry, so only the sum is fixed
    assert result.accepted + result.duplicates == len(events) + len(events) // 20
    assert result.accepted <= len(events)
    _assert_exact(_wait_counts(ingest, service, len(events)), events)
    metrics = httpx.get(ingest.url + "/metrics").text
    assert (
        "ollive_ingest_duplicates_total" in metrics
        and "ollive_writer_commit_seconds_bucket" in metrics
    )


def _stream(ingest: Ingest, events: list[dict[str, Any]], during: Any, concurrency: int = 2) -> Any:
    """Send ``events`` in bodies of 200 while ``during()`` runs in a thread after the first acks."""
    bodies = make_batches(events, 200)
    acked = threading.Event()
    thread = threading.Thread(target=lambda: (acked.wait(60), during()))
    thread.start()
    result = drive(ingest.url, KEY, bodies, concurrency=concurrency, on_ack=acked.set)
    thread.join()
    # the figures of the fault table in docs/hardening.md (shown with pytest -s)
    print(f"\n[fault] events={len(events)} accepted={result.accepted} duplicates={result.duplicates} "
          f"client_retries={result.retries} wall_s={result.wall_s:.1f} p99_ack_ms={result.quantile_ms(0.99)}")  # fmt: skip
    return result


def test_a_writer_killed_mid_stream_loses_no_acknowledged_event(
    ingest: Ingest, ray_session: Any
) -> None:
    service = _service()
    events = make_events(5_000, service, seed=3)

    def kill() -> None:
        time.sleep(0.3)
        ray_session.kill(ingest.writers[0], no_restart=False)

    result = _stream(ingest, events, kill)
    assert result.failures == 0 and result.accepted + result.duplicates == len(events)
    _assert_exact(_wait_counts(ingest, service, len(events)), events)


def test_warehouse_down_for_10s_spools_then_replays_exactly(
    ingest: Ingest, ray_session: Any
) -> None:
    from ollive.store.actor import NAMESPACE, WAREHOUSE_ACTOR
    from serve.warehouse import ensure_warehouse_actor

    service = _service()
    events = make_events(4_000, service, seed=4)
    states: dict[str, Any] = {}

    def outage() -> None:
        ray_session.kill(
            ray_session.get_actor(WAREHOUSE_ACTOR, namespace=NAMESPACE), no_restart=True
        )
        time.sleep(5)
        states["readyz"] = httpx.get(ingest.url + "/readyz", timeout=30).json()
        time.sleep(5)
        ensure_warehouse_actor(ingest.warehouse_url)

    result = _stream(ingest, events, outage, concurrency=2)
    assert result.failures == 0 and result.accepted + result.duplicates == len(events)
    assert "warehouse" in states["readyz"]["degraded"]
    from ollive.store.actor import ActorWarehouse

    ingest.warehouse = ActorWarehouse()
    _assert_exact(_wait_counts(ingest, service, len(events), timeout_s=90), events)
    spooled = sum(ray_session.get(w.stats.remote())["rows_spooled"] for w in ingest.writers)
    assert spooled > 0


def _replicas(ray_session: Any, app: str = "ingest-test") -> dict[str, Any]:
    """The live IngestAPI replica actors of ``app``, by actor name."""
    prefix = f"SERVE_REPLICA::{app}#IngestAPI#"
    return {
        a["name"]: ray_session.get_actor(a["name"], namespace=a["namespace"])
        for a in ray_session.util.list_named_actors(all_namespaces=True)
        if a["name"].startswith(prefix)
    }


def test_an_ingest_replica_killed_mid_stream_is_replaced_and_loses_nothing(
    ingest: Ingest, ray_session: Any
) -> None:
    service = _service()
    events = make_events(5_000, service, seed=6)
    before = _replicas(ray_session)
    assert before, "no IngestAPI replica found"

    def kill() -> None:
        time.sleep(0.3)
        for replica in before.values():  # the only replica: the harshest case
            ray_session.kill(replica, no_restart=True)

    result = _stream(ingest, events, kill)
    assert result.failures == 0 and result.accepted + result.duplicates == len(events)
    _assert_exact(_wait_counts(ingest, service, len(events), timeout_s=90), events)
    # Serve started a new replica by itself, and it answers
    after = _replicas(ray_session)
    assert after and not set(after) & set(before)
    assert httpx.get(ingest.url + "/healthz", timeout=30).json() == {"status": "ok"}


def _engine_pid(ingest: Ingest) -> int | None:
    """The pid of the process holding the module's chDB directory: the engine writes it into
    ``<dir>/status`` when it opens the directory (exact where a process-name search would
    also see the warehouse actors of platforms that other tests run at the same time)."""
    status = Path(ingest.warehouse_url.removeprefix("chdb://")) / "status"
    match = re.search(r"PID:\s*(\d+)", status.read_text(errors="replace"))
    return int(match[1]) if match else None


def test_the_warehouse_actor_killed_mid_stream_restarts_by_itself(
    ingest: Ingest, ray_session: Any
) -> None:
    from ollive.store.actor import NAMESPACE, WAREHOUSE_ACTOR

    service = _service()
    events = make_events(4_000, service, seed=7)
    handle = ray_session.get_actor(WAREHOUSE_ACTOR, namespace=NAMESPACE)
    before = _engine_pid(ingest)

    def kill() -> None:
        time.sleep(0.3)
        ray_session.kill(handle, no_restart=False)  # a crash: Ray restarts it, nobody else acts

    result = _stream(ingest, events, kill)
    assert result.failures == 0 and result.accepted + result.duplicates == len(events)
    _assert_exact(_wait_counts(ingest, service, len(events), timeout_s=120), events)
    assert ray_session.get(handle.ready.remote(), timeout=60) is True  # same handle, new process
    assert _engine_pid(ingest) not in (None, before), "the warehouse actor was not restarted"
    deadline = time.monotonic() + 60  # the spool replayed: ready again without a manual step
    while (ready := httpx.get(ingest.url + "/readyz", timeout=30).json())["status"] != "ready":
        assert time.monotonic() < deadline, ready
        time.sleep(1)


# Last: it leaves the module's Valkey stopped.
def test_valkey_stopped_mid_stream_keeps_accepting(ingest: Ingest) -> None:
    service = _service()
    events = make_events(3_000, service, seed=5)
    states: dict[str, Any] = {}

    def stop() -> None:
        ingest.valkey.stop()
        states["readyz"] = httpx.get(ingest.url + "/readyz", timeout=30).json()

    result = _stream(ingest, events, stop)
    assert result.failures == 0 and result.accepted + result.duplicates == len(events)
    assert "valkey" in states["readyz"]["degraded"]
    counts = _wait_counts(ingest, service, len(events))
    for table, n in _expected(events).items():
        assert counts[f"{table}_final"] == n


def _pipeline_totals(ingest: Ingest) -> dict[str, int]:
    row = ingest.warehouse.query_arrow(
        "SELECT sum(accepted) AS accepted, sum(rejected) AS rejected, "
        "sum(duplicates) AS duplicates, sum(rows_committed) AS committed, count() AS reports "
        "FROM pipeline_stats"
    ).to_pylist()[0]
    return {k: int(v or 0) for k, v in row.items()}


def test_the_pipeline_reports_its_own_counts_to_the_warehouse(ingest: Ingest) -> None:
    """Every replica's accepted/rejected/duplicate counts and every writer's committed rows
    reach pipeline_stats (what data_health shows), exactly."""
    import ollive.insights as oi
    from ollive.store._ibis import Connection

    service = _service()
    events = make_events(4, service, seed=7)
    # counts of the earlier tests' traffic may still be on their way (a report kept across
    # the warehouse outage, a replica's last hand-over): start from a settled total
    before, deadline, quiet = _pipeline_totals(ingest), time.monotonic() + 90, 0
    while quiet < 2 and time.monotonic() < deadline:  # unchanged over two 3-second looks
        time.sleep(3)  # three report intervals
        settled = _pipeline_totals(ingest)
        same = all(settled[k] == before[k] for k in ("accepted", "rejected", "duplicates"))
        quiet, before = (quiet + 1 if same else 0), settled
    body = json.dumps({"events": [*events, {"log_type": "inference"}]}).encode()
    answers = [
        _post(ingest.url, body).json(),
        _post(ingest.url, json.dumps({"events": events[:2]}).encode()).json(),
    ]
    assert answers[0]["accepted"] == 4 and len(answers[0]["rejected"]) == 1
    # what the API answered is what the report counts (the second answer is 2 duplicates,
    # or 2 accepted when an earlier test left Valkey stopped: dedupe degraded)
    expected = {
        "accepted": sum(a["accepted"] for a in answers),
        "rejected": sum(len(a["rejected"]) for a in answers),
        "duplicates": sum(a["duplicates"] for a in answers),
    }
    # the writers report on their own flush cadence (2 s under the write-ahead ack), so the
    # replicas' counts can land before the writer's committed rows: wait for both
    deadline = time.monotonic() + 60
    while True:
        now = _pipeline_totals(ingest)
        delta = {k: now[k] - before[k] for k in expected}
        committed = now["committed"] - before["committed"]
        if (delta == expected and committed >= 4) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert delta == expected
    assert committed >= 4 and now["reports"] > before["reports"]
    health = oi.data_health(Connection.from_warehouse(ingest.warehouse), window="1h")
    summary = dict(zip(health.summary.metric, health.summary.value, strict=True))
    assert summary["accepted"] >= 4 and summary["platform_reports"] > 0
    assert {"ingest", "writer"} <= set(health.pipeline.component)
