"""End to end: `ollive up` in a subprocess, a chat turn over HTTP, its events queryable
through `ollive.connect()`, `ollive down`, and a second `ollive up` finding the same data.

Everything is real: Ray, Serve, the embedded Valkey, the chDB warehouse actor, the SDK in
the chatbot replica, the dashboard subprocess. The pytest process holds its own chDB
directory, so the warehouse is queried from a separate process, as a notebook would.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow

QUERY = r"""
import json, sys, time
import ollive
rid, conversation = sys.argv[1], sys.argv[4]
deadline = float(sys.argv[2])
con = ollive.connect()
started = time.monotonic()
inf = tools = 0
while True:
    t = con.table("inference_logs")
    inf = t.filter(t.request_id == rid).count().execute()
    tt = con.table("tool_executions")
    ti = t.filter(t.conversation_id == conversation)
    # tool events of the conversation, each linked to one of its inference events
    linked = tt.filter(tt.conversation_id == conversation).join(ti, tt.parent_request_id == ti.request_id)
    tools = linked.count().execute()
    if inf and (tools or sys.argv[3] == "0") or time.monotonic() - started > deadline:
        break
    time.sleep(0.2)
print(json.dumps({"inference": int(inf), "tools": int(tools), "elapsed_s": time.monotonic() - started,
                  "url": con.warehouse.url}))
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def platform_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("platform-home")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OLLIVE_", "RAY_ADDRESS"))}
    env.update(
        OLLIVE_HOME=str(home),
        OLLIVE_INGEST_PORT=str(_free_port()),
        OLLIVE_DASHBOARD_PORT=str(_free_port()),
        OLLIVE_CHAT_LATENCY_SCALE="0.05",
        OLLIVE_CHAT_ERROR_RATE="0",
        OLLIVE_CHAT_TIMEOUT_RATE="0",
        OLLIVE_ALERT_INTERVAL_S="3600",
    )
    return env


def _up(env: dict[str, str]) -> tuple[subprocess.Popen[str], dict[str, object]]:
    log = open(Path(env["OLLIVE_HOME"]) / "up.log", "a")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(
        [sys.executable, "-m", "ollive.cli", "up"], env=env, stdout=log, stderr=subprocess.STDOUT, text=True
    )
    run_file = Path(env["OLLIVE_HOME"]) / "run.json"
    deadline = time.monotonic() + 420
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"ollive up exited with {process.returncode}: {(Path(env['OLLIVE_HOME']) / 'up.log').read_text()[-3000:]}")
        if run_file.exists():
            return process, json.loads(run_file.read_text())
        time.sleep(1)
    process.send_signal(signal.SIGTERM)
    pytest.fail("ollive up did not come up within 420 s")


def _down(env: dict[str, str], process: subprocess.Popen[str]) -> None:
    out = subprocess.run([sys.executable, "-m", "ollive.cli", "down"], env=env, capture_output=True, text=True, timeout=200)
    assert out.returncode == 0, out.stderr
    assert "stopped" in out.stdout
    assert process.wait(timeout=60) == 0
    assert not (Path(env["OLLIVE_HOME"]) / "run.json").exists()


def _chat(url: str, message: str) -> dict[str, object]:
    events: list[tuple[str, dict[str, object]]] = []
    with httpx.stream("POST", url, json={"message": message, "user_id": "e2e-user"}, timeout=120) as response:
        assert response.status_code == 200
        kind = None
        for line in response.iter_lines():
            if line.startswith("event:"):
                kind = line.split(":", 1)[1].strip()
            elif line.startswith("data:") and kind:
                events.append((kind, json.loads(line.split(":", 1)[1])))
    kinds = [k for k, _ in events]
    assert "final" in kinds, kinds
    final = dict(events[kinds.index("final")][1])
    final["kinds"] = kinds
    return final


def _query(env: dict[str, str], request_id: str, conversation: str, deadline_s: float, want_tools: bool) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-c", QUERY, request_id, str(deadline_s), "1" if want_tools else "0", conversation],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_up_chat_query_down_up(platform_env: dict[str, str]) -> None:
    process, run = _up(platform_env)
    try:
        urls = run["urls"]
        assert isinstance(urls, dict) and {"ingest", "chat", "dashboard"} <= set(urls)
        # idempotent: a second `ollive up` reports what is running and returns
        again = subprocess.run([sys.executable, "-m", "ollive.cli", "up"], env=platform_env, capture_output=True, text=True, timeout=120)
        assert again.returncode == 0 and "already running" in again.stdout
        status = subprocess.run([sys.executable, "-m", "ollive.cli", "status", "--json"], env=platform_env, capture_output=True, text=True, timeout=200)
        parts = json.loads(status.stdout)["parts"]
        assert parts["ingest"] == "ok" and parts["chat"] == "ok" and parts["dashboard"] == "ok", parts

        final = _chat(str(urls["chat"]), "What is 17 * 23? Please calculate it.")
        request_id = str(final["request_id"])
        assert "tool_call" in final["kinds"] and "tool_result" in final["kinds"]
        conversation = str(final["conversation_id"])
        found = _query(platform_env, request_id, conversation, deadline_s=5.0, want_tools=True)
        assert found["inference"] == 1, found
        assert found["tools"] >= 1, found
        assert str(found["url"]).startswith("ray://")
    finally:
        _down(platform_env, process)

    process, _ = _up(platform_env)
    try:
        again = _query(platform_env, request_id, conversation, deadline_s=0.0, want_tools=True)
        assert again["inference"] == 1 and again["tools"] >= 1
    finally:
        _down(platform_env, process)
