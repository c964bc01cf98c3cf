"""Supervising the platform for the CLI: start it in the foreground or detached, stop it,
report its health. The commands of :mod:`ollive.cli.platform` call these."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from typing import Any

from ollive.cli._typer import typer
from ollive.config import DEMO_API_KEY, DEMO_PROJECT, Settings
from ollive.config.runfile import read_run_file

__all__ = [
    "already_running", "down", "exit_now", "print_urls", "start_here", "status", "up",
    "up_detached", "wait_for_stop",
]  # fmt: skip


def print_urls(urls: dict[str, str], title: str) -> None:
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


def already_running(settings: Settings) -> dict[str, Any] | None:
    run = read_run_file(settings.run_file)
    if run is not None:
        print_urls(run.get("urls", {}), f"Ollive is already running (pid {run.get('pid')})")
    return run


def wait_for_stop() -> None:
    """Block until SIGTERM or Ctrl-C."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass


def start_here(settings: Settings, **parts: bool) -> Any:
    from serve.platform import start_platform

    began = time.monotonic()
    platform = start_platform(settings, echo=typer.echo, **parts)
    typer.echo(f"platform up in {time.monotonic() - began:.1f} s")
    return platform


def up(settings: Settings, **parts: bool) -> None:
    if already_running(settings):
        return
    platform = start_here(settings, **parts)
    print_urls(platform.urls, "Ollive is up")
    typer.echo("Ctrl-C or `ollive down` stops it (the data is kept).")
    try:
        wait_for_stop()
    finally:
        platform.stop()
        typer.echo("stopped; the data is kept")
        exit_now()


def up_detached(settings: Settings, timeout_s: float, **parts: bool) -> None:
    """``ollive up`` as a background process of its own session, its output in
    ``$OLLIVE_HOME/up.log``; return once it has written the run file (every part answered)
    and ``ollive status`` sees each part healthy."""
    import subprocess
    import sys

    if already_running(settings):
        return
    log_path = settings.home / "up.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    flags = [f"--{'' if on else 'no-'}{name}" for name, on in parts.items()]
    with open(log_path, "ab") as log:
        start = log.tell()
        process = subprocess.Popen(
            [sys.executable, "-m", "ollive.cli", "up", *flags],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C in this terminal does not reach it
            env={**os.environ, "_TYPER_STANDARD_TRACEBACK": "1"},  # plain lines in the log
        )  # fmt: skip
    typer.echo(f"starting the platform in the background (pid {process.pid}, log {log_path}) ...")
    deadline = time.monotonic() + timeout_s
    while True:
        if process.poll() is not None:
            _detached_failed(log_path, start, f"exited with code {process.returncode}")
        run = read_run_file(settings.run_file)
        if run is not None and run.get("pid") == process.pid and _all_parts_ok(settings):
            print_urls(run.get("urls", {}), f"Ollive is up (pid {process.pid})")
            typer.echo("`ollive status` shows its health; `ollive down` stops it.")
            return
        if time.monotonic() > deadline:
            process.terminate()
            _detached_failed(log_path, start, f"did not come up within {timeout_s:g} s")
        time.sleep(1.0)


def _all_parts_ok(settings: Settings) -> bool:
    from serve.platform import platform_status

    health = platform_status(settings, counts=False)
    return bool(health.get("running")) and all(v == "ok" for v in health.get("parts", {}).values())


def _detached_failed(log_path: Any, start: int, what: str) -> None:
    """Say which part did not start (the last "starting ..." line of the log), the error,
    and the end of the log; exit 1."""
    with open(log_path, "rb") as log:
        log.seek(start)
        lines = log.read().decode(errors="replace").splitlines()
    steps = [ln for ln in lines if ln.startswith("starting ")]
    errors = [ln for ln in lines if ln and not ln.startswith(" ") and "Error" in ln.split(":")[0]]
    part = f"while starting {steps[-1].removeprefix('starting ').rstrip(' .')}" if steps else ""
    typer.echo(f"ollive up {what} {part or 'before starting any part'}", err=True)
    if errors:
        typer.echo(errors[-1], err=True)
    typer.echo(f"--- the last lines of {log_path} ---", err=True)
    typer.echo("\n".join(lines[-25:]), err=True)
    raise typer.Exit(1)


def exit_now() -> None:
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
    what = f"`{run.get('command', 'ollive up')}` (pid {pid})"
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not _running(pid):
            typer.echo(f"stopped {what}; the data is kept")
            return
        time.sleep(0.3)
    os.kill(pid, signal.SIGKILL)
    typer.echo(f"{what} did not stop within {timeout_s:g} s and was killed", err=True)
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
