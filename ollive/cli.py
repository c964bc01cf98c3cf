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
def config_command() -> None:
    """Print the effective settings (secrets masked)."""
    settings = get_settings()
    for name, value in settings.model_dump().items():
        if value is not None and any(k in name for k in ("key", "auth", "password")):
            value = "***"
        typer.echo(f"OLLIVE_{name.upper()}={'' if value is None else value}")


@app.command("migrate")
def migrate_command(
    warehouse: str | None = typer.Option(None, "--warehouse", help="Warehouse URL (default: resolved)."),
    cluster: str | None = typer.Option(None, "--cluster", help="ClickHouse cluster name: ON CLUSTER + Replicated engines."),
) -> None:
    """Apply the numbered DDL files of sql/ that are not applied yet."""
    from ollive.store import open_warehouse

    wh = open_warehouse(warehouse, get_settings(), migrate=False)
    applied = wh.migrate(get_settings(), cluster=cluster)
    typer.echo(f"{wh.url}: " + (f"applied {', '.join(applied)}" if applied else "up to date"))


@app.command("seed")
def seed_command(
    events: int = typer.Option(1_000_000, "--events", "-n", help="Total events to generate."),
    days: float = typer.Option(14.0, "--days", help="Time span ending now."),
    seed: int = typer.Option(0, "--seed", help="Random seed (same seed twice adds nothing)."),
    project: str = typer.Option("demo", "--project", help="Project the events belong to."),
    warehouse: str | None = typer.Option(None, "--warehouse", help="Warehouse URL (default: resolved)."),
) -> None:
    """Fill the warehouse with realistic synthetic telemetry, then print a summary."""
    from ollive.demo.summary import print_summary
    from ollive.demo.synth import seed_warehouse
    from ollive.store import open_warehouse

    wh = open_warehouse(warehouse, get_settings())
    typer.echo(f"seeding {events:,} events over {days:g} days into {wh.url}")
    report = seed_warehouse(wh, events=events, days=days, seed=seed, project=project, progress=True)
    typer.echo(f"inserted {report.total:,} rows in {report.seconds:.1f} s ({report.total / max(report.seconds, 1e-9):,.0f} rows/s)")
    print_summary(wh, project=project, report=report)


@app.command("demo")
def demo_command(
    events: int = typer.Option(1_000_000, "--events", "-n", help="Synthetic history to seed when empty."),
) -> None:
    """The README's first command: the embedded warehouse, seeded, summarised."""
    from ollive.demo.summary import print_summary
    from ollive.demo.synth import seed_warehouse
    from ollive.store import open_warehouse

    wh = open_warehouse(None, get_settings())
    if not wh.scalar("SELECT count() FROM inference_logs WHERE project = 'demo'"):
        typer.echo(f"seeding {events:,} synthetic events into {wh.url}")
        seed_warehouse(wh, events=events, progress=True)
    print_summary(wh, project="demo")


@bench_app.command("warehouse")
def bench_warehouse_command(
    sizes: str = typer.Option("1000000,10000000", "--sizes", help="Comma-separated event counts."),
    repeats: int = typer.Option(30, "--repeats", help="Runs per query."),
) -> None:
    """Insert rows/s into chDB and MV vs raw query latency at each size."""
    from ollive.store._bench import run_warehouse_bench

    figures = run_warehouse_bench([int(s) for s in sizes.split(",")], repeats=repeats, echo=typer.echo)
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


def main() -> None:
    """Entry point of the ``ollive`` console script."""
    get_settings()  # validate the environment early, with a readable error
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
