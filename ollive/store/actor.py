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
        self._name, self._namespace = name, namespace
        self._actor = self._lookup()
        self.url = f"ray://{name}"
        self.backing_url = str(self._call("describe"))

    @property
    def handle(self) -> Any:
        """The actor handle, for async callers (``await handle.query_arrow.remote(sql)``)."""
        return self._actor

    def _lookup(self) -> Any:
        try:
            return self._ray.get_actor(self._name, namespace=self._namespace)
        except ValueError as exc:
            raise WarehouseUnavailableError(
                f"no warehouse actor {self._name!r} in Ray namespace {self._namespace!r}; start "
                "the platform with `ollive up`, or connect to a URL (chdb:///path, clickhouse://...)."
            ) from exc

    def _call(self, method: str, *args: Any) -> Any:
        try:
            return self._call_once(method, *args)
        except WarehouseUnavailableError as exc:
            if not isinstance(exc.__cause__, self._ray.exceptions.ActorDiedError):
                raise
            # the actor this proxy knew is gone for good (the platform was restarted, or a new
            # actor took its name): find the one that holds the name now, and try once more
            self._actor = self._lookup()
            return self._call_once(method, *args)

    def _call_once(self, method: str, *args: Any) -> Any:
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
