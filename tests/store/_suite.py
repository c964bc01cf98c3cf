"""The warehouse behaviour every engine must have; run on chDB always, on a server when set."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pyarrow as pa

from ollive.store import ibis_connection
from ollive.store.maintenance import rebuild_aggregates
from ollive.store.tables import RAW_TABLES

T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)


def inference_rows(project: str, n: int, start: datetime = T0, latency: float = 100.0) -> pa.Table:
    ids = [str(uuid.uuid4()) for _ in range(n)]
    started = [start + timedelta(seconds=i) for i in range(n)]
    data = {
        "project": [project] * n,
        "request_id": ids,
        "service": ["svc"] * n,
        "provider": ["openai"] * n,
        "model": ["gpt-4o" if i % 2 else "gpt-4o-mini" for i in range(n)],
        "started_at": started,
        "finished_at": [s + timedelta(milliseconds=latency) for s in started],
        "latency_ms": [latency + i for i in range(n)],
        "ttft_ms": [None] * n,
        "status": ["error" if i % 10 == 0 else "ok" for i in range(n)],
        "prompt_tokens": [10] * n,
        "completion_tokens": [5] * n,
        "total_tokens": [15] * n,
        "cost_usd": [0.01] * n,
        "metadata": ["{}"] * n,
        "schema_version": ["1.0"] * n,
    }
    schema = RAW_TABLES["inference_logs"]
    return pa.table({k: pa.array(v, type=schema.field(k).type) for k, v in data.items()})


def mv_requests(warehouse, project: str) -> int:  # type: ignore[no-untyped-def]
    return int(
        warehouse.scalar(
            f"SELECT countMerge(requests) FROM inference_stats_5m WHERE project = '{project}'"
        )
        or 0
    )


def raw_count(warehouse, project: str, final: bool = True) -> int:  # type: ignore[no-untyped-def]
    keyword = " FINAL" if final else ""
    return int(
        warehouse.scalar(f"SELECT count() FROM inference_logs{keyword} WHERE project = '{project}'")
    )


class WarehouseSuite:
    """Subclasses provide a ``wh`` fixture (a migrated warehouse) and use ``project``."""

    def test_insert_and_query_roundtrip(self, wh, project) -> None:  # type: ignore[no-untyped-def]
        rows = inference_rows(project, 20)
        assert wh.insert_arrow("inference_logs", rows) == 20
        result = wh.query_arrow(
            f"SELECT request_id, latency_ms FROM inference_logs WHERE project = '{project}' ORDER BY latency_ms"
        )
        assert result.num_rows == 20
        df = wh.query_df(f"SELECT count() AS n FROM inference_logs WHERE project = '{project}'")
        assert int(df["n"][0]) == 20

    def test_same_token_twice_stores_once_in_tables_and_mv(self, wh, project) -> None:  # type: ignore[no-untyped-def]
        rows = inference_rows(project, 50)
        token = f"batch-{uuid.uuid4()}"
        wh.insert_arrow("inference_logs", rows, token=token)
        wh.insert_arrow("inference_logs", rows, token=token)
        assert raw_count(wh, project, final=False) == 50
        assert mv_requests(wh, project) == 50

    def test_a_verified_resend_stores_rows_whose_token_outlived_them(self, wh, project) -> None:  # type: ignore[no-untyped-def]
        """A process killed between recording a token and publishing its part leaves the
        token without its rows; a plain resend is then deduped away. That crash cannot be
        timed from a test, so the same state is made with a DELETE: the rows go, the token
        stays in the table's deduplication log."""
        rows = inference_rows(project, 12)
        token = f"lost-{uuid.uuid4()}"
        wh.insert_arrow("inference_logs", rows, token=token)
        wh.command(f"DELETE FROM inference_logs WHERE project = '{project}'")
        wh.insert_arrow("inference_logs", rows, token=token)
        assert raw_count(wh, project, final=False) == 0  # the hazard: the resend stored nothing
        wh.insert_arrow("inference_logs", rows, token=token, verify=True)
        assert raw_count(wh, project, final=False) == 12
        wh.insert_arrow("inference_logs", rows, token=token, verify=True)  # all there: no copy
        assert raw_count(wh, project, final=False) == 12

    def test_duplicate_in_later_batch_collapses_in_raw_table(self, wh, project) -> None:  # type: ignore[no-untyped-def]
        """Documented: the raw table collapses it (FINAL / merges); the MV counts it again
        until `rebuild_aggregates` recomputes the affected buckets."""
        rows = inference_rows(project, 10)
        wh.insert_arrow("inference_logs", rows, token=f"a-{uuid.uuid4()}")
        wh.insert_arrow("inference_logs", rows.slice(0, 3), token=f"b-{uuid.uuid4()}")
        assert raw_count(wh, project, final=True) == 10
        # 13 until a background merge collapses the copies (which may already have happened)
        assert raw_count(wh, project, final=False) in (10, 13)
        assert mv_requests(wh, project) == 13
        rebuild_aggregates(wh, T0 - timedelta(hours=1), T0 + timedelta(hours=1), project=project)
        assert mv_requests(wh, project) == 10

    def test_mv_aggregates_match_raw(self, wh, project) -> None:  # type: ignore[no-untyped-def]
        wh.insert_arrow("inference_logs", inference_rows(project, 100))
        row = wh.query_arrow(
            "SELECT countMerge(requests) AS n, countMerge(errors) AS e, sumMerge(total_tokens) AS t, "
            f"sumMerge(cost_usd) AS c FROM inference_stats_5m WHERE project = '{project}'"
        ).to_pylist()[0]
        assert row["n"] == 100 and row["e"] == 10 and row["t"] == 1500
        assert abs(row["c"] - 1.0) < 1e-9

    def test_ibis_table_is_bound(self, wh, project) -> None:  # type: ignore[no-untyped-def]
        from ibis import _

        wh.insert_arrow("inference_logs", inference_rows(project, 30))
        t = ibis_connection(wh).table("inference_logs")
        df = (
            t.filter([t.project == project, t.model == "gpt-4o"])
            .group_by("model")
            .agg(n=_.count(), p50=_.latency_ms.median())
            .to_pandas()
        )
        assert df["n"].tolist() == [15]
        first = t.filter(t.project == project).order_by("started_at").limit(1).to_pandas()
        assert str(first["started_at"].dt.tz) == "UTC"
        assert uuid.UUID(str(first["request_id"][0]))  # Ibis gives uuid.UUID values
