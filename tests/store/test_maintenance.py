"""The policy functions over the seam: quoting, counts, tables, deletes, the Ibis binding."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from ollive.store import ibis_connection, maintenance
from ollive.store.base import Warehouse
from ollive.store.quoting import column_list, quote_identifier, sql_literal

from ._suite import inference_rows, raw_count


def test_literals_and_identifiers_are_escaped() -> None:
    assert sql_literal("x' OR '1'='1") == "'x\\' OR \\'1\\'=\\'1'"
    assert sql_literal(None) == "NULL" and sql_literal(True) == "true" and sql_literal(3) == "3"
    assert quote_identifier("a`b") == "`a\\`b`"
    assert column_list(["project", "model"]) == "`project`, `model`"


def test_aware_datetimes_become_utc() -> None:
    paris = datetime(2026, 1, 31, 13, 0, tzinfo=timezone(timedelta(hours=1)))
    assert sql_literal(paris) == sql_literal(datetime(2026, 1, 31, 12, 0, tzinfo=UTC))
    assert "2026-01-31 12:00:00.000" in sql_literal(paris)


def test_the_seam_has_the_primitives_only() -> None:
    policy = {"migrate", "counts", "rebuild_aggregates", "delete_where", "tables", "ibis"}
    assert not policy & set(dir(Warehouse))


def test_counts_tables_and_delete_where(warehouse: Any, project: str) -> None:
    warehouse.insert_arrow("inference_logs", inference_rows(project, 7))
    assert set(maintenance.counts(warehouse)) == {
        "inference_logs",
        "tool_executions",
        "application_logs",
        "scores",
    }
    assert maintenance.counts(warehouse, final=False)["inference_logs"] >= 7
    assert {"inference_logs", "inference_stats_5m"} <= set(maintenance.tables(warehouse))
    maintenance.delete_where(warehouse, "inference_logs", f"project = {sql_literal(project)}")
    assert raw_count(warehouse, project) == 0


def test_ibis_connection_is_made_once_per_warehouse(warehouse: Any) -> None:
    con = ibis_connection(warehouse)
    assert ibis_connection(warehouse) is con
    assert con.warehouse is warehouse and con.project is None


def test_release_memory_purges_the_engine_and_trims_the_heap(warehouse: Any) -> None:
    """What the warehouse actor runs every minute: chDB's jemalloc purge and glibc's trim.
    After a burst of garbage the process hands pages back (RSS after <= before)."""
    from ollive.store.maintenance import process_memory, release_memory

    garbage = [bytearray(64 * 1024) for _ in range(2_000)]  # ~128 MiB through malloc
    del garbage
    warehouse.query_arrow("SELECT number FROM numbers(2000000) ORDER BY number DESC LIMIT 1")
    figures = release_memory(warehouse)
    assert set(figures) == {"rss_before_mib", "rss_after_mib"}
    assert 0 < figures["rss_after_mib"] <= figures["rss_before_mib"]
    assert process_memory()["malloc_in_use"] > 0  # the figures the soak reads beside it

    class NotChdb:  # a server manages its own memory: nothing is sent to it
        engine = "clickhouse"

        def command(self, sql: str) -> None:
            raise AssertionError(f"sent {sql!r} to a server")

    assert release_memory(NotChdb())["rss_after_mib"] > 0  # type: ignore[arg-type]
