"""``ollive bench …``: every benchmark; each ends by printing its figures as one JSON line."""

from __future__ import annotations

import json
from typing import Any

from ollive.cli._typer import typer
from ollive.config import get_settings

__all__ = ["app", "emit_figures"]

app = typer.Typer(help="Benchmarks; each ends by printing its figures as one JSON line.")


def emit_figures(figures: dict[str, Any]) -> None:
    """Print a benchmark's figures as one JSON line (the last line of every `ollive bench`)."""
    typer.echo(json.dumps(figures, sort_keys=True, default=str))


@app.command("insights")
def bench_insights(
    events: int = typer.Option(10_000_000, "--events", "-n", help="Synthetic events to seed."),
    repeats: int = typer.Option(20, "--repeats", help="Runs per insight function."),
    warehouse: str | None = typer.Option(
        None, "--warehouse", help="chDB URL (default: a fresh temp dir)."
    ),
) -> None:
    """p50/p95 latency of every insight function and of a full dashboard refresh."""
    from ollive.bench.insights import run_insights_bench

    emit_figures(
        run_insights_bench(events, repeats=repeats, warehouse_url=warehouse, echo=typer.echo)
    )


@app.command("ingest")
def bench_ingest(
    url: str | None = typer.Option(
        None, help="A running ingest (default: start one on the embedded default)."
    ),
    events: int = typer.Option(200_000, min=1, help="Events to send."),
    concurrency: int = typer.Option(8, min=1, help="Concurrent HTTP requests."),
    batch_size: int = typer.Option(1000, min=1, help="Events per gzip body."),
    api_key: str | None = typer.Option(None, help="Bearer key (default: ollive-demo)."),
    rate: float | None = typer.Option(
        None,
        min=0.001,
        help="Offered load in events/s, paced open-loop across the senders (default: as fast "
        "as they go); ack latency is then measured from each body's scheduled send time.",
    ),
) -> None:
    """End-to-end ingest throughput: acknowledged, then counted in the warehouse."""
    from ollive.bench.ingest import run_ingest_bench

    emit_figures(
        run_ingest_bench(get_settings(), url, events, concurrency, batch_size, api_key, rate=rate)
    )


@app.command("otlp")
def bench_otlp(
    url: str | None = typer.Option(
        None, help="A running ingest (default: start one on the embedded default)."
    ),
    spans: int = typer.Option(10_000, min=1, help="GenAI spans the OpenTelemetry app creates."),
    api_key: str | None = typer.Option(None, help="Bearer key (default: ollive-demo)."),
    max_export_batch_size: int = typer.Option(
        512, min=1, help="BatchSpanProcessor max_export_batch_size (the SDK's default: 512)."
    ),
    schedule_delay_ms: float = typer.Option(
        5000, min=0, help="BatchSpanProcessor schedule delay (the SDK's default: 5000 ms)."
    ),
    max_queue_size: int = typer.Option(
        2048, min=1, help="BatchSpanProcessor queue; spans past it are dropped (default: 2048)."
    ),
) -> None:
    """OpenTelemetry SDK app -> OTLP/HTTP /v1/traces: spans/s delivered, stored == sent."""
    from ollive.bench.otlp import run_otlp_bench

    emit_figures(
        run_otlp_bench(
            get_settings(),
            url,
            spans,
            api_key,
            max_export_batch_size=max_export_batch_size,
            schedule_delay_ms=schedule_delay_ms,
            max_queue_size=max_queue_size,
        )
    )


@app.command("capacity")
def bench_capacity(
    events: int = typer.Option(20_000, min=100, help="Events per stage."),
    batch_size: int = typer.Option(1000, min=1, help="Events per body."),
) -> None:
    """CPU us/event of every ingest stage (decode, validate, price, redact, claim, Arrow,
    hand-off, writer, WAL fsync, insert, marking) and OTLP conversion, for sizing."""
    from ollive.bench.capacity import run_capacity_bench

    emit_figures(run_capacity_bench(events, batch_size))


@app.command("chat")
def bench_chat(
    turns: int = typer.Option(20, min=2, help="Turns per arm at the realistic latency."),
    latency_scale: float = typer.Option(1.0, min=0.0, help="Demo model latency multiplier."),
    seed: int = typer.Option(0, help="Demo model seed (the same in both arms)."),
) -> None:
    """Latency the SDK adds to a chat turn: demo agent with and without instrumentation."""
    from ollive.bench.chat import run_chat_bench

    emit_figures(run_chat_bench(turns=turns, latency_scale=latency_scale, seed=seed))


