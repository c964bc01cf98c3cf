"""Bring up ingest on the embedded default: local Ray, embedded Valkey, the chDB warehouse actor.

Shared by ``ollive ingest``, ``ollive bench ingest`` and the Serve tests::

    running = start_local_ingest(settings, port=8000)
    print(running.url)          # http://127.0.0.1:8000
    running.stop()
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from typing import Any

import ray
from ray import serve

from ollive.cache import EmbeddedValkey, start_embedded_valkey
from ollive.config import Settings
from ollive.config.runfile import ray_auth_record, remove_run_file, write_run_file
from ollive.store.actor import NAMESPACE

__all__ = [
    "HostedWarehouse",
    "LocalIngest",
    "host_warehouse",
    "init_ray",
    "run_record",
    "start_local_ingest",
]

log = logging.getLogger(__name__)


@dataclass
class LocalIngest:
    """A running ingest app; :meth:`stop` removes what :func:`start_local_ingest` started."""

    url: str
    redis_url: str | None
    app_name: str
    writers: list[Any]
    valkey: EmbeddedValkey | None = None
    started_ray: bool = False
    warehouse_url: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def urls(self) -> dict[str, str]:
        """The URLs it serves, by name (as the run file and ``ollive status`` list them)."""
        return {
            "ingest": f"{self.url}/v1/logs",
            "api_docs": f"{self.url}/docs",
            "metrics": f"{self.url}/metrics",
        }

    def stop(self, shutdown_ray: bool | None = None) -> None:
        """Stop taking requests (in-flight ones finish), flush the writers, then end them (or
        Serve and Ray if this started them)."""
        try:
            serve.delete(self.app_name)  # graceful: replicas answer what they hold first
        except Exception as exc:  # already gone
            log.debug("serve.delete: %s", exc)
        for writer in self.writers:
            try:
                ray.get(writer.drain.remote(), timeout=30)
            except Exception as exc:
                log.debug("writer drain: %s", exc)
        if shutdown_ray if shutdown_ray is not None else self.started_ray:
            serve.shutdown()
            ray.shutdown()
        else:
            for writer in self.writers:
                ray.kill(writer, no_restart=True)
        if self.valkey is not None:
            self.valkey.stop()


#: The embedded Ray runs without its dashboard, yet its GCS keeps the events of the last
#: 100,000 tasks for it by default (~1-3 KiB each): a steady ingest load grows the GCS by
#: ~2 MiB a minute until that bound. A smaller bound keeps the embedded GCS small; an
#: explicit ``RAY_task_events_max_num_task_in_gcs`` in the environment wins.
_LOCAL_RAY_ENV = {"RAY_task_events_max_num_task_in_gcs": "10000"}


def init_ray(address: str | None, num_cpus: int | None, attempts: int = 4) -> None:
    """``ray.init`` (a new local cluster unless ``address``), retried: on a loaded machine
    the raylet can miss Ray's fixed 30 s wait for its agents, and a fresh attempt succeeds."""
    if ray.is_initialized():
        return
    if not address:
        for name, value in _LOCAL_RAY_ENV.items():
            os.environ.setdefault(name, value)
    for attempt in range(1, attempts + 1):
        try:
            ray.init(
                address=address or "local",  # never attach to a stray `ray start` cluster
                num_cpus=None if address else num_cpus,
                namespace=NAMESPACE,
                include_dashboard=False,
                log_to_driver=False,
                configure_logging=False,
            )
            return
        except Exception as exc:
            ray.shutdown()
            if attempt == attempts or address:
                raise RuntimeError(
                    f"Ray did not start ({exc}); is the machine overloaded?"
                ) from exc
            log.warning("Ray did not start (attempt %d of %d): %s", attempt, attempts, exc)
            time.sleep(3)


