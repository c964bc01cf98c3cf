"""What ``ollive up|down|status|demo`` do (wiring; the CLI module stays a list of commands)."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from typing import Any

import typer

from ollive.config.runfile import read_run_file
from ollive.config import DEMO_API_KEY, DEMO_PROJECT, Settings

__all__ = ["demo", "down", "status", "up"]


def _print_urls(urls: dict[str, str], title: str) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    table.add_column("part")
    table.add_column("URL")
    for name, url in urls.items():
        table.add_row(name, url)
    table.add_row(
        "notebooks", ".venv/bin/jupyter lab notebooks/   (ollive.connect() finds the platform)"
    )
    Console().print(table)
    typer.echo(f"API key of the embedded default: {DEMO_API_KEY} (project '{DEMO_PROJECT}')")


def _already_running(settings: Settings) -> dict[str, Any] | None:
    run = read_run_file(settings.run_file)
    if run is not None:
        _print_urls(run.get("urls", {}), f"Ollive is already running (pid {run.get('pid')})")
    return run


def _wait_for_stop() -> None:
    """Block until SIGTERM or Ctrl-C."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass


def _start(settings: Settings, **parts: bool) -> Any:
    from serve.platform import start_platform

    began = time.monotonic()
    platform = start_platform(settings, echo=typer.echo, **parts)
    typer.echo(f"platform up in {time.monotonic() - began:.1f} s")
    return platform


def up(settings: Settings, **parts: bool) -> None:
    if _already_running(settings):
        return
    platform = _start(settings, **parts)
    _print_urls(platform.urls, "Ollive is up")
    typer.echo("Ctrl-C or `ollive down` stops it (the data is kept).")
    try:
        _wait_for_stop()
    finally:
        platform.stop()
        typer.echo("stopped; the data is kept")
        _exit_now()


def _exit_now() -> None:
    """Exit the supervisor at once: everything it started is stopped, and third-party
    non-daemon threads (Ray/Serve clients) must not keep a stopped platform's pid alive."""
    import sys

    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def down(settings: Settings, timeout_s: float) -> None:
    run = read_run_file(settings.run_file)
    if run is None:
        typer.echo("nothing is running")
        return
    pid = int(run["pid"])
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not _running(pid):
            typer.echo(f"stopped the platform (pid {pid}); the data is kept")
            return
        time.sleep(0.3)
    os.kill(pid, signal.SIGKILL)
    typer.echo(
        f"the platform (pid {pid}) did not stop within {timeout_s:g} s and was killed", err=True
    )
    raise typer.Exit(1)


def _running(pid: int) -> bool:
    """True while ``pid`` runs; an exited process its parent has not reaped yet (a
    zombie) counts as stopped."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def status(settings: Settings, as_json: bool) -> None:
    from serve.platform import platform_status

    result = platform_status(settings)
    if as_json:
        typer.echo(json.dumps(result, default=str, sort_keys=True))
        return
    if not result["running"]:
        typer.echo("not running (`ollive up` starts it)")
        raise typer.Exit(3)
    typer.echo(f"running since {result['started_at']} (pid {result['pid']})")
    for name, state in result["parts"].items():
        typer.echo(f"  {name:<10} {state}")
    for table, count in result.get("rows", {}).items():
        typer.echo(f"  {table:<18} {count:>12,} rows")


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


def demo(settings: Settings, traffic_s: float, rate: float, history: int, exit_after: bool) -> None:
    from ollive.demo.traffic import TrafficConfig, print_report, run_traffic

    run = _already_running(settings)
    platform = None if run else _start(settings)
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
        _print_urls(urls, "Ollive demo: the data is flowing")
        if platform is None or exit_after:
            return
        typer.echo(
            "serving with light traffic; Ctrl-C or `ollive down` stops it (the data is kept)."
        )
        background = _background_traffic(urls["chat"])
        _wait_for_stop()
        background.set()
    finally:
        if platform is not None:
            platform.stop()
            typer.echo("stopped; the data is kept")
            _exit_now()


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
