"""``ollive keys create|list|revoke``, ``ollive delete`` and ``ollive retention``.

Wiring: these commands open the resolved warehouse (the running platform's actor, or the
embedded directory) and call :mod:`ollive.ingest.keystore` and :mod:`ollive.store.deletion`.
"""

from __future__ import annotations

import typer

from ollive.config import get_settings

__all__ = ["dashboard_login", "delete_command", "keys_app", "retention_command", "soak_command"]

keys_app = typer.Typer(help="API keys: each belongs to one project; stored hashed, shown once.")

_WAREHOUSE = typer.Option(None, "--warehouse", help="Warehouse URL (default: resolved).")


def _open(url: str | None):  # type: ignore[no-untyped-def]
    from ollive.store import open_warehouse

    return open_warehouse(url, get_settings())


@keys_app.command("create")
def keys_create(
    project: str = typer.Option(
        ..., "--project", help="The project events sent with the key land in."
    ),
    name: str = typer.Option("", "--name", help="A label (who or what uses the key)."),
    warehouse: str | None = _WAREHOUSE,
) -> None:
    """Create a key and print it once (only its salted SHA-256 hash is stored)."""
    from ollive.ingest.keystore import create_key

    record, key = create_key(_open(warehouse), project, name)
    typer.echo(
        f"created key {record.key_id} for project {record.project!r}; store it now, it is not shown again:"
    )
    typer.echo(key)


@keys_app.command("list")
def keys_list(
    project: str | None = typer.Option(None, "--project", help="Only this project's keys."),
    warehouse: str | None = _WAREHOUSE,
) -> None:
    """Stored keys: id, project, name, created, state (never the key)."""
    from ollive.ingest.keystore import list_keys

    keys = list_keys(_open(warehouse), project)
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
    warehouse: str | None = _WAREHOUSE,
) -> None:
    """Revoke a key: ingest refuses it within OLLIVE_KEY_REFRESH_S (5 s) plus one query."""
    from ollive.ingest.keystore import revoke_key

    key = revoke_key(_open(warehouse), key_id, project)
    typer.echo(f"revoked key {key.key_id} of project {key.project!r}")


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
    warehouse: str | None = _WAREHOUSE,
) -> None:
    """Delete raw rows from all four tables and rebuild the aggregates they fed."""
    from ollive.errors import ConfigError
    from ollive.store.deletion import execute_deletion, plan_deletion

    wh = _open(warehouse)
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


def retention_command(
    apply: bool = typer.Option(
        False, "--apply", help="Set the tables' TTLs to the OLLIVE_TTL_*_DAYS settings."
    ),
    warehouse: str | None = _WAREHOUSE,
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
        applied = apply_retention(_open(warehouse), s)
        typer.echo(f"applied TTLs to {', '.join(applied)}")


def dashboard_login(warehouse_url: str | None) -> str | None:
    """The dashboard's ``user:password``: OLLIVE_DASHBOARD_AUTH, else a generated one when
    API keys are configured (printed once and written to ``$OLLIVE_HOME/dashboard.auth``)."""
    import secrets

    from ollive.ingest.keystore import list_keys

    settings = get_settings()
    if settings.dashboard_auth:
        return settings.dashboard_auth
    if not any(not k.revoked for k in list_keys(_open(warehouse_url))):
        return None  # the embedded default: only the demo key, no login
    login = f"admin:{secrets.token_urlsafe(18)}"
    path = settings.home / "dashboard.auth"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(login + "\n", "utf-8")
    typer.echo(
        f"API keys are configured: dashboard login {login} (also in {path}); set OLLIVE_DASHBOARD_AUTH to choose it"
    )
    return login


def soak_command(
    minutes: float = typer.Option(10.0, "--minutes", min=0.1, help="How long to hold the load."),
    rate: float = typer.Option(500.0, "--rate", min=1.0, help="Events per second."),
    sample_s: float = typer.Option(
        10.0, "--sample", min=1.0, help="Seconds between memory samples."
    ),
) -> None:
    """Steady ingest load on the embedded platform: memory of every process, spool depth."""
    from ollive.cli import emit_figures
    from serve.soak import run_soak

    figures = run_soak(get_settings(), minutes, rate=rate, sample_s=sample_s)
    emit_figures(figures)
    if figures["stored"] != figures["acknowledged"]:
        typer.echo(
            f"stored {figures['stored']} != acknowledged {figures['acknowledged']}", err=True
        )
        raise typer.Exit(1)
