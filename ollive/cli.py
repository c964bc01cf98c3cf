"""The ``ollive`` command: ``ollive up|down|status|demo|dashboard|traffic|bench|migrate|seed|…``.

Wiring only: each command reads :class:`~ollive.config.Settings` once, binds the concrete
parts and calls into the packages. Heavy imports happen inside the commands.
"""

from __future__ import annotations

import json
import sys
from typing import Any

try:
    import typer
except ImportError:  # pragma: no cover - the base install is the SDK alone
    sys.stderr.write(
        "The `ollive` command needs the CLI extras: pip install 'ollive[platform]' "
        "(or 'ollive[all]').\n"
    )
    raise SystemExit(2) from None

from ollive.config import get_settings

app = typer.Typer(
    name="ollive",
    help="Ollive: observability for LLM products.",
    no_args_is_help=True,
    add_completion=False,
)
bench_app = typer.Typer(help="Benchmarks; each ends by printing its figures as one JSON line.")
app.add_typer(bench_app, name="bench")


def emit_figures(figures: dict[str, Any]) -> None:
    """Print a benchmark's figures as one JSON line (the last line of every `ollive bench`)."""
    typer.echo(json.dumps(figures, sort_keys=True, default=str))


# --- commands are registered below, one section per package --------------------------

# --- insights and ui: dashboard, bench insights -----------------------------------------


@app.command("dashboard")
def dashboard_command(
    port: int | None = typer.Option(
        None, "--port", help="Port (default: OLLIVE_DASHBOARD_PORT, 5006)."
    ),
    warehouse: str | None = typer.Option(
        None, "--warehouse", help="Warehouse URL (default: resolved)."
    ),
    address: str = typer.Option("127.0.0.1", "--address", help="Interface to listen on."),
    project: str | None = typer.Option(None, "--project", help="Only this project (default: all)."),
    refresh_s: float = typer.Option(60.0, "--refresh", help="Seconds between refreshes (0: off)."),
) -> None:
    """Serve the Panel dashboard (basic auth when OLLIVE_DASHBOARD_AUTH=user:password)."""
    from ollive._hardening_cli import dashboard_login  # login when API keys exist
    from ollive.ui.serve import serve_dashboard

    settings = get_settings()
    typer.echo(f"Ollive dashboard on http://{address}:{port or settings.dashboard_port}/")
    serve_dashboard(warehouse, port=port or settings.dashboard_port, address=address,
                    auth=dashboard_login(warehouse), project=project, refresh_s=refresh_s)  # fmt: skip


@bench_app.command("insights")
def bench_insights_command(
    events: int = typer.Option(10_000_000, "--events", "-n", help="Synthetic events to seed."),
    repeats: int = typer.Option(20, "--repeats", help="Runs per insight function."),
    warehouse: str | None = typer.Option(
        None, "--warehouse", help="chDB URL (default: a fresh temp dir)."
    ),
) -> None:
    """p50/p95 latency of every insight function and of a full dashboard refresh."""
    from ollive.ui._bench import run_insights_bench

    figures = run_insights_bench(events, repeats=repeats, warehouse_url=warehouse, echo=typer.echo)
    emit_figures(figures)


# --- ingest: ingest, dlq, bench ingest ------------------------------------------------
dlq_app = typer.Typer(help="The writers' dead-letter queue (spooled Arrow batches).")
app.add_typer(dlq_app, name="dlq")


@app.command("ingest")
def ingest_command(
    port: int | None = typer.Option(None, help="HTTP port (default OLLIVE_INGEST_PORT)."),
) -> None:
    """Start the ingest app alone on the embedded default (Ray, Valkey, chDB); Ctrl-C stops it."""
    from serve.local import serve_forever

    serve_forever(get_settings(), port)


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
        report = replay_spool(spool, warehouse.insert_arrow)
        done = f"{report.files} files, {report.rows} rows replayed, {report.left} left"
        typer.echo(f"{spool.directory.name}: {done}")
        if report.error:
            typer.echo(f"  stopped: {report.error}", err=True)
            raise typer.Exit(1)


@bench_app.command("ingest")
def bench_ingest(
    url: str | None = typer.Option(
        None, help="A running ingest (default: start one on the embedded default)."
    ),
    events: int = typer.Option(200_000, min=1, help="Events to send."),
    concurrency: int = typer.Option(8, min=1, help="Concurrent HTTP requests."),
    batch_size: int = typer.Option(1000, min=1, help="Events per gzip body."),
    api_key: str | None = typer.Option(None, help="Bearer key (default: ollive-demo)."),
) -> None:
    """End-to-end ingest throughput: acknowledged, then counted in the warehouse."""
    from serve.bench import run_ingest_bench

    emit_figures(run_ingest_bench(get_settings(), url, events, concurrency, batch_size, api_key))


