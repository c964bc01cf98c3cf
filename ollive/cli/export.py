"""The ``export`` command: a raw table to Parquet, CSV or Arrow, in batches.

It calls :func:`ollive.insights.export.export` and, like the bench commands, ends with one
JSON line (the :class:`~ollive.insights.export.ExportReport`).
"""

from __future__ import annotations

from ollive.cli._typer import WAREHOUSE_OPTION, typer
from ollive.config import get_settings

__all__ = ["app"]

app = typer.Typer()


@app.command("export")
def export_command(
    table: str = typer.Argument(
        ..., help="A raw table: inference_logs, tool_executions, application_logs, scores."
    ),
    path: str = typer.Argument(..., help="The file to write (.parquet, .csv, .arrow)."),
    since: str = typer.Option("7d", "--since", help="How far back from --until: 30m, 24h, 7d."),
    until: str | None = typer.Option(
        None, "--until", help="End of the range, ISO date/time, UTC (default: now)."
    ),
    where: str | None = typer.Option(
        None, "--where", help="Extra ClickHouse condition, e.g. \"status = 'error'\"."
    ),
    format: str | None = typer.Option(
        None, "--format", help="parquet, csv or arrow (default: from the file's suffix)."
    ),
    project: str | None = typer.Option(
        None, "--project", help="Only this project (default: every project)."
    ),
    batch_rows: int = typer.Option(100_000, "--batch-rows", help="Rows per batch."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar."),
    warehouse: str | None = WAREHOUSE_OPTION,
) -> None:
    """Export rows of a raw table to a file, a batch at a time (memory stays flat)."""
    from ollive.errors import ConfigError, StorageError
    from ollive.insights.export import export
    from ollive.store import connect

    con = connect(warehouse, project=project, settings=get_settings())
    try:
        report = export(
            con,
            table,
            path,
            since=since,
            until=until,
            where=where,
            format=format,
            batch_rows=batch_rows,
            progress=progress,
        )
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    except StorageError as exc:  # e.g. a --where the warehouse cannot run
        typer.echo(f"export failed, nothing written: {exc}", err=True)
        raise typer.Exit(1) from None
    rate = report.rows / max(report.seconds, 1e-9)
    typer.echo(
        f"exported {report.rows:,} rows of {report.table} to {report.path} ({report.format}, "
        f"{report.bytes / 2**20:,.1f} MiB, {report.batches} batches) in {report.seconds:.1f} s "
        f"({rate:,.0f} rows/s), peak RSS {report.peak_rss_mib:,.0f} MiB"
    )
    typer.echo(report.to_json())
