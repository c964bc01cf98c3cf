"""Warehouse URLs and ollive.connect()'s resolution order."""

from __future__ import annotations

from pathlib import Path

import pytest

from ollive.config import Settings
from ollive.errors import ConfigError
from ollive.store import parse_warehouse_url, resolve_warehouse_url
from ollive.store.clickhouse import client_kwargs


def test_chdb_url() -> None:
    url = parse_warehouse_url("chdb:///tmp/some/dir")
    assert url.scheme == "chdb" and url.path == Path("/tmp/some/dir")


def test_clickhouse_urls() -> None:
    url = parse_warehouse_url(
        "clickhouse://alice:s%40cret@db.internal:9000/telemetry?max_threads=4"
    )
    assert (url.host, url.port, url.username, url.password, url.database) == (
        "db.internal",
        9000,
        "alice",
        "s@cret",
        "telemetry",
    )
    assert "s@cret" not in str(url)
    kwargs = client_kwargs(url, timeout_s=3)
    assert kwargs["connect_timeout"] == 3 and kwargs["settings"]["max_threads"] == "4"
    secure = parse_warehouse_url("clickhouses://h/db")
    assert secure.secure and secure.port == 8443
    assert parse_warehouse_url("clickhouse://h").port == 8123


@pytest.mark.parametrize(
    "bad",
    [
        "postgres://x/y",
        "clickhouse:///nodb",
        "chdb://",
        "clickhouse://h:notaport/db",
        "clickhouse://h/a/b",
    ],
)
def test_malformed_urls_name_the_accepted_forms(bad: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_warehouse_url(bad)
    assert "clickhouse://" in str(info.value) or "database" in str(info.value)


def test_resolution_order(tmp_path: Path) -> None:
    s = Settings(home=tmp_path, warehouse_url=None)
    assert resolve_warehouse_url("chdb:///explicit", s) == "chdb:///explicit"
    assert (
        resolve_warehouse_url(None, Settings(home=tmp_path, warehouse_url="clickhouse://h/db"))
        == "clickhouse://h/db"
    )
    assert resolve_warehouse_url(None, s) == f"chdb://{tmp_path / 'warehouse'}"
    # a live run file (this process stands in for the platform) points at the actor
    import json
    import os

    (tmp_path / "run.json").write_text(
        json.dumps({"pid": os.getpid(), "warehouse_url": "ray://warehouse"})
    )
    assert resolve_warehouse_url(None, s) == "ray://warehouse"
    # a stale run file (dead pid) is ignored
    (tmp_path / "run.json").write_text(
        json.dumps({"pid": 2**22 + 12345, "warehouse_url": "ray://warehouse"})
    )
    assert resolve_warehouse_url(None, s).startswith("chdb://")


def test_unreachable_server_fails_within_timeout_naming_the_host() -> None:
    import socket

    from ollive.errors import WarehouseUnavailableError
    from ollive.store.clickhouse import ClickhouseWarehouse

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = parse_warehouse_url(f"clickhouse://default@127.0.0.1:{port}/default")
    with pytest.raises(WarehouseUnavailableError, match=f"127.0.0.1:{port}"):
        ClickhouseWarehouse(url, timeout_s=2)
