"""One real ingest app for the conformance suite: Ray Serve, a real Valkey, the chDB
warehouse actor, real HTTP (as in ``tests/serve/test_ingest_app.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.serve._serve import Ingest, running_ingest

__all__ = ["APP", "KEY", "PROJECT", "Ingest"]

KEY = "test-conformance-key"
PROJECT = "conformance-test"
APP = "conformance-test"


@pytest.fixture(scope="package")
def ingest(ray_session: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ingest]:
    home = tmp_path_factory.mktemp("conformance-home")
    with running_ingest(
        ray_session, home, APP, replica_cpus=0.5, api_keys={KEY: PROJECT}
    ) as ingest:
        yield ingest
