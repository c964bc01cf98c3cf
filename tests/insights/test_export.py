"""export(): every format round-trips, pages stream, filters apply, failures leave no file."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest

from ollive.errors import ConfigError, StorageError
from ollive.insights.export import ExportReport, export
from ollive.store import RAW_TABLES, Connection
from ollive.store.quoting import sql_literal
from tests._seed_dir import seed_directory

END = datetime(2026, 11, 28, tzinfo=UTC)
TIME = {"inference_logs": "started_at", "tool_executions": "started_at"}


@pytest.fixture(scope="module")
def synth(warehouse: Any) -> Any:
    """A few thousand synthetic events over 14 days ending at END, in a project of their own."""
    from ollive.demo.synth import seed_warehouse

    project = f"export-{uuid.uuid4().hex[:8]}"
    seed_warehouse(warehouse, events=4_000, end=END, project=project)
    return Connection.from_warehouse(warehouse, project=project)


def _read(path: Path, fmt: str) -> pa.Table:
    if fmt == "parquet":
        return pq.read_table(path)
    if fmt == "csv":  # previews hold newlines (quoted)
        return pcsv.read_csv(path, parse_options=pcsv.ParseOptions(newlines_in_values=True))
    return pa.ipc.open_file(path).read_all()


def _expected_ids(con: Any, table: str, where: str = "1") -> list[str]:
    """request_ids of the export's range, in the export's order, as the warehouse says."""
    ts = TIME.get(table, "timestamp")
    rows = con.warehouse.query_arrow(
        f"SELECT toString(request_id) FROM {table} FINAL "
        f"WHERE project = {sql_literal(con.project)} AND {ts} >= {sql_literal(END - timedelta(days=30))} "
        f"AND {ts} < {sql_literal(END)} AND ({where}) ORDER BY {ts}, request_id, project"
    )
    return [str(v) for v in rows.column(0).to_pylist()]


@pytest.mark.parametrize("fmt", ["parquet", "csv", "arrow"])
def test_each_format_round_trips(synth: Any, tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"out.{fmt}"
    report = export(synth, "inference_logs", path, since="30d", until=END, progress=False)

    data = _read(path, fmt)
    expected = _expected_ids(synth, "inference_logs")
    assert report.rows == data.num_rows == len(expected) > 1_000
    assert data.column_names == RAW_TABLES["inference_logs"].names
    assert [str(v) for v in data.column("request_id").to_pylist()] == expected  # same order
    assert set(data.column("project").to_pylist()) == {synth.project}
    assert report.format == fmt and report.path == str(path) and report.batches == 1
    assert report.bytes == path.stat().st_size and report.peak_rss_mib > 0
    assert list(tmp_path.iterdir()) == [path]  # the .partial file was renamed


@pytest.mark.parametrize("table", ["tool_executions", "application_logs", "scores"])
def test_every_raw_table_exports_with_its_schema(synth: Any, tmp_path: Path, table: str) -> None:
    path = tmp_path / f"{table}.arrow"
    report = export(synth, table, path, since="30d", until=END, progress=False)

    data = _read(path, "arrow")
    assert report.rows == data.num_rows == len(_expected_ids(synth, table)) > 0
    assert data.schema.names == RAW_TABLES[table].names
    assert data.cast(RAW_TABLES[table]).num_rows == data.num_rows  # re-insertable as is


def test_small_batches_stream_the_same_rows(synth: Any, tmp_path: Path) -> None:
    one = export(synth, "inference_logs", tmp_path / "one.parquet", until=END, progress=False)
    many = export(
        synth,
        "inference_logs",
        tmp_path / "many.parquet",
        until=END,
        batch_rows=250,
        progress=False,
    )

    assert one.batches == 1
    assert many.batches == math.ceil(many.rows / 250) > 1
    assert pq.read_table(tmp_path / "many.parquet").equals(pq.read_table(tmp_path / "one.parquet"))
    assert pq.ParquetFile(tmp_path / "many.parquet").num_row_groups == many.batches


def test_where_filters_rows(synth: Any, tmp_path: Path) -> None:
    where = "status = 'error' AND latency_ms >= 0"
    report = export(
        synth,
        "inference_logs",
        tmp_path / "e.csv",
        since="30d",
        until=END,
        where=where,
        batch_rows=100,
        progress=False,
    )

    data = _read(tmp_path / "e.csv", "csv")
    assert report.rows == data.num_rows == len(_expected_ids(synth, "inference_logs", where)) > 0
    assert set(data.column("status").to_pylist()) == {"error"}


def test_another_project_and_an_empty_range(synth: Any, tmp_path: Path) -> None:
    other = export(
        synth,
        "inference_logs",
        tmp_path / "o.parquet",
        until=END,
        project="no-such-project",
        progress=False,
    )
    before = export(
        synth,
        "inference_logs",
        tmp_path / "b.parquet",
        until=END - timedelta(days=60),
        progress=False,
    )

    for report in (other, before):
        data = pq.read_table(report.path)
        assert report.rows == data.num_rows == 0 and report.batches == 0
        assert data.column_names == RAW_TABLES["inference_logs"].names


def test_retried_duplicates_are_exported_once(
    insert: Callable[..., None], con: Any, tmp_path: Path
) -> None:
    request_id, started = str(uuid.uuid4()), END - timedelta(hours=1)
    for latency, ingested in ((100.0, started), (200.0, started + timedelta(seconds=5))):
        insert(
            "inference_logs",
            [
                {
                    "request_id": request_id,
                    "started_at": started,
                    "finished_at": started,
                    "latency_ms": latency,
                    "ingested_at": ingested,
                }
            ],
        )

    report = export(con, "inference_logs", tmp_path / "d.parquet", until=END, progress=False)

    assert report.rows == 1
    assert pq.read_table(tmp_path / "d.parquet").column("latency_ms").to_pylist() == [200.0]


def test_a_semicolon_in_where_is_refused(synth: Any, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="without ';'"):
        export(synth, "scores", tmp_path / "x.csv", where="1 = 1; DROP TABLE scores")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("table", "name", "fmt", "message"),
    [
        ("scores", "x.txt", None, r"name the file \*\.parquet, \*\.csv or \*\.arrow"),
        ("scores", "x.parquet", "xlsx", "use parquet, csv or arrow"),
        ("nope", "x.parquet", None, "exportable tables are inference_logs, tool_executions"),
        ("inference_stats_5m", "x.parquet", None, "aggregate states.*raw tables.*inference_logs"),
        ("tool_stats_5m", "x.parquet", None, "export one of the raw tables"),
    ],
)
def test_wrong_format_or_table_is_a_config_error(
    synth: Any, tmp_path: Path, table: str, name: str, fmt: str | None, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        export(synth, table, tmp_path / name, format=fmt, progress=False)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"until": "yesterday"}, "use an ISO date/time"),
        ({"since": "forever"}, "invalid duration"),
        ({"since": "1d", "until": "2026-11-28T00:00:00"}, None),
        ({"batch_rows": 0}, "batch_rows must be at least 1"),
    ],
)
def test_wrong_range_or_batch_is_a_config_error(
    synth: Any, tmp_path: Path, options: dict[str, Any], message: str | None
) -> None:
    path = tmp_path / "x.parquet"
    if message is None:  # the control: a valid range exports
        assert export(synth, "scores", path, progress=False, **options).rows > 0
        return
    with pytest.raises(ConfigError, match=message):
        export(synth, "scores", path, progress=False, **options)
    assert list(tmp_path.iterdir()) == []


def test_bad_where_sql_leaves_no_file(synth: Any, tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="no_such_column"):
        export(synth, "scores", tmp_path / "x.parquet", where="no_such_column = 1")
    assert list(tmp_path.iterdir()) == []


class _FailingWarehouse:
    """The real warehouse, failing the ``fail_at``-th query (a dropped connection mid-export)."""

    def __init__(self, real: Any, fail_at: int) -> None:
        self.real, self.calls, self.fail_at = real, 0, fail_at

    def query_arrow(self, sql: str) -> pa.Table:
        self.calls += 1
        if self.calls == self.fail_at:
            raise StorageError("the warehouse went away")
        return self.real.query_arrow(sql)

    def scalar(self, sql: str) -> Any:
        return self.real.scalar(sql)


def test_a_failure_mid_export_removes_the_partial_file(synth: Any, tmp_path: Path) -> None:
    target = tmp_path / "x.arrow"
    target_partial = tmp_path / "x.arrow.partial"
    flaky = _FailingWarehouse(synth.warehouse, fail_at=8)  # after a few pages were written
    con = Connection.from_warehouse(flaky, project=synth.project)  # type: ignore[arg-type]

    with pytest.raises(StorageError, match="went away"):
        export(con, "inference_logs", target, until=END, batch_rows=100, progress=False)
    assert not target.exists() and not target_partial.exists()


def test_progress_bar_counts_rows(
    synth: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = export(synth, "scores", tmp_path / "s.parquet", since="30d", until=END)

    assert f"{report.rows}/{report.rows}" in capsys.readouterr().err
    assert json.loads(report.to_json())["rows"] == report.rows
    assert isinstance(report, ExportReport)


def test_cli_exports_in_another_process(tmp_path: Path) -> None:
    url = seed_directory(tmp_path / "wh", events=3_000)
    out = tmp_path / "out" / "calls.parquet"
    out.parent.mkdir()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "ollive.cli",
            "export",
            "inference_logs",
            "--since",
            "30d",
            "--where",
            "latency_ms >= 0",
            "--format",
            "parquet",
            str(out),
            "--batch-rows",
            "500",
            "--warehouse",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "OLLIVE_HOME": str(tmp_path / "home")},
    )

    assert result.returncode == 0, result.stderr
    last = json.loads(result.stdout.strip().splitlines()[-1])
    assert last["rows"] == pq.read_table(out).num_rows > 500
    assert last["batches"] > 1 and last["format"] == "parquet" and last["path"] == str(out)
    assert {"seconds", "bytes", "peak_rss_mib"} <= set(last)
    assert "exported" in result.stdout and sorted(p.name for p in out.parent.iterdir()) == [
        "calls.parquet"
    ]
