"""A ClickHouse server (single node or cluster) through clickhouse-connect, over HTTP(S).

Arrow in and out: inserts use ``insert_arrow`` with ``insert_deduplication_token`` (the raw
and aggregate tables carry ``non_replicated_deduplication_window``; Replicated tables
deduplicate natively), queries use ``query_arrow``.
"""

from __future__ import annotations

import re
from typing import Any

import pyarrow as pa

from ollive.errors import StorageError, WarehouseUnavailableError
from ollive.store._url import WarehouseURL
from ollive.store.base import Warehouse

__all__ = ["ClickhouseWarehouse", "client_kwargs"]

_CODE = re.compile(r"Code: (\d+)")


def client_kwargs(url: WarehouseURL, timeout_s: float = 10.0) -> dict[str, Any]:
    """The keyword arguments given to ``clickhouse_connect.get_client`` for ``url``."""
    kwargs: dict[str, Any] = {
        "host": url.host,
        "port": url.port,
        "username": url.username,
        "password": url.password,
        "database": url.database,
        "secure": url.secure,
        "connect_timeout": timeout_s,
        "send_receive_timeout": max(timeout_s, 300.0),
        "compress": "lz4",
        "autogenerate_session_id": False,
        "settings": {"deduplicate_blocks_in_dependent_materialized_views": 1},
    }
    for key, value in url.options:
        if key == "verify":
            kwargs["verify"] = value.lower() not in ("0", "false", "no")
        elif key in ("ca_cert", "client_cert", "client_cert_key", "compress"):
            kwargs[key] = value
        else:
            kwargs["settings"][key] = value
    return kwargs


class ClickhouseWarehouse(Warehouse):
    """A ClickHouse server. ``timeout_s`` bounds connecting; the host is named on failure."""

    engine = "clickhouse"

    def __init__(self, url: WarehouseURL, timeout_s: float = 10.0) -> None:
        super().__init__()
        import clickhouse_connect
        from clickhouse_connect.driver.exceptions import Error as ClickHouseError

        self._url = url
        self.url = str(url)
        self._errors = ClickHouseError
        try:
            self._client = clickhouse_connect.get_client(**client_kwargs(url, timeout_s))
        except ClickHouseError as exc:
            raise WarehouseUnavailableError(
                f"cannot reach the ClickHouse server at {url.host}:{url.port} (database "
                f"{url.database!r}) within {timeout_s:g} s: {exc}. Check that it runs and that "
                "OLLIVE_WAREHOUSE_URL is right (clickhouse://user:password@host:8123/db)."
            ) from exc

    def command(self, sql: str) -> None:
        self._call(self._client.command, sql)

    def query_arrow(self, sql: str) -> pa.Table:
        return self._call(self._client.query_arrow, sql, use_strings=True)

    def _insert(self, table: str, data: pa.Table, token: str | None) -> None:
        settings = {"insert_deduplication_token": token} if token else None
        self._call(self._client.insert_arrow, table, data, settings=settings)

    def _call(self, method, *args, **kwargs):  # type: ignore[no-untyped-def]
        try:
            return method(*args, **kwargs)
        except self._errors as exc:
            code = _CODE.search(str(exc))
            text = str(exc).strip()[:2000]
            if "connect" in text.lower() or "timed out" in text.lower():
                raise WarehouseUnavailableError(
                    f"ClickHouse {self._url.host}:{self._url.port}: {text}"
                ) from exc
            raise StorageError(
                f"ClickHouse {self._url.host}:{self._url.port}: {text}",
                code=int(code[1]) if code else None,
            ) from exc

    def close(self) -> None:
        self._client.close()
