"""Platform commands: ``up``, ``down``, ``status``, ``demo``, ``ingest``, ``dashboard``,
``traffic``: start, stop and watch the embedded platform (or one part of it)."""

from __future__ import annotations

import json
import threading

from ollive.cli._supervise import (
    already_running,
    down,
    exit_now,
    print_urls,
    start_here,
    status,
    up,
    up_detached,
    wait_for_stop,
)
from ollive.cli._typer import open_resolved, typer
from ollive.config import DEMO_PROJECT, Settings, get_settings
from ollive.config.runfile import read_run_file, remove_run_file, write_run_file
from ollive.evaluate import DEMO_EVALUATIONS

__all__ = ["app"]

app = typer.Typer()


@app.command("up")
def up_command(
    dashboard: bool = typer.Option(True, help="Serve the dashboard."),
    chat: bool = typer.Option(True, help="Deploy the demo chatbot."),
    alerts: bool = typer.Option(True, help="Run the alert evaluator."),
    evaluations: bool = typer.Option(
        True, help="Run online evaluation when a rules file is set (OLLIVE_EVALUATIONS_FILE)."
    ),
    detach: bool = typer.Option(
        False,
        "--detach",
        help="Run in the background: return once every part answers (exit 0), or fail "
        "naming the part that did not start; the log is $OLLIVE_HOME/up.log.",
    ),
    timeout_s: float = typer.Option(
        900.0, "--timeout", help="With --detach: how long to wait for every part."
    ),
) -> None:
    """Start the platform (Ray, Valkey, warehouse, ingest, chatbot, dashboard, alerts, online
    evaluation) and supervise it until Ctrl-C or `ollive down`; the data is kept."""
    parts = {"dashboard": dashboard, "chat": chat, "alerts": alerts, "evaluations": evaluations}
    if detach:
        up_detached(get_settings(), timeout_s, **parts)
    else:
        up(get_settings(), **parts)


@app.command("down")
def down_command(
    timeout_s: float = typer.Option(120.0, help="How long to wait for a clean stop."),
) -> None:
    """Stop the running platform cleanly (writers drained); the data is kept."""
    down(get_settings(), timeout_s)


