"""The warehouse actor: one named Ray actor holds the embedded chDB directory.

chDB allows one process per data directory; every other process (writers, notebooks, the
dashboard) reaches it through :class:`ollive.store.actor.ActorWarehouse`. The actor is
detached (it outlives the driver that started it), restarts on failure, and applies pending
migrations when it starts.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import pyarrow as pa
import ray

from ollive.store.actor import NAMESPACE, WAREHOUSE_ACTOR
from serve.args import WarehouseArgs

__all__ = ["WarehouseActor", "ensure_warehouse_actor"]

logger = logging.getLogger(__name__)


@ray.remote(num_cpus=0, max_restarts=-1, max_task_retries=3, max_concurrency=8)
class WarehouseActor:
    """Holds a :class:`~ollive.store.chdb.ChdbWarehouse` and serves its methods."""

    def __init__(self, args: WarehouseArgs) -> None:
        from ollive.store import open_warehouse
        from ollive.store.migrations import migrate

        self._args = args
        self._warehouse = open_warehouse(args.url, migrate=False)
        migrate(self._warehouse, args)  # the TTLs of the args, not this process's environment
        self._released: dict[str, float] = {}
        if args.release_memory_s > 0:
            threading.Thread(target=self._release_loop, name="release-memory", daemon=True).start()

    def _release_loop(self) -> None:
        """Return the allocators' kept pages every ``release_memory_s`` (steady small inserts
        otherwise grow the process ~1 MiB a minute; see docs/hardening.md, Soak)."""
        from ollive.store.maintenance import release_memory

        while True:
            time.sleep(self._args.release_memory_s)
            try:
                self._released = release_memory(self._warehouse)
            except Exception:  # never let housekeeping take the actor down
                logger.warning("releasing memory failed", exc_info=True)

    def describe(self) -> str:
        return self._warehouse.url

    def ready(self) -> bool:
        return self._warehouse.ping()

    def command(self, sql: str) -> None:
        self._warehouse.command(sql)

    def query_arrow(self, sql: str) -> pa.Table:
        return self._warehouse.query_arrow(sql)

    @ray.method(max_task_retries=0)  # type: ignore[untyped-decorator]
    def insert_arrow(
        self, table: str, data: pa.Table, token: str | None = None, verify: bool = False
    ) -> int:
        """Not retried by Ray: a caller that sends a token again after this actor died says
        so (``verify``), since the dead attempt may have left the token without its rows."""
        return self._warehouse.insert_arrow(table, data, token, verify=verify)

    def counts(self, final: bool = True) -> dict[str, int]:
        from ollive.store.maintenance import counts

        return counts(self._warehouse, final)

    def migrate(self) -> list[str]:
        from ollive.store.migrations import migrate

        return migrate(self._warehouse, self._args)

    def process_memory(self) -> dict[str, float]:
        """Where this actor's memory is (see :func:`ollive.store.maintenance.process_memory`)."""
        from ollive.store.maintenance import process_memory

        return {**process_memory(), **{f"last_release_{k}": v for k, v in self._released.items()}}

    def call(self, method: str, *args: Any) -> Any:
        """Any other Warehouse method (query_df, scalar ...)."""
        return getattr(self._warehouse, method)(*args)


def ensure_warehouse_actor(url: str, args: WarehouseArgs | None = None) -> Any:
    """The running warehouse actor, started (detached) if there is none; waits until ready."""
    try:
        handle = ray.get_actor(WAREHOUSE_ACTOR, namespace=NAMESPACE)
    except ValueError:
        handle = WarehouseActor.options(  # type: ignore[attr-defined]
            name=WAREHOUSE_ACTOR, namespace=NAMESPACE, lifetime="detached", get_if_exists=True
        ).remote(args if args is not None else WarehouseArgs(url=url))
    ray.get(handle.ready.remote(), timeout=120)
    return handle
