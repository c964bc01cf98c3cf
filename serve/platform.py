"""The whole platform from one process: what ``ollive up`` and ``ollive demo`` run.

``start_platform`` starts (or joins, with ``OLLIVE_RAY_ADDRESS``) Ray, the embedded Valkey
unless ``OLLIVE_REDIS_URL``, the warehouse (the chDB actor unless ``OLLIVE_WAREHOUSE_URL``,
migrated), the ingest and chatbot Serve apps on one HTTP port, the dashboard (a ``panel
serve`` subprocess) and the alert evaluator actor, then writes the run file that
``ollive.connect()``, ``ollive status`` and ``ollive down`` read. The process that called it
is the platform's supervisor: SIGTERM (``ollive down``) or Ctrl-C stops everything cleanly —
writers drained, Serve and Ray shut down, Valkey stopped — and keeps the data.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import ray
from ray import serve

from ollive.cache import start_reaper
from ollive.config import Settings
from ollive.config.runfile import read_run_file, remove_run_file, write_run_file
from ollive.store.actor import NAMESPACE

__all__ = ["DEFAULT_ALERT_RULES", "Platform", "platform_status", "start_platform"]

log = logging.getLogger(__name__)

DEFAULT_ALERT_RULES: list[dict[str, Any]] = [
    {"name": "error rate above 10%", "metric": "error_rate", "by": "model", "detector": None,
     "threshold": 0.10, "window": "15m"},
    {"name": "anomalous latency", "metric": "latency", "by": "model", "detector": "seasonal"},
    {"name": "anomalous cost", "metric": "cost", "by": "service", "detector": "seasonal"},
]  # fmt: skip


@dataclass
class Platform:
    """A running platform; :meth:`stop` takes down what :func:`start_platform` started."""

    settings: Settings
    urls: dict[str, str]
    ingest: Any
    dashboard: subprocess.Popen[bytes] | None = None
    alerts: Any = None
    evaluator: Any = None
    started_at: float = field(default_factory=time.time)

    def stop(self) -> None:
        """Drain the writers, stop every part, remove the run file; the data stays."""
        log.info("stopping the platform")
        dashboard = self.dashboard
        if dashboard is not None and dashboard.poll() is None:
            dashboard.terminate()  # it stops (~3 s) while the Serve apps drain
        for actor in (self.alerts, self.evaluator):
            if actor is None:
                continue
            try:
                ray.get(actor.stop.remote(), timeout=5)
            except Exception as exc:
                log.debug("actor stop: %s", exc)
        try:
            serve.delete("chat")
        except Exception as exc:
            log.debug("serve.delete chat: %s", exc)
        self.ingest.stop(shutdown_ray=False)  # drains the writers into the warehouse
        try:
            serve.shutdown()
        except Exception as exc:
            log.debug("serve.shutdown: %s", exc)
        if self.settings.ray_address is None:
            ray.shutdown()
        if dashboard is not None:
            try:
                dashboard.wait(timeout=15)
            except subprocess.TimeoutExpired:
                dashboard.kill()
        remove_run_file(self.settings.run_file)


def _free(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _wait_http(url: str, timeout_s: float, ok: tuple[int, ...] = (200,)) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2.0).status_code in ok:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    return False


def start_platform(
    settings: Settings,
    *,
    dashboard: bool = True,
    chat: bool = True,
    alerts: bool = True,
    evaluations: bool = True,
    num_cpus: int = 4,
    echo: Any = print,
) -> Platform:
    """Start every part (see the module docstring) and return once each answers."""
    from serve.local import init_ray, run_record, start_local_ingest

    for name, port in (("ingest", settings.ingest_port), ("dashboard", settings.dashboard_port)):
        host = settings.ingest_host if name == "ingest" else "127.0.0.1"
        if not _free(host, port):
            raise RuntimeError(
                f"port {port} ({name}) is in use; stop what holds it or set "
                f"OLLIVE_{'INGEST' if name == 'ingest' else 'DASHBOARD'}_PORT"
            )
    began = time.monotonic()
    echo("starting Ray, Valkey, the warehouse and ingest ...")
    init_ray(settings.ray_address, num_cpus)
    ingest = start_local_ingest(settings, num_cpus=num_cpus)
    gcs = ray.get_runtime_context().gcs_address
    warehouse_url = settings.warehouse_url or "ray://warehouse"
    urls = ingest.urls()
    platform = Platform(settings, urls, ingest)
    try:
        if chat:
            echo("starting the chatbot ...")
            urls["chat"] = _start_chat(settings, ingest)
        if dashboard:
            echo("starting the dashboard ...")
            platform.dashboard, urls["dashboard"] = _start_dashboard(
                settings, gcs, warehouse_url, echo
            )
        if alerts:
            platform.alerts = _start_alerts(settings, warehouse_url)
        rules_file = settings.evaluations_path
        if evaluations and rules_file is not None:
            echo(f"starting online evaluation ({rules_file}) ...")
            platform.evaluator = _start_evaluator(settings, warehouse_url, rules_file)
        write_run_file(
            settings.run_file,
            {
                **run_record("ollive up", ingest, warehouse_url, urls),
                "startup_s": round(time.monotonic() - began, 1),
            },
        )
    except BaseException:
        platform.stop()
        raise
    return platform


def _start_chat(settings: Settings, ingest: Any) -> str:
    from serve.chatbot import ROUTE_PREFIX, ChatAppArgs, build_chat_app

    args = ChatAppArgs.from_settings(settings, ingest.redis_url, endpoint=f"{ingest.url}/v1")
    serve.run(build_chat_app(args), name="chat", route_prefix=ROUTE_PREFIX, blocking=False)
    url = f"{ingest.url}{ROUTE_PREFIX}"
    if not _wait_http(url, 180):
        raise RuntimeError(f"the chatbot did not become ready at {url}")
    return url


def _start_dashboard(
    settings: Settings, gcs: str, warehouse_url: str, echo: Any = print
) -> tuple[subprocess.Popen[bytes], str]:
    """``python -m ollive.ui`` as a child process, with the login of :func:`_dashboard_login`."""
    env = {**os.environ, "OLLIVE_RAY_ADDRESS": gcs, "OLLIVE_WAREHOUSE_URL": warehouse_url}
    login = _dashboard_login(settings, warehouse_url, echo)
    if login is not None:
        env["OLLIVE_DASHBOARD_AUTH"] = login
    log_path = settings.home / "dashboard.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    port = settings.dashboard_port
    command = [sys.executable, "-m", "ollive.ui", "--port", str(port), "--warehouse", warehouse_url]
    with open(log_path, "ab") as log_file:
        process = subprocess.Popen(
            command, env=env, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True
        )
    start_reaper(os.getpid(), process.pid)  # a killed supervisor does not leave it serving
    url = f"http://127.0.0.1:{port}"
    if not _wait_http(f"{url}/liveness", 120):  # the server listens; pages render on demand
        process.terminate()
        raise RuntimeError(f"the dashboard did not start at {url}; see {log_path}")
    return process, url


def _dashboard_login(settings: Settings, warehouse_url: str, echo: Any) -> str | None:
    """OLLIVE_DASHBOARD_AUTH, else a generated login when API keys are stored (printed once)."""
    from ollive.ingest.keystore import list_keys
    from ollive.store import open_warehouse
    from ollive.ui.auth import dashboard_login

    keys = settings.dashboard_auth is None and any(
        not k.revoked for k in list_keys(open_warehouse(warehouse_url))
    )
    login = dashboard_login(settings.dashboard_auth, settings.home, keys_configured=keys)
    if login is not None and login.path is not None:
        echo(
            f"API keys are configured: dashboard login {login.auth} (also in {login.path}); "
            "set OLLIVE_DASHBOARD_AUTH to choose it"
        )
    return None if login is None else login.auth


def _start_alerts(settings: Settings, warehouse_url: str) -> Any:
    from serve.alerts import AlertActor

    if settings.alert_rules_file is not None:
        from dataclasses import asdict

        from ollive.insights.alerts import load_rules

        rules = [asdict(r) for r in load_rules(settings.alert_rules_file)]
    else:
        rules = DEFAULT_ALERT_RULES
    actor = AlertActor.options(name="alerts", namespace=NAMESPACE, get_if_exists=True).remote(  # type: ignore[attr-defined]
        warehouse_url,
        rules,
        settings.alert_webhook_url or "",
        interval_s=settings.alert_interval_s,
        log_path=str(settings.home / "alerts.log"),
    )
    actor.start.remote()
    return actor


def _start_evaluator(settings: Settings, warehouse_url: str, rules_file: Path) -> Any:
    """The online evaluator (its rules are checked here first: a bad file fails `ollive up`)."""
    from ollive.evaluate.online import load_rules
    from serve.evaluator import EVALUATOR_ACTOR, OnlineEvaluatorActor, demo_models

    load_rules(rules_file, models=demo_models())
    actor = OnlineEvaluatorActor.options(  # type: ignore[attr-defined]
        name=EVALUATOR_ACTOR, namespace=NAMESPACE, get_if_exists=True
    ).remote(warehouse_url, str(rules_file), settings.evaluation_interval_s)
    ray.get(actor.ready.remote(), timeout=120)
    return actor


def platform_status(settings: Settings, counts: bool = True) -> dict[str, Any]:
    """Each part's health (and the warehouse's row counts) of the running platform."""
    run = read_run_file(settings.run_file)
    if run is None:
        return {"running": False}
    status: dict[str, Any] = {
        "running": True,
        "pid": run.get("pid"),
        "started_at": run.get("started_at"),
        "urls": run.get("urls", {}),
    }
    status["command"] = run.get("command", "ollive up")
    parts: dict[str, str] = {}
    if "ingest" in run.get("urls", {}):  # `ollive dashboard` alone runs no ingest
        base = run["urls"]["ingest"].removesuffix("/v1/logs")
        try:
            ready = httpx.get(f"{base}/readyz", timeout=5)
            parts["ingest"] = "ok" if ready.status_code == 200 else f"degraded: {ready.text[:200]}"
        except httpx.HTTPError as exc:
            parts["ingest"] = f"down: {exc}"
    for name, path in (("chat", ""), ("dashboard", "")):
        url = run["urls"].get(name)
        if url:
            try:
                code = httpx.get(url + path, timeout=5).status_code
                parts[name] = "ok" if code in (200, 302, 401) else f"HTTP {code}"
            except httpx.HTTPError as exc:
                parts[name] = f"down: {exc}"
    status["parts"] = parts
    if counts:
        try:
            from ollive.store import open_warehouse
            from ollive.store.maintenance import counts as row_counts

            warehouse = open_warehouse(run.get("warehouse_url"), settings)
            status["rows"] = row_counts(warehouse, final=False)
            parts["warehouse"] = "ok"
        except Exception as exc:
            parts["warehouse"] = f"down: {exc}"
    return status