@app.command("status")
def status_command(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Each part's health and the warehouse's event counts."""
    status(get_settings(), as_json)


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
    _demo(get_settings(), traffic_s=traffic_s, rate=rate, history=history, exit_after=exit_after)


@app.command("ingest")
def ingest_command(
    port: int | None = typer.Option(None, help="HTTP port (default OLLIVE_INGEST_PORT)."),
) -> None:
    """Start the ingest app alone on the embedded default (Ray, Valkey, chDB); Ctrl-C or
    `ollive down` stops it; `ollive.connect()` in other processes reaches its warehouse."""
    from serve.local import serve_forever

    settings = get_settings()
    run = read_run_file(settings.run_file)
    if run is not None:
        typer.echo(
            f"`{run.get('command', 'ollive up')}` already runs from {settings.home} "
            f"(pid {run.get('pid')}); `ollive down` stops it, or set another OLLIVE_HOME",
            err=True,
        )
        raise typer.Exit(1)
    serve_forever(settings, port)


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
    """Serve the Panel dashboard (basic auth when OLLIVE_DASHBOARD_AUTH=user:password).

    With no platform running and the embedded warehouse, it starts the warehouse actor on a
    local Ray cluster and leaves a run file, so `ollive.connect()` in a notebook reaches
    the same data while it runs; `ollive down` or Ctrl-C stops it."""
    import signal
    import sys

    from ollive.ui.serve import serve_dashboard

    settings = get_settings()
    port = port or settings.dashboard_port
    url = f"http://{address}:{port}/"
    hosted = None
    if (
        warehouse is None
        and not settings.warehouse_url
        and read_run_file(settings.run_file) is None
    ):
        from serve.local import host_warehouse

        typer.echo("no platform runs: starting the warehouse actor (local Ray) for the dashboard")
        hosted = host_warehouse(settings)
        write_run_file(settings.run_file, hosted.record("ollive dashboard", {"dashboard": url}))
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # `ollive down`: clean exit
    try:
        login = _dashboard_login(settings, warehouse)
        typer.echo(f"Ollive dashboard on {url}")
        serve_dashboard(warehouse, port=port, address=address,
                        auth=login, project=project, refresh_s=refresh_s)  # fmt: skip
    finally:
        if hosted is not None:
            try:
                hosted.stop()
            finally:
                remove_run_file(settings.run_file)


def _dashboard_login(settings: Settings, warehouse: str | None) -> str | None:
    """OLLIVE_DASHBOARD_AUTH, else a generated login when API keys are stored (printed once)."""
    from ollive.ingest.keystore import list_keys
    from ollive.ui.auth import dashboard_login

    keys = settings.dashboard_auth is None and any(
        not k.revoked for k in list_keys(open_resolved(warehouse))
    )
    login = dashboard_login(settings.dashboard_auth, settings.home, keys_configured=keys)
    if login is not None and login.path is not None:
        typer.echo(
            f"API keys are configured: dashboard login {login.auth} (also in {login.path}); "
            "set OLLIVE_DASHBOARD_AUTH to choose it"
        )
    return None if login is None else login.auth


@app.command("traffic")
def traffic_command(
    url: str | None = typer.Option(
        None, help="The chatbot's /chat URL (default: http://OLLIVE_INGEST_HOST:PORT/chat)."
    ),
    rate: float = typer.Option(2.0, help="Turns started per second, at most (all users)."),
    duration: float = typer.Option(30.0, help="Seconds to run, at most."),
    turns: int | None = typer.Option(
        None, min=1, help="Stop after this many turns (within --duration)."
    ),
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
        turns=turns,
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


# --- what the commands do ---------------------------------------------------------------


def _seed_history(history: int) -> None:
    from ollive.demo.synth import seed_warehouse
    from ollive.store import open_warehouse

    warehouse = open_warehouse("ray://warehouse")
    if history and not warehouse.scalar(
        "SELECT count() FROM inference_logs WHERE project = 'demo' LIMIT 1"
    ):
        typer.echo(
            f"seeding {history:,} events of synthetic history (14 days) for the dashboards ..."
        )
        seed_warehouse(warehouse, events=history, progress=True)


def _demo(
    settings: Settings, traffic_s: float, rate: float, history: int, exit_after: bool
) -> None:
    from ollive.demo.traffic import TrafficConfig, print_report, run_traffic

    if settings.evaluations_path is None:  # the demo scores its chatbot's answers online
        settings = settings.model_copy(update={"evaluations_file": DEMO_EVALUATIONS})
    run = already_running(settings)
    platform = None if run else start_here(settings)
    urls = run["urls"] if run else platform.urls  # type: ignore[union-attr]
    try:
        if platform is not None:
            _seed_history(history)
        typer.echo(
            f"sending chat traffic for {traffic_s:g} s at {rate:g} turns/s to {urls['chat']} ..."
        )
        report = run_traffic(
            TrafficConfig(url=urls["chat"], rate=rate, duration_s=traffic_s), progress=True
        )
        print_report(report)
        _print_stored()
        print_urls(urls, "Ollive demo: the data is flowing")
        if platform is None or exit_after:
            return
        typer.echo(
            "serving with light traffic; Ctrl-C or `ollive down` stops it (the data is kept)."
        )
        background = _background_traffic(urls["chat"])
        wait_for_stop()
        background.set()
    finally:
        if platform is not None:
            platform.stop()
            typer.echo("stopped; the data is kept")
            exit_now()


def _print_stored() -> None:
    """What the warehouse holds now: the history plus the chat turns just sent."""
    from ollive.demo.summary import print_summary
    from ollive.store import open_warehouse

    try:
        print_summary(open_warehouse("ray://warehouse"), project=DEMO_PROJECT)
    except Exception as exc:  # the summary is a courtesy; the platform is what matters
        typer.echo(f"(no warehouse summary: {exc})", err=True)


def _background_traffic(url: str) -> threading.Event:
    """Keep a trickle of chat turns going so the dashboard stays live; set the event to stop."""
    from ollive.demo.traffic import TrafficConfig, run_traffic

    stop = threading.Event()

    def loop() -> None:
        seed = 1
        while not stop.is_set():
            try:
                run_traffic(TrafficConfig(url=url, rate=0.5, duration_s=30, users=3, seed=seed))
            except Exception:  # the platform may be stopping
                stop.wait(5)
            seed += 1

    threading.Thread(target=loop, name="ollive-demo-traffic", daemon=True).start()
    return stop
