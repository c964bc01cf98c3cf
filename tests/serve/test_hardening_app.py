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
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings

from tests.serve._serve import Ingest, running_ingest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def app(ray_session: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ingest]:
    home = tmp_path_factory.mktemp("hardening-home")
    overrides = {"key_refresh_s": 1.0, "max_body_bytes": 1_000_000, "max_events_per_batch": 100}
    with running_ingest(
        ray_session, home, "hardening-test", shards=2, route_prefix="/hardening",
        replica_cpus=0.25, redaction=False, settings=overrides,
    ) as app:  # fmt: skip
        yield app


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


def test_stored_key_project_and_revocation_within_10s(app: Ingest) -> None:
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


def test_schemathesis_no_5xx_and_4xx_say_why(app: Ingest) -> None:
    import schemathesis

    from serve.ingest import api

    schema = schemathesis.openapi.from_dict(api.openapi())
    for path in ("/v1/logs", "/v1/traces"):
        _fuzz(app.url, schema[path]["POST"], logs=path == "/v1/logs")
