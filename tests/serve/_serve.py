"""Shared by the Serve tests: one Serve HTTP proxy per test session, on a free port."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ollive.bench import free_port  # re-exported for the tests that start a process on a port
from tests._valkey import start_valkey


def serve_base_url() -> str:
    """The base URL of the running Serve proxy, starting Serve on a free port if needed."""
    from ray import serve
    from ray.serve.context import _get_global_client

    try:
        client = _get_global_client()
    except Exception:
        client = None
    if client is None:
        serve.start(http_options={"host": "127.0.0.1", "port": free_port()})
        client = _get_global_client()
    return f"http://127.0.0.1:{client.http_config.port}"


@dataclass
class Ingest:
    """A running ingest app: its base URL and the warehouse (actor) it writes to."""

    url: str
    warehouse: Any


@contextmanager
def running_ingest(
    ray: Any,
    home: Path,
    app: str,
    *,
    shards: int = 1,
    route_prefix: str = "/",
    **ingest_args: Any,
) -> Iterator[Ingest]:
    """The real ingest app on Ray Serve (a real Valkey, the chDB warehouse actor under
    ``home``, ``shards`` writers) for the block; everything it started is stopped after.
    ``ingest_args`` go to :class:`serve.app.IngestArgs` (``settings`` adds to the home,
    the writer count and a short flush age)."""
    from ray import serve

    from ollive.store.actor import ActorWarehouse
    from serve.app import IngestArgs, build_app
    from serve.warehouse import ensure_warehouse_actor
    from serve.writers import ensure_writers

    valkey = start_valkey()
    ensure_warehouse_actor(f"chdb://{home / 'warehouse'}")
    settings = {"home": str(home), "writer_shards": shards, "writer_flush_age_s": 0.05}
    settings.update(ingest_args.pop("settings", {}))
    ingest_args.setdefault("replicas", 1)
    args = IngestArgs(
        app_name=app, redis_url=valkey.connection_url, settings=settings, **ingest_args
    )
    base = serve_base_url()
    serve.run(build_app(args), name=app, route_prefix=route_prefix)
    writers = ensure_writers(
        app, shards, args.resolved_settings(), "ray://warehouse", valkey.connection_url
    )
    try:
        yield Ingest(base + route_prefix.rstrip("/"), ActorWarehouse())
    finally:
        serve.delete(app)
        for writer in writers:
            ray.kill(writer, no_restart=True)
        valkey.stop()