def start_local_ingest(
    settings: Settings,
    port: int | None = None,
    app_name: str = "ingest",
    redis_url: str | None = None,
    num_cpus: int | None = None,
    replicas: int | None = None,
    redaction: bool = True,
) -> LocalIngest:
    """Start (or join) local Ray, Valkey, the warehouse actor and the ingest app; wait until ready."""
    from serve.app import IngestArgs, build_app
    from serve.args import WarehouseArgs
    from serve.warehouse import ensure_warehouse_actor

    started_ray = False
    if not ray.is_initialized():
        init_ray(settings.ray_address, num_cpus)
        started_ray = True
    valkey = None
    redis_url = redis_url or settings.redis_url
    if not redis_url:
        valkey = start_embedded_valkey(settings.home)
        valkey.watch()  # killed or crashed: back on the same port with its data
        redis_url = valkey.url
    warehouse_url = settings.warehouse_url or f"chdb://{settings.data_dir}"
    if warehouse_url.startswith("chdb"):
        ensure_warehouse_actor(warehouse_url, WarehouseArgs.from_settings(settings, warehouse_url))
        warehouse_url = "ray://warehouse"
    port = port or settings.ingest_port
    serve.start(http_options={"host": settings.ingest_host, "port": port})
    args = IngestArgs(
        app_name=app_name,
        redis_url=redis_url,
        warehouse_url=warehouse_url,
        replicas=replicas,
        redaction=redaction,
        settings=settings.model_dump(mode="json"),
    )
    serve.run(build_app(args), name=app_name, route_prefix="/", blocking=False)
    from serve.writers import ensure_writers

    writers = ensure_writers(app_name, settings.writer_shards, settings, warehouse_url, redis_url)
    ray.get([w.ready.remote() for w in writers], timeout=120)
    return LocalIngest(
        f"http://{settings.ingest_host}:{port}",
        redis_url,
        app_name,
        writers,
        valkey,
        started_ray,
        warehouse_url=warehouse_url,
    )


def serve_forever(settings: Settings, port: int | None = None) -> None:
    """``ollive ingest``: start everything, print the URL, leave the run file that other
    processes read (``ollive.connect()``, ``ollive status``, ``ollive down``), block until
    Ctrl-C or SIGTERM, then stop."""
    import signal
    import threading

    running = start_local_ingest(settings, port=port)
    write_run_file(
        settings.run_file,
        run_record("ollive ingest", running, running.warehouse_url, running.urls()),
    )
    print(
        f"ingest ready at {running.url}/v1/logs  (docs: {running.url}/docs, key: ollive-demo)",
        flush=True,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(1.0):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        try:
            running.stop(shutdown_ray=True)
        finally:
            remove_run_file(settings.run_file)


def run_record(
    command: str, running: LocalIngest, warehouse_url: str | None, urls: dict[str, str]
) -> dict[str, Any]:
    """The run file's content for ``command`` (``ollive up``, ``ollive ingest``): where its
    Ray is and how to join it, its warehouse, Valkey and URLs."""
    return _record(command, warehouse_url, urls, running.redis_url)


def _record(
    command: str, warehouse_url: str | None, urls: dict[str, str], redis_url: str | None
) -> dict[str, Any]:
    from datetime import UTC, datetime

    from ollive.config import DEMO_API_KEY

    return {
        "command": command,
        "pid": os.getpid(),
        "ray_address": ray.get_runtime_context().gcs_address,
        **ray_auth_record(),
        "warehouse_url": warehouse_url,
        "redis_url": redis_url,
        "urls": urls,
        "api_key": DEMO_API_KEY,
        "started_at": datetime.now(UTC).isoformat(),
    }


@dataclass
class HostedWarehouse:
    """The warehouse actor on a local Ray cluster, started for a command that runs alone
    (``ollive dashboard`` with no platform up), so other processes reach the same data."""

    warehouse_url: str
    started_ray: bool

    def record(self, command: str, urls: dict[str, str]) -> dict[str, Any]:
        """The run file's content: how other processes join this Ray and its warehouse."""
        return _record(command, self.warehouse_url, urls, None)

    def stop(self) -> None:
        """Shut down the Ray cluster this process started (the actor with it)."""
        if self.started_ray and ray.is_initialized():
            ray.shutdown()


def host_warehouse(settings: Settings, num_cpus: int | None = None) -> HostedWarehouse:
    """Start (or join) local Ray and the warehouse actor on the embedded chDB directory.

    The actor holds the directory; this process and any other (``ollive.connect()``) query
    it through the actor, as they do while ``ollive up`` runs.
    """
    from serve.args import WarehouseArgs
    from serve.warehouse import ensure_warehouse_actor

    started_ray = False
    if not ray.is_initialized():
        init_ray(settings.ray_address, num_cpus)
        started_ray = True
    url = f"chdb://{settings.data_dir}"
    ensure_warehouse_actor(url, WarehouseArgs.from_settings(settings, url))
    return HostedWarehouse("ray://warehouse", started_ray)
