"""Admin commands: ``keys create|list|revoke``, ``delete``, ``retention``.

They open the resolved warehouse (the running platform's actor, or the embedded directory)
and call :mod:`ollive.ingest.keystore` and :mod:`ollive.store.deletion`.
"""

from __future__ import annotations

from ollive.cli._typer import WAREHOUSE_OPTION, open_resolved, typer
from ollive.config import get_settings

__all__ = ["app"]

app = typer.Typer()
keys_app = typer.Typer(help="API keys: each belongs to one project; stored hashed, shown once.")
app.add_typer(keys_app, name="keys")


@keys_app.command("create")
def keys_create(
    project: str = typer.Option(
        ..., "--project", help="The project events sent with the key land in."
    ),
    name: str = typer.Option("", "--name", help="A label (who or what uses the key)."),
    warehouse: str | None = WAREHOUSE_OPTION,
) -> None:
    """Create a key and print it once (only its salted SHA-256 hash is stored)."""
    from ollive.ingest.keystore import create_key

    record, key = create_key(open_resolved(warehouse), project, name)
    typer.echo(
        f"created key {record.key_id} for project {record.project!r}; store it now, it is not shown again:"
    )
    typer.echo(key)


@keys_app.command("list")
def keys_list(
    project: str | None = typer.Option(None, "--project", help="Only this project's keys."),
    warehouse: str | None = WAREHOUSE_OPTION,
) -> None:
    """Stored keys: id, project, name, created, state (never the key)."""
    from ollive.ingest.keystore import list_keys

    keys = list_keys(open_resolved(warehouse), project)
    if not keys:
        typer.echo(
            "no stored keys (the embedded demo key `ollive-demo` -> project `demo` is built in)"
        )
    for k in keys:
        state = f"revoked {k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked and k.revoked_at else "active"
        typer.echo(
            f"{k.key_id}\t{k.project}\t{k.name or '-'}\t{k.created_at:%Y-%m-%d %H:%M}\t{state}"
        )


@keys_app.command("revoke")
def keys_revoke(
    key_id: str = typer.Argument(..., help="The key id (`ollive keys list`)."),
    project: str | None = typer.Option(
        None, "--project", help="Check the key belongs to this project."
    ),
    warehouse: str | None = WAREHOUSE_OPTION,
) -> None:
    """Revoke a key: ingest refuses it within OLLIVE_KEY_REFRESH_S (5 s) plus one query."""
    from ollive.ingest.keystore import revoke_key

    key = revoke_key(open_resolved(warehouse), key_id, project)
    typer.echo(f"revoked key {key.key_id} of project {key.project!r}")


@app.command("delete")
def delete_command(
    conversation: str | None = typer.Option(
        None, "--conversation", help="Delete this conversation's rows."
    ),
    user: str | None = typer.Option(
        None, "--user", help="Delete this user's rows (erasure request)."
    ),
    before: str | None = typer.Option(
        None, "--before", help="Delete rows older than this ISO date/time (UTC)."
    ),
    project: str | None = typer.Option(
        None, "--project", help="Only in this project (default: every project)."
    ),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Only count what would be deleted."),
    warehouse: str | None = WAREHOUSE_OPTION,
) -> None:
    """Delete raw rows from all four tables and rebuild the aggregates they fed."""
    from ollive.errors import ConfigError
    from ollive.store.deletion import execute_deletion, plan_deletion

    wh = open_resolved(warehouse)
    try:
        plan = plan_deletion(
            wh, conversation=conversation, user=user, before=before, project=project
        )
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    typer.echo(f"matching {plan.describe()}:")
    for table, count in plan.counts.items():
        typer.echo(f"  {table}: {count:,} rows")
    buckets = sum(len(b) for b in plan.buckets.values())
    typer.echo(f"  aggregate buckets to rebuild: {buckets:,}")
    if dry_run or plan.total == 0:
        typer.echo("nothing deleted" + (" (dry run)" if dry_run else ""))
        return
    if not yes and not typer.confirm(f"delete {plan.total:,} rows?"):
        typer.echo("nothing deleted")
        raise typer.Exit(1)
    execute_deletion(wh, plan)
    typer.echo(f"deleted {plan.total:,} rows and rebuilt {buckets:,} buckets")


@app.command("retention")
def retention_command(
    apply: bool = typer.Option(
        False, "--apply", help="Set the tables' TTLs to the OLLIVE_TTL_*_DAYS settings."
    ),
    warehouse: str | None = WAREHOUSE_OPTION,
) -> None:
    """Show the retention settings; with --apply, change the TTL of the existing tables."""
    from ollive.store.deletion import apply_retention

    s = get_settings()
    days = {
        "inference_logs": s.ttl_inference_days,
        "tool_executions": s.ttl_tool_days,
        "application_logs": s.ttl_application_days,
        "scores": s.ttl_scores_days,
    }
    for table, n in days.items():
        typer.echo(f"{table}: {n} days")
    if apply:
        applied = apply_retention(open_resolved(warehouse), s)
        typer.echo(f"applied TTLs to {', '.join(applied)}")
