"""End to end: `ollive ingest` in a subprocess, reached from other processes as a user would.

With `ollive ingest` running (a fresh OLLIVE_HOME, a user's environment: no Ray settings),
an event posted over HTTP is queried by a separate Python process through
`ollive.connect()`; `ollive status` sees it; `ollive down` stops it; and a process that opens
the directory itself is told who holds it and how to reach it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from tests.serve._serve import free_port

pytestmark = [pytest.mark.slow, pytest.mark.own_platform]

QUERY = r"""
import json, sys, time
import ollive
con = ollive.connect()
t = con.table("inference_logs")
deadline = time.monotonic() + 60
while (n := int(t.filter(t.request_id == sys.argv[1]).count().execute())) == 0 and time.monotonic() < deadline:
    time.sleep(0.3)
print(json.dumps({"found": n, "url": con.warehouse.url}))
"""

DIRECT = r"""
import sys
from ollive.errors import WarehouseLockedError
from ollive.store.chdb import ChdbWarehouse
try:
    ChdbWarehouse(sys.argv[1])
except WarehouseLockedError as exc:
    print(exc)
"""


@pytest.fixture(scope="module")
def user_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    # the environment of a user's shell: no Ollive settings, no Ray address or auth mode
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OLLIVE_", "RAY_"))}
    env["OLLIVE_HOME"] = str(tmp_path_factory.mktemp("ingest-home"))
    env["OLLIVE_INGEST_PORT"] = str(free_port())
    return env


def _event(request_id: str) -> dict[str, object]:
    now = datetime.now(UTC).isoformat()
    return {
        "schema_version": "1.0", "log_type": "inference", "request_id": request_id,
        "service": "ingest-command-test", "provider": "openai", "model": "gpt-4o-mini",
        "started_at": now, "finished_at": now, "status": "ok",
    }  # fmt: skip


def _run(env: dict[str, str], *args: str, timeout: float = 200) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], env=env, capture_output=True, text=True, timeout=timeout
    )


def test_ollive_ingest_is_reached_queried_and_stopped(user_env: dict[str, str]) -> None:
    home = Path(user_env["OLLIVE_HOME"])
    log = open(home / "ingest.log", "a")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(
        [sys.executable, "-m", "ollive.cli", "ingest"], env=user_env, stdout=log,
        stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 300
        while not (home / "run.json").exists():
            assert process.poll() is None, (home / "ingest.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "ollive ingest did not come up"
            time.sleep(1)
        run = json.loads((home / "run.json").read_text())
        assert run["command"] == "ollive ingest" and run["pid"] == process.pid

        request_id = str(uuid.uuid4())
        answer = httpx.post(
            run["urls"]["ingest"], json={"events": [_event(request_id)]},
            headers={"Authorization": f"Bearer {run['api_key']}"}, timeout=60,
        )  # fmt: skip
        assert answer.status_code == 202 and answer.json()["accepted"] == 1, answer.text

        out = _run(user_env, "-c", QUERY, request_id)
        assert out.returncode == 0, out.stderr[-3000:]
        assert json.loads(out.stdout.splitlines()[-1]) == {"found": 1, "url": "ray://warehouse"}

        status = _run(user_env, "-m", "ollive.cli", "status", "--json")
        assert json.loads(status.stdout.splitlines()[-1])["running"] is True, status.stderr

        locked = _run(user_env, "-c", DIRECT, str(home / "warehouse"))
        assert "held by pid" in locked.stdout and "ray::WarehouseActor" in locked.stdout
        assert "ollive.connect()" in locked.stdout, locked.stdout + locked.stderr

        again = _run(user_env, "-m", "ollive.cli", "ingest", timeout=120)
        assert again.returncode != 0 and "already runs" in again.stderr + again.stdout

        down = _run(user_env, "-m", "ollive.cli", "down")
        assert down.returncode == 0 and "`ollive ingest`" in down.stdout, down.stderr
        assert process.wait(timeout=60) == 0
        assert not (home / "run.json").exists()
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=120)
        log.close()
