"""The same warehouse suite against a real ClickHouse server, when one is given.

No ClickHouse server can be installed on the CI machines, so this module only runs with
``OLLIVE_TEST_CLICKHOUSE_URL=clickhouse://user:pass@host:8123/db`` set.
"""

from __future__ import annotations

import os

import pytest

from ._suite import WarehouseSuite

URL = os.environ.get("OLLIVE_TEST_CLICKHOUSE_URL")
pytestmark = [
    pytest.mark.clickhouse_server,
    pytest.mark.skipif(
        not URL, reason="set OLLIVE_TEST_CLICKHOUSE_URL to run against a ClickHouse server"
    ),
]


class TestClickhouseServer(WarehouseSuite):
    @pytest.fixture(scope="class")
    def wh(self):  # type: ignore[no-untyped-def]
        from ollive.store import parse_warehouse_url
        from ollive.store.clickhouse import ClickhouseWarehouse
        from ollive.store.migrations import migrate

        warehouse = ClickhouseWarehouse(parse_warehouse_url(URL or ""))
        migrate(warehouse)
        yield warehouse
        warehouse.close()
