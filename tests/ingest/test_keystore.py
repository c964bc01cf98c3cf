"""Stored API keys on the session chDB warehouse: hashed, listed, revoked, cached by ingest."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from ollive.config import DEMO_API_KEY, DEMO_PROJECT
from ollive.errors import AuthError, ConfigError
from ollive.ingest import IngestPipeline
from ollive.ingest.keystore import StoredKeyRing, create_key, list_keys, revoke_key


def _bearer(key: str) -> str:
    return f"Bearer {key}"


def test_key_is_stored_hashed_and_resolves_to_its_project(warehouse: Any, project: str) -> None:
    record, key = create_key(warehouse, project, name="ci")
    assert key.startswith(f"olk_{record.key_id}_")
    secret = key.rsplit("_", 1)[1]
    stored = warehouse.query_arrow(
        f"SELECT * FROM api_keys WHERE key_id = '{record.key_id}'"
    ).to_pylist()
    assert stored and all(secret not in json.dumps(row, default=str) for row in stored)
    assert all(key not in json.dumps(row, default=str) for row in stored)
    [listed] = list_keys(warehouse, project)
    assert (listed.key_id, listed.project, listed.name, listed.revoked) == (
        record.key_id,
        project,
        "ci",
        False,
    )
    ring = StoredKeyRing(warehouse)
    ring.refresh()
    assert ring.project_for(_bearer(key)) == project
    assert ring.project_for(_bearer(DEMO_API_KEY)) == DEMO_PROJECT


def test_wrong_secret_unknown_and_malformed_keys_are_refused(warehouse: Any, project: str) -> None:
    record, key = create_key(warehouse, project)
    ring = StoredKeyRing(warehouse, static={})
    ring.refresh()
    forged = f"olk_{record.key_id}_{'A' * 43}"
    for header in (_bearer(forged), _bearer("olk_0000000000000000_" + "B" * 43), "Bearer", None,
                   f"Basic {key}", _bearer(DEMO_API_KEY), _bearer(key + "x' OR 1=1 --")):  # fmt: skip
        with pytest.raises(AuthError):
            ring.project_for(header)


def test_revocation_is_seen_by_the_refreshing_ring(warehouse: Any, project: str) -> None:
    record, key = create_key(warehouse, project)
    ring = StoredKeyRing(lambda: warehouse, refresh_s=0.2).start()
    try:
        assert ring.project_for(_bearer(key)) == project
        revoked = revoke_key(warehouse, record.key_id, project)
        assert revoked.revoked and revoked.revoked_at is not None
        deadline = time.monotonic() + 10  # the contract: effective within 10 s
        while True:
            try:
                ring.project_for(_bearer(key))
            except AuthError:
                break
            assert time.monotonic() < deadline, "revoked key still accepted after 10 s"
            time.sleep(0.1)
    finally:
        ring.stop()
    [listed] = list_keys(warehouse, project)
    assert listed.revoked


def test_revoking_an_unknown_key_or_bad_project_name_raises(warehouse: Any, project: str) -> None:
    with pytest.raises(ConfigError):
        revoke_key(warehouse, "0123456789abcdef", project)
    with pytest.raises(ConfigError):
        create_key(warehouse, "bad project'; DROP TABLE api_keys")


def test_event_lands_in_its_keys_project_whatever_the_body_says(
    warehouse: Any, project: str, make_inference: Callable[..., dict[str, Any]]
) -> None:
    _, key = create_key(warehouse, project)
    ring = StoredKeyRing(warehouse)
    ring.refresh()
    key_project = ring.project_for(_bearer(key))
    good = make_inference(service="svc-keys")
    claims_other = make_inference(service="svc-keys", project="someone-else")
    body = json.dumps({"events": [good, claims_other]}).encode()
    batch = IngestPipeline(None).prepare(body, key_project)
    assert not batch.rejected  # a body's "project" is ignored (dropped), never used
    for table, data in batch.to_arrow()[0].items():
        warehouse.insert_arrow(table, data)
    ids = ", ".join(f"'{e['request_id']}'" for e in (good, claims_other))
    projects = warehouse.scalar(
        f"SELECT groupArray(project) FROM inference_logs WHERE request_id IN ({ids})"
    )
    assert projects == [project, project]
    assert not warehouse.scalar("SELECT count() FROM inference_logs WHERE project = 'someone-else'")


def test_dashboard_asks_for_a_login_once_keys_exist(
    warehouse: Any, project: str, tmp_path: Any
) -> None:
    from ollive.ui.auth import dashboard_login

    assert dashboard_login(None, tmp_path, keys_configured=False) is None  # embedded default
    create_key(warehouse, project)
    keys_configured = any(not k.revoked for k in list_keys(warehouse))
    login = dashboard_login(None, tmp_path, keys_configured=keys_configured)
    assert login is not None and login.auth.startswith("admin:") and len(login.auth) > 20
    assert login.path == tmp_path / "dashboard.auth"
    assert (tmp_path / "dashboard.auth").read_text().strip() == login.auth
    assert (tmp_path / "dashboard.auth").stat().st_mode & 0o077 == 0
    chosen = dashboard_login("ops:chosen", tmp_path, keys_configured=True)
    assert chosen is not None and chosen.auth == "ops:chosen" and chosen.path is None