@bench_app.command("capacity")
def bench_capacity(
    events: int = typer.Option(20_000, min=100, help="Events per stage."),
    batch_size: int = typer.Option(1000, min=1, help="Events per body."),
) -> None:
    """CPU cost per ingest stage (replica pipeline, OTLP, warehouse insert), for sizing."""
    from serve.capacity import run_capacity_bench

    emit_figures(run_capacity_bench(events, batch_size))


# --- demo: traffic ------------------------------------------------------------------------


@app.command("traffic")
def traffic_command(
    url: str | None = typer.Option(
        None, help="The chatbot's /chat URL (default: http://OLLIVE_INGEST_HOST:PORT/chat)."
    ),
    rate: float = typer.Option(2.0, help="Turns started per second, at most (all users)."),
    duration: float = typer.Option(30.0, help="Seconds to run."),
    users: int = typer.Option(8, min=1, help="Concurrent simulated users."),
    seed: int = typer.Option(0, help="Same seed, same users and messages."),
    pii_rate: float = typer.Option(0.1, min=0.0, max=1.0, help="Share of messages with PII."),
    cancel_rate: float = typer.Option(0.03, min=0.0, max=1.0, help="Share of turns cancelled."),
    think_scale: float = typer.Option(1.0, min=0.0, help="Multiplies the users' think time."),
    json_out: bool = typer.Option(False, "--json", help="Print the summary as one JSON line."),
) -> None:
    """Simulated users chatting with the demo chatbot over HTTP; a summary at the end."""
    from ollive.demo.traffic import TrafficConfig, print_report, run_traffic

    settings = get_settings()
    config = TrafficConfig(
        url=url or f"http://{settings.ingest_host}:{settings.ingest_port}/chat",
        rate=rate,
        duration_s=duration,
        users=users,
        seed=seed,
        pii_rate=pii_rate,
        cancel_rate=cancel_rate,
        think_scale=think_scale,
    )
    report = run_traffic(config, progress=not json_out)
    if json_out:
        typer.echo(json.dumps(report.as_dict(), sort_keys=True))
    else:
        print_report(report)
    if report.results and not any(r.outcome == "final" for r in report.results):
        raise typer.Exit(1)
    if not report.results:
        typer.echo(f"no turn completed: is the chatbot up at {config.chat_url}?", err=True)
        raise typer.Exit(1)


@bench_app.command("chat")
def bench_chat_command(
    turns: int = typer.Option(20, min=2, help="Turns per arm at the realistic latency."),
    latency_scale: float = typer.Option(1.0, min=0.0, help="Demo model latency multiplier."),
    seed: int = typer.Option(0, help="Demo model seed (the same in both arms)."),
) -> None:
    """Latency the SDK adds to a chat turn: demo agent with and without instrumentation."""
    from ollive.chat._bench import run_chat_bench

    emit_figures(run_chat_bench(turns=turns, latency_scale=latency_scale, seed=seed))


# --- sdk: bench ------------------------------------------------------------------------


@bench_app.command("sdk")
def bench_sdk_command(
    calls: int = typer.Option(20_000, help="Timed calls per measured function."),
    events: int = typer.Option(100_000, help="Events pushed through the transport."),
    langfuse: bool = typer.Option(True, help="Also measure Langfuse's @observe (reference)."),
) -> None:
    """SDK overhead per call (median/p99 µs) and transport throughput, next to Langfuse."""
    from ollive.sdk._bench import render_table, run_sdk_bench

    figures = run_sdk_bench(calls=calls, events=events, with_langfuse=langfuse)
    typer.echo(render_table(figures))
    emit_figures(figures)


# --- platform: up, down, status, demo --------------------------------------------------


@app.command("up")
def up_command(
    dashboard: bool = typer.Option(True, help="Serve the dashboard."),
    chat: bool = typer.Option(True, help="Deploy the demo chatbot."),
    alerts: bool = typer.Option(True, help="Run the alert evaluator."),
) -> None:
    """Start the platform (Ray, Valkey, warehouse, ingest, chatbot, dashboard, alerts) and
    supervise it until Ctrl-C or `ollive down`; the data is kept."""
    from ollive import _platform_cli

    _platform_cli.up(get_settings(), dashboard=dashboard, chat=chat, alerts=alerts)


