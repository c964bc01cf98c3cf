"""Warehouses: chDB on a directory, a ClickHouse server, the warehouse actor; the write path.

The :class:`Warehouse` seam has the engine primitives only (``command``, ``query_arrow``,
``insert_arrow``, ``close``); policy is functions over it (:mod:`ollive.store.migrations`,
:mod:`ollive.store.maintenance`, :mod:`ollive.store.deletion`). The write path
(:class:`GroupCommitWriter` over a :class:`Spool`) commits Arrow rows idempotently.

>>> con = connect("chdb:///tmp/ollive-doc")          # doctest: +SKIP
>>> con.table("inference_logs").count().execute()   # doctest: +SKIP
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from ollive.errors import WarehouseUnavailableError
from ollive.store._url import WarehouseURL, parse_warehouse_url
from ollive.store.base import Warehouse
from ollive.store.quoting import sql_literal
from ollive.store.spool import ReplayReport, Spool, SpoolEntry, replay_spool, spools_under
from ollive.store.tables import AGGREGATES, RAW_TABLES, TABLE_FOR_LOG_TYPE, arrow_schema
from ollive.store.writer import FlushPolicy, GroupCommitWriter, RetryPolicy, WriteReceipt

if TYPE_CHECKING:  # pragma: no cover
    from ollive.config import Settings
    from ollive.store._ibis import Connection, ibis_connection

__all__ = [
    "AGGREGATES",
    "RAW_TABLES",
    "TABLE_FOR_LOG_TYPE",
    "Connection",
    "FlushPolicy",
    "GroupCommitWriter",
    "ReplayReport",
    "RetryPolicy",
    "Spool",
    "SpoolEntry",
    "Warehouse",
    "WarehouseURL",
    "WriteReceipt",
    "arrow_schema",
    "connect",
    "ibis_connection",
    "join_platform",
    "open_warehouse",
    "parse_warehouse_url",
    "replay_spool",
    "resolve_warehouse_url",
    "spools_under",
    "sql_literal",
]


def __getattr__(name: str) -> Any:
    """``Connection`` and ``ibis_connection`` load Ibis on first use, not on import."""
    if name in ("Connection", "ibis_connection"):
        from ollive.store import _ibis

        return getattr(_ibis, name)
    raise AttributeError(f"module 'ollive.store' has no attribute {name!r}")


def resolve_warehouse_url(url: str | None = None, settings: Settings | None = None) -> str:
    """Which warehouse to use: ``url``; ``OLLIVE_WAREHOUSE_URL``; the running platform's
    warehouse actor (``ray://warehouse``); the chDB directory under ``OLLIVE_HOME``."""
    from ollive.config import get_settings
    from ollive.config.runfile import read_run_file

    s = settings or get_settings()
    if url:
        return url
    if s.warehouse_url:
        return s.warehouse_url
    run = read_run_file(s.run_file)
    if run and run.get("warehouse_url"):
        return str(run["warehouse_url"])
    return f"chdb://{s.data_dir}"


_open: dict[str, Warehouse] = {}


def open_warehouse(
    url: str | None = None,
    settings: Settings | None = None,
    migrate: bool = True,
    *,
    timeout_s: float | None = None,
) -> Warehouse:
    """The :class:`Warehouse` for ``url`` (resolved as :func:`resolve_warehouse_url` says).

    One instance per URL and process; ``migrate`` applies pending migrations on first open;
    ``timeout_s`` (default ``OLLIVE_WAREHOUSE_TIMEOUT_S``) bounds a server's connect and queries.
    """
    from ollive.config import get_settings

    s = settings or get_settings()
    resolved = resolve_warehouse_url(url, s)
    parsed = parse_warehouse_url(resolved)
    key = str(parsed)
    cached = _open.get(key)
    if cached is not None and not getattr(cached, "_closed", False):
        return cached
    warehouse: Warehouse
    if parsed.scheme == "chdb":
        from ollive.store.chdb import ChdbWarehouse

        warehouse = ChdbWarehouse(parsed.path)  # type: ignore[arg-type]
    elif parsed.scheme == "clickhouse":
        from ollive.store.clickhouse import ClickhouseWarehouse

        warehouse = ClickhouseWarehouse(
            parsed, timeout_s=s.warehouse_timeout_s if timeout_s is None else timeout_s
        )
    else:
        join_platform(s)
        from ollive.store.actor import ActorWarehouse

        warehouse = ActorWarehouse(parsed.actor_name)
    if migrate and parsed.scheme != "ray":  # the actor migrates when it starts
        from ollive.store.migrations import migrate as apply_migrations

        apply_migrations(warehouse, s)
    _open[key] = warehouse
    return warehouse


def join_platform(settings: Settings | None = None) -> None:
    """Connect this process to the running platform's Ray cluster (once), authenticating
    the way the platform's cluster does (the run file says how)."""
    import logging

    import ray

    from ollive.config import get_settings
    from ollive.config.runfile import ray_auth_env, read_run_file

    settings = settings or get_settings()
    if ray.is_initialized():
        return
    run = read_run_file(settings.run_file) or {}
    address = settings.ray_address or run.get("ray_address") or "auto"
    auth = ray_auth_env(run)
    if auth:
        os.environ.update(auth)
        _refresh_ray_config()
    try:
        ray.init(
            address=address, namespace="ollive", log_to_driver=False, logging_level=logging.WARNING
        )
    except ConnectionError as exc:
        ray.shutdown()
        raise WarehouseUnavailableError(
            f"could not join the platform's Ray cluster at {address} ({exc}). Is `ollive up` "
            "running (`ollive status`)? A cluster in token-auth mode needs its token: Ray reads "
            "~/.ray/auth_token of the user who started it, or RAY_AUTH_TOKEN_PATH / "
            "RAY_AUTH_TOKEN; set RAY_AUTH_MODE=token when joining one that `ollive up` did "
            "not start."
        ) from exc


def _refresh_ray_config() -> None:
    """Make an already imported Ray read ``RAY_AUTH_*`` again: Ray caches its config when it
    is imported, and refreshes it the same way when it turns token auth on for a new local
    cluster (``ray._private.authentication.authentication_token_setup``)."""
    try:
        from ray._raylet import Config  # type: ignore[attr-defined]  # Cython, no stub
    except ImportError:  # a Ray without the cached config: the environment is enough
        return
    Config.initialize("")


def connect(
    url: str | None = None, project: str | None = None, settings: Settings | None = None
) -> Connection:
    """An Ibis connection to the warehouse (embedded, the running platform, or a server).

    ``project`` scopes the insight functions to one project (None: all projects).
    """
    from ollive.store._ibis import Connection

    warehouse = open_warehouse(url, settings)
    return Connection.from_warehouse(warehouse, project=project)
