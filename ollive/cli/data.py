"""Data commands: ``schema``, ``config``, ``migrate``, ``seed``, ``dlq list|replay``."""

from __future__ import annotations

from ollive.cli._typer import WAREHOUSE_OPTION, typer
from ollive.config import get_settings

__all__ = ["app"]

app = typer.Typer()
dlq_app = typer.Typer(help="The writers' dead-letter queue (spooled Arrow batches).")
app.add_typer(dlq_app, name="dlq")


@app.command("schema")
def schema_command(
    check: bool = typer.Option(False, "--check", help="Fail if the exported file is stale."),
) -> None:
    """Export the JSON Schema of the wire contract to ollive/schema/events-v1.json."""
    from ollive._schema_file import SCHEMA_PATH, render_schema

    text = render_schema()
    if check:
        if not SCHEMA_PATH.exists() or SCHEMA_PATH.read_text("utf-8") != text:
            typer.echo(f"{SCHEMA_PATH} is stale: run `ollive schema`", err=True)
            raise typer.Exit(1)
        typer.echo(f"{SCHEMA_PATH} is up to date")
        return
    SCHEMA_PATH.write_text(text, "utf-8")
    typer.echo(f"wrote {SCHEMA_PATH}")


@app.command("config")
def config_command(
    doc: bool = typer.Option(False, "--doc", help="Write docs/configuration.md instead."),
) -> None:
    """Print the effective settings (secrets masked)."""
    if doc:
        from ollive.config._doc import DOC_PATH, render_config_doc

        DOC_PATH.write_text(render_config_doc(), "utf-8")
        typer.echo(f"wrote {DOC_PATH}")
        return
    for name, value in get_settings().model_dump().items():
        if value is not None and any(k in name for k in ("key", "auth", "password")):
            value = "***"
        typer.echo(f"OLLIVE_{name.upper()}={'' if value is None else value}")


@app.command("migrate")
def migrate_command(
    warehouse: str | None = WAREHOUSE_OPTION,
    cluster: str | None = typer.Option(
        None, "--cluster", help="ClickHouse cluster name: ON CLUSTER + Replicated engines."
    ),
) -> None:
    """Apply the numbered DDL files of sql/ that are not applied yet."""
    from ollive.store import open_warehouse
    from ollive.store.migrations import migrate

    wh = open_warehouse(warehouse, get_settings(), migrate=False)
    applied = migrate(wh, get_settings(), cluster=cluster)
    typer.echo(f"{wh.url}: " + (f"applied {', '.join(applied)}" if applied else "up to date"))


@app.command("seed")
def seed_command(
    events: int = typer.Option(1_000_000, "--events", "-n", help="Total events to generate."),
    days: float = typer.Option(14.0, "--days", help="Time span ending now."),
    seed: int = typer.Option(0, "--seed", help="Random seed (same seed twice adds nothing)."),
    project: str = typer.Option("demo", "--project", help="Project the events belong to."),
    warehouse: str | None = WAREHOUSE_OPTION,
) -> None:
    """Fill the warehouse with realistic synthetic telemetry, then print a summary."""
    from ollive.demo.summary import print_summary
    from ollive.demo.synth import seed_warehouse
    from ollive.store import open_warehouse

    wh = open_warehouse(warehouse, get_settings())
    typer.echo(f"seeding {events:,} events over {days:g} days into {wh.url}")
    report = seed_warehouse(wh, events=events, days=days, seed=seed, project=project, progress=True)
    rate = report.total / max(report.seconds, 1e-9)
    typer.echo(f"inserted {report.total:,} rows in {report.seconds:.1f} s ({rate:,.0f} rows/s)")
    print_summary(wh, project=project, report=report)


@dlq_app.command("list")
def dlq_list() -> None:
    """Spooled batches waiting for the warehouse, per writer."""
    from ollive.store import spools_under

    for spool in spools_under(get_settings().spool_dir):
        for entry in spool.entries():
            name = spool.directory.name
            typer.echo(f"{name}\t{entry.table}\t{entry.token}\t{entry.age_s:.0f}s\t{entry.path}")


@dlq_app.command("replay")
def dlq_replay() -> None:
    """Insert every spooled batch (same idempotency token: never stored twice)."""
    from ollive.store import open_warehouse, replay_spool, spools_under

    warehouse = open_warehouse()
    for spool in spools_under(get_settings().spool_dir):
        report = replay_spool(
            spool,
            lambda table, data, token: warehouse.insert_arrow(table, data, token, verify=True),
        )
        done = f"{report.files} files, {report.rows} rows replayed, {report.left} left"
        typer.echo(f"{spool.directory.name}: {done}")
        if report.error:
            typer.echo(f"  stopped: {report.error}", err=True)
            raise typer.Exit(1)