@app.command("down")
def down_command(
    timeout_s: float = typer.Option(120.0, help="How long to wait for a clean stop."),
) -> None:
    """Stop the running platform cleanly (writers drained); the data is kept."""
    from ollive import _platform_cli

    _platform_cli.down(get_settings(), timeout_s)


@app.command("status")
def status_command(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Each part's health and the warehouse's event counts."""
    from ollive import _platform_cli

    _platform_cli.status(get_settings(), as_json)


@app.command("demo")
def demo_command(
    traffic_s: float = typer.Option(30.0, "--traffic-seconds", help="Chat traffic to send first."),
    rate: float = typer.Option(
        2.0, "--rate", help="Chat turns per second during the demo traffic."
    ),
    history: int = typer.Option(
        200_000, "--history", help="Synthetic history to seed into an empty warehouse."
    ),
    exit_after: bool = typer.Option(
        False, "--exit", help="Stop after the traffic instead of serving on."
    ),
) -> None:
    """The README's first command: `ollive up`, a history of synthetic telemetry, live chat
    traffic, then the URLs of the chatbot, the dashboard and the notebooks."""
    from ollive import _platform_cli

    _platform_cli.demo(
        get_settings(), traffic_s=traffic_s, rate=rate, history=history, exit_after=exit_after
    )


# --- foundation: schema, migrate, seed, warehouse bench ---------------------------------


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
        from ollive._config_doc import DOC_PATH, render_config_doc

        DOC_PATH.write_text(render_config_doc(), "utf-8")
        typer.echo(f"wrote {DOC_PATH}")
        return
    settings = get_settings()
    for name, value in settings.model_dump().items():
        if value is not None and any(k in name for k in ("key", "auth", "password")):
            value = "***"
        typer.echo(f"OLLIVE_{name.upper()}={'' if value is None else value}")


@app.command("migrate")
def migrate_command(
    warehouse: str | None = typer.Option(
        None, "--warehouse", help="Warehouse URL (default: resolved)."
    ),
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
    warehouse: str | None = typer.Option(
        None, "--warehouse", help="Warehouse URL (default: resolved)."
    ),
) -> None:
    """Fill the warehouse with realistic synthetic telemetry, then print a summary."""
    from ollive.demo.summary import print_summary
    from ollive.demo.synth import seed_warehouse
    from ollive.store import open_warehouse

    wh = open_warehouse(warehouse, get_settings())
    typer.echo(f"seeding {events:,} events over {days:g} days into {wh.url}")
    report = seed_warehouse(wh, events=events, days=days, seed=seed, project=project, progress=True)
    typer.echo(
        f"inserted {report.total:,} rows in {report.seconds:.1f} s ({report.total / max(report.seconds, 1e-9):,.0f} rows/s)"
    )
    print_summary(wh, project=project, report=report)


@bench_app.command("warehouse")
def bench_warehouse_command(
    sizes: str = typer.Option("1000000,10000000", "--sizes", help="Comma-separated event counts."),
    repeats: int = typer.Option(30, "--repeats", help="Runs per query."),
) -> None:
    """Insert rows/s into chDB and MV vs raw query latency at each size."""
    from ollive.bench.warehouse import run_warehouse_bench

    figures = run_warehouse_bench(
        [int(s) for s in sizes.split(",")], repeats=repeats, echo=typer.echo
    )
    emit_figures(figures)


# --- ingest: bench redact (PII redaction) ------------------------------------------------
@bench_app.command("redact")
def bench_redact(
    texts: int = typer.Option(5_000, "--texts", min=10, help="Corpus size (seeded PII corpus)."),
    seed: int = typer.Option(7, "--seed", help="Corpus seed."),
    pools: bool = typer.Option(False, "--pools", help="Also time thread vs process pools."),
) -> None:
    """PII redaction: plain Presidio vs Ollive's path, identical findings, recall/precision."""
    from ollive.ingest._redact_bench import run_redact_bench

    figures = run_redact_bench(texts=texts, seed=seed, pools=pools)
    emit_figures(figures)


# --- hardening: keys, delete, retention -----------------------------------------
from ollive._hardening_cli import (  # noqa: E402
    delete_command,
    keys_app,
    retention_command,
    soak_command,
)

app.add_typer(keys_app, name="keys")
bench_app.command("soak")(soak_command)
app.command("delete")(delete_command)
app.command("retention")(retention_command)
# --- end of hardening -------------------------------------------------------------------


def main() -> None:
    """Entry point of the ``ollive`` console script."""
    get_settings()  # validate the environment early, with a readable error
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
