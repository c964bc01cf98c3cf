"""A proxy to the warehouse actor: how every process shares the embedded chDB engine.

chDB allows one process per data directory, so on a running platform a named Ray actor
(``warehouse`` in the ``ollive`` namespace, started by ``ollive up``) holds it, and writers,
notebooks and the dashboard call it. Arrow tables cross the process boundary zero-copy
through Ray's object store.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from ollive.errors import StorageError, WarehouseUnavailableError
from ollive.store.base import Warehouse

__all__ = ["NAMESPACE", "WAREHOUSE_ACTOR", "ActorWarehouse"]

NAMESPACE = "ollive"
WAREHOUSE_ACTOR = "warehouse"


class ActorWarehouse(Warehouse):
    """Every call goes to the named warehouse actor; its errors come back as StorageError."""

    engine = "actor"

    def __init__(
        self, name: str = WAREHOUSE_ACTOR, namespace: str = NAMESPACE, timeout_s: float = 300.0
    ) -> None:
        super().__init__()
        import ray

        self._ray = ray
        self._timeout_s = timeout_s
        try:
            self._actor = ray.get_actor(name, namespace=namespace)
        except ValueError as exc:
            raise WarehouseUnavailableError(
                f"no warehouse actor {name!r} in Ray namespace {namespace!r}; start the platform "
                "with `ollive up`, or connect to a URL (chdb:///path, clickhouse://...)."
            ) from exc
        self.url = f"ray://{name}"
        self.backing_url = str(self._call("describe"))

    @property
    def handle(self) -> Any:
        """The actor handle, for async callers (``await handle.query_arrow.remote(sql)``)."""
        return self._actor

    def _call(self, method: str, *args: Any) -> Any:
        ray = self._ray
        try:
            return ray.get(getattr(self._actor, method).remote(*args), timeout=self._timeout_s)
        except ray.exceptions.RayTaskError as exc:
            cause = exc.as_instanceof_cause()
            if isinstance(cause, StorageError):
                raise cause from None
            raise StorageError(f"warehouse actor: {cause}") from exc
        except (ray.exceptions.RayActorError, ray.exceptions.GetTimeoutError) as exc:
            raise WarehouseUnavailableError(
                f"the warehouse actor did not answer ({type(exc).__name__}); it restarts by "
                "itself, retry in a few seconds (`ollive status` shows its state)."
            ) from exc

    def command(self, sql: str) -> None:
        self._call("command", sql)

    def query_arrow(self, sql: str) -> pa.Table:
        return self._call("query_arrow", sql)

    def _insert(self, table: str, data: pa.Table, token: str | None) -> None:
        self._call("insert_arrow", table, data, token)

    def close(self) -> None:
        """The actor keeps running; only this proxy is dropped."""
