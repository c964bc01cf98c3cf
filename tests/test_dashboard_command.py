"""End to end: `ollive dashboard` alone, reached from a notebook-like process as a user would.

With no platform running, `ollive dashboard` on the embedded warehouse (a fresh
OLLIVE_HOME, a user's environment: no Ray settings) hosts the warehouse actor and leaves a
run file, so a separate Python process queries the same data through `ollive.connect()`
while the dashboard serves it; `ollive status` sees it and `ollive down` stops it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.serve._serve import free_port

pytestmark = [pytest.mark.slow, pytest.mark.own_platform]

COUNT = r"""
import json
import ollive
con = ollive.connect()
t = con.table("inference_logs")
print(json.dumps({"rows": int(t.count().execute()), "url": con.warehouse.url}))
"""


@pytest.fixture(scope="module")
def user_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    # the environment of a user's shell: no Ollive settings, no Ray address or auth mode
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OLLIVE_", "RAY_"))}
    env["OLLIVE_HOME"] = str(tmp_path_factory.mktemp("dashboard-home"))
    return env


def _run(env: dict[str, str], *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], env=env, capture_output=True, text=True, timeout=timeout
    )


def test_ollive_dashboard_alone_is_reached_queried_and_stopped(user_env: dict[str, str]) -> None:
    home = Path(user_env["OLLIVE_HOME"])
    seeded = _run(user_env, "-m", "ollive.cli", "seed", "-n", "2000", "--days", "1")
    assert seeded.returncode == 0, seeded.stderr[-3000:]

    port = free_port()
    log = open(home / "dashboard.log", "a")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(
        [sys.executable, "-m", "ollive.cli", "dashboard", "--port", str(port), "--refresh", "0"],
        env=user_env, stdout=log, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 300
        while True:
            assert process.poll() is None, (home / "dashboard.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "ollive dashboard did not come up"
            try:
                if httpx.get(f"http://127.0.0.1:{port}/", timeout=30).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(1)
        run = json.loads((home / "run.json").read_text())
        assert run["command"] == "ollive dashboard" and run["pid"] == process.pid
        assert run["warehouse_url"] == "ray://warehouse" and str(port) in run["urls"]["dashboard"]

        out = _run(user_env, "-c", COUNT)
        assert out.returncode == 0, out.stderr[-3000:]
        answer = json.loads(out.stdout.splitlines()[-1])
        assert answer["url"] == "ray://warehouse" and answer["rows"] > 0, answer

        status = _run(user_env, "-m", "ollive.cli", "status", "--json")
        assert status.returncode == 0, status.stderr[-3000:]
        state = json.loads(status.stdout.splitlines()[-1])
        assert state["running"] is True and state["command"] == "ollive dashboard", state
        assert state["parts"] == {"dashboard": "ok", "warehouse": "ok"}, state
        assert state["rows"]["inference_logs"] > 0, state

        down = _run(user_env, "-m", "ollive.cli", "down")
        assert down.returncode == 0 and "`ollive dashboard`" in down.stdout, down.stderr
        assert process.wait(timeout=60) == 0
        assert not (home / "run.json").exists()
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=120)
        log.close()