@app.command("sdk")
def bench_sdk(
    calls: int = typer.Option(20_000, help="Timed calls per measured function."),
    events: int = typer.Option(100_000, help="Events pushed through the transport."),
    langfuse: bool = typer.Option(True, help="Also measure Langfuse's @observe (reference)."),
    burst: int = typer.Option(
        200_000, help="Events of the burst with default bounds (disk buffer); 0: skip."
    ),
) -> None:
    """SDK overhead per call (median/p99 µs), transport throughput and burst delivery, next
    to Langfuse."""
    from ollive.bench.sdk import render_table, run_sdk_bench

    figures = run_sdk_bench(calls=calls, events=events, with_langfuse=langfuse, burst_events=burst)
    typer.echo(render_table(figures))
    emit_figures(figures)


@app.command("import")
def bench_import(
    runs: int = typer.Option(15, min=3, help="Fresh interpreters per measured import."),
) -> None:
    """The cost of `import ollive` as a ratio to `import httpx`, measured in the same run."""
    from ollive.bench.imports import run_import_bench

    emit_figures(run_import_bench(runs=runs))


@app.command("warehouse")
def bench_warehouse(
    sizes: str = typer.Option("1000000,10000000", "--sizes", help="Comma-separated event counts."),
    repeats: int = typer.Option(30, "--repeats", help="Runs per query."),
) -> None:
    """Insert rows/s into chDB and MV vs raw query latency at each size."""
    from ollive.bench.warehouse import run_warehouse_bench

    sizes_n = [int(s) for s in sizes.split(",")]
    emit_figures(run_warehouse_bench(sizes_n, repeats=repeats, echo=typer.echo))


@app.command("redact")
def bench_redact(
    corpus: str = typer.Option(
        "faker", "--corpus", help="faker (the headline: Faker's values, 9 locales) or own."
    ),
    texts: int = typer.Option(5_000, "--texts", min=10, help="Corpus size."),
    seed: int = typer.Option(
        None, "--seed", help="Corpus seed (faker: the held-out seed 2; own: 7)."
    ),
    ner: bool = typer.Option(True, "--ner/--no-ner", help="faker: also time the NER path."),
    pools: bool = typer.Option(False, "--pools", help="own: also time thread vs process pools."),
) -> None:
    """PII redaction vs vanilla Presidio: recall/precision per type and locale, texts/s."""
    from ollive.bench.redact import run_faker_redact_bench, run_redact_bench

    if corpus == "faker":
        emit_figures(run_faker_redact_bench(texts=texts, seed=seed, ner=ner))
    elif corpus == "own":
        emit_figures(run_redact_bench(texts=texts, seed=7 if seed is None else seed, pools=pools))
    else:
        raise typer.BadParameter("use --corpus faker or --corpus own", param_hint="--corpus")


@app.command("evaluate")
def bench_evaluate(
    items: int = typer.Option(10_000, "--items", min=1, help="Dataset items of the experiment."),
    concurrency: int = typer.Option(4, "--concurrency", min=1, help="Experiment chunks at once."),
    online_seconds: float = typer.Option(
        60.0, "--online-seconds", min=1.0, help="How long demo-like traffic is produced."
    ),
    rate: float = typer.Option(
        2.0, "--rate", min=0.1, help="Chat turns per second (`ollive demo`'s default)."
    ),
    interval_s: float = typer.Option(
        2.0, "--interval", min=0.1, help="Seconds between online-evaluation steps."
    ),
    warehouse: str | None = typer.Option(
        None, "--warehouse", help="Warehouse URL (default: chDB in a fresh temp dir)."
    ),
) -> None:
    """Experiment items/s on Ray (scores written exactly), and the lag of online evaluation
    with the demo rules under demo-like traffic."""
    from ollive.bench.evaluate import run_evaluate_bench

    figures = run_evaluate_bench(
        items, concurrency=concurrency, online_seconds=online_seconds, rate=rate,
        interval_s=interval_s, warehouse_url=warehouse, echo=typer.echo,
    )  # fmt: skip
    emit_figures(figures)
    if not figures["ok"]:
        typer.echo("evaluate bench: scores missing or duplicated (see the figures)", err=True)
        raise typer.Exit(1)


@app.command("soak")
def bench_soak(
    minutes: float = typer.Option(10.0, "--minutes", min=0.1, help="How long to hold the load."),
    rate: float = typer.Option(500.0, "--rate", min=1.0, help="Events per second."),
    sample_s: float = typer.Option(
        10.0, "--sample", min=1.0, help="Seconds between memory samples."
    ),
) -> None:
    """Steady ingest load on the embedded platform: memory of every process, spool depth."""
    from ollive.bench.soak import run_soak

    figures = run_soak(get_settings(), minutes, rate=rate, sample_s=sample_s)
    emit_figures(figures)
    if figures["stored"] != figures["acknowledged"]:
        typer.echo(
            f"stored {figures['stored']} != acknowledged {figures['acknowledged']}", err=True
        )
        raise typer.Exit(1)
