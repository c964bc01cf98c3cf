"""End to end: `ollive up` in a subprocess, a chat turn over HTTP, its events queryable
through `ollive.connect()`, `ollive down`, and a second `ollive up` finding the same data.

Two faults ride along: chat messages full of PII go through the chatbot (SDK ->
ingest -> redaction -> warehouse) and no raw value is found in any column of any table; and
`ollive down` (SIGTERM to the `ollive up` supervisor) lands while a client streams events,
after which every acknowledged event is stored, the client's resend of the rest is answered
(duplicates as duplicates, across the restart) and every event is stored and counted once.

Everything is real: Ray, Serve, the embedded Valkey, the chDB warehouse actor, the SDK in
the chatbot replica, the dashboard subprocess. The pytest process holds its own chDB
directory, so the warehouse is queried from a separate process, as a notebook would.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests._procs import pids_matching
from tests.serve._serve import free_port

pytestmark = [pytest.mark.slow, pytest.mark.own_platform]

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


STORED = r"""
import json, sys, time
import ollive
from ollive.bench import count_service_rows
con = ollive.connect()
service = sys.argv[1]
# with an expected total: wait (here, not by starting this process again) until the FINAL
# counts reach it and two reads agree (a 202 means on the write-ahead log: the inserts follow)
expect = int(sys.argv[2]) if len(sys.argv) > 2 else 0
tables = ("inference_logs", "tool_executions", "application_logs", "scores")
deadline, before = time.monotonic() + 120, None
while True:
    counts = count_service_rows(con.warehouse, service)
    settled = counts == before and sum(counts[t + "_final"] for t in tables) >= expect
    if not expect or settled or time.monotonic() > deadline:
        break
    before = counts
    time.sleep(1)
union = " UNION ALL ".join(
    f"SELECT request_id FROM {t} WHERE service = '{service}'"
    for t in ("inference_logs", "tool_executions", "application_logs", "scores")
)
ids = con.warehouse.query_arrow(f"SELECT DISTINCT toString(request_id) AS id FROM ({union})")
# raw values to look for in every column of every table (stdin), in the same process
from ollive.store.deletion import find_values
values = json.loads(sys.stdin.read() or "[]")
leaked = find_values(con.warehouse, values) if values else []
print(json.dumps({"ids": ids.column("id").to_pylist(), "counts": counts, "leaked": leaked}))
"""

# after the PII turns, in one process (each fresh interpreter costs ~4 s to join the
# platform): the turns landed, none of their raw values is stored anywhere, the scan sees
# stored text (positive control), and the online evaluator scored the first answer
AFTER_TURNS = r"""
import json, sys, time
import ollive
from ollive.store.deletion import find_values
con = ollive.connect()
ask = json.loads(sys.stdin.read())
t = con.table("inference_logs")
ids = ask["ids"]
deadline = time.monotonic() + 60
while (n := int(t.filter(t.request_id.isin(ids)).count().execute())) < len(ids) and time.monotonic() < deadline:
    time.sleep(0.5)
leaked = find_values(con.warehouse, ask["values"])
control = find_values(con.warehouse, [ask["control"]])
deadline = time.monotonic() + 120
sql = ("SELECT count() FROM scores FINAL WHERE session_id = 'online:" + ask["rule"] + "' "
       "AND toString(target_request_id) = '" + ask["request_id"] + "'")
while (scored := int(con.warehouse.scalar(sql))) == 0 and time.monotonic() < deadline:
    time.sleep(1)
print(json.dumps({"landed": n, "leaked": leaked, "control": control, "scored": scored}))
"""

# an experiment from a notebook-like process: a dataset from a filter over the chatbot's
# traffic, a task calling the demo model under a prompt version (traced through the platform's
# ingest by the LangChain callback), scored by two evaluators on the platform's Ray cluster
EXPERIMENT = r"""
import json, time
import ollive
from ollive.chat import DemoChatModel
from ollive.evaluators import exact_match, not_refused
from ollive.integrations.langchain import CallbackHandler
con = ollive.connect()
t = con.table("inference_logs")
source = t.filter(t.service == "demo-chatbot", t.finish_reason == "stop").limit(4)
ds = ollive.datasets.create(con, "e2e-answers", source, expected_output="output_preview")

def task(item):
    model = DemoChatModel(latency_scale=0.0, error_rate=0.0, timeout_rate=0.0)
    with ollive.prompt("e2e-answer", version=2, template="Answer briefly: {input}"):
        return model.invoke(item["input"], config={"callbacks": [CallbackHandler()]}).content

run = ollive.experiments.run(ds, task, [not_refused(), exact_match()], name="e2e", progress=False)
results = run.to_pandas()
spans = con.table("tool_executions")
traced = spans.filter(spans.session_id == run.run_id)
inf = con.table("inference_logs")
prompted = inf.filter(inf.prompt_name == "e2e-answer", inf.prompt_version == "2")
deadline = time.monotonic() + 90
while (traced.count().execute() < len(results) or prompted.count().execute() < len(results))         and time.monotonic() < deadline:
    time.sleep(1)
print(json.dumps({"status": run.status, "items": run.items, "succeeded": run.succeeded,
                  "scores": int(results[["score.not_refused", "score.exact_match"]].notna().sum().sum()),
                  "traced": int(traced.count().execute()), "prompted": int(prompted.count().execute()),
                  "url": con.warehouse.url}))
"""

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def platform_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("platform-home")
    # the environment of a user's shell: no Ollive settings, no Ray address, and no
    # RAY_AUTH_* (the test session's own local Ray put RAY_AUTH_MODE=token into os.environ)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("OLLIVE_", "RAY_ADDRESS", "RAY_AUTH_"))
    }
    env.update(
        OLLIVE_HOME=str(home),
        OLLIVE_INGEST_PORT=str(free_port()),
        OLLIVE_DASHBOARD_PORT=str(free_port()),
        OLLIVE_CHAT_LATENCY_SCALE="0.05",
        OLLIVE_CHAT_ERROR_RATE="0",
        OLLIVE_CHAT_TIMEOUT_RATE="0",
        OLLIVE_ALERT_INTERVAL_S="3600",
        OLLIVE_EVALUATION_INTERVAL_S="1",
    )
    # online evaluation from the default place, $OLLIVE_HOME/evaluations.toml
    (home / "evaluations.toml").write_text(
        '[[rule]]\nname = "e2e-refusals"\nevaluator = "not_refused"\n'
        'where = { service = "demo-chatbot", finish_reason = "stop" }\n'
    )
    return env


def _up(env: dict[str, str]) -> tuple[subprocess.Popen[str], dict[str, object]]:
    log = open(Path(env["OLLIVE_HOME"]) / "up.log", "a")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(
        [sys.executable, "-m", "ollive.cli", "up"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    run_file = Path(env["OLLIVE_HOME"]) / "run.json"
    deadline = time.monotonic() + 420
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(
                f"ollive up exited with {process.returncode}: {(Path(env['OLLIVE_HOME']) / 'up.log').read_text()[-3000:]}"
            )
        if run_file.exists():
            return process, json.loads(run_file.read_text())
        time.sleep(1)
    process.send_signal(signal.SIGTERM)
    pytest.fail("ollive up did not come up within 420 s")


def _cli(env: dict[str, str], *args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    """``ollive <args>`` in a fresh interpreter, its output captured."""
    return subprocess.run(
        [sys.executable, "-m", "ollive.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _up_detached(env: dict[str, str]) -> int:
    """``ollive up --detach``: returns (exit 0) once every part answers; the platform's pid."""
    out = _cli(env, "up", "--detach", timeout=900)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]
    assert "Ollive is up" in out.stdout
    run = json.loads((Path(env["OLLIVE_HOME"]) / "run.json").read_text())
    return int(run["pid"])


def _down(env: dict[str, str], process: subprocess.Popen[str] | int) -> None:
    out = _cli(env, "down", timeout=200)
    assert out.returncode == 0, out.stderr
    assert "stopped" in out.stdout
    if isinstance(process, int):  # detached: not our child, so wait for its pid to go
        deadline = time.monotonic() + 60
        while Path(f"/proc/{process}").exists():
            assert time.monotonic() < deadline, "the detached platform did not exit"
            time.sleep(0.3)
    else:
        assert process.wait(timeout=60) == 0
    assert not (Path(env["OLLIVE_HOME"]) / "run.json").exists()


def _chat(url: str, message: str, conversation_id: str | None = None) -> dict[str, object]:
    events: list[tuple[str, dict[str, object]]] = []
    body = {"message": message, "user_id": "e2e-user", "conversation_id": conversation_id}
    with httpx.stream("POST", url, json=body, timeout=120) as response:
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


def _python(env: dict[str, str], script: str, *args: str, stdin: str | None = None) -> Any:
    """Run ``script`` in a fresh interpreter (it connects to the platform as a notebook would)."""
    out = subprocess.run(
        [sys.executable, "-c", script, *args],
        env=env,
        input=stdin or "",  # never the test's own stdin
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def _pii_messages(n: int = 10) -> tuple[list[str], list[str]]:
    """Chat messages cut from the seeded PII corpus, and the raw values they carry."""
    from ollive.demo.pii_corpus import generate_pii_corpus

    messages, values = [], set()
    for sample in generate_pii_corpus(400, seed=29):
        if sample.has_pii and len(messages) < n:
            end = max(sp.end for sp in sample.spans)
            start = max(0, min(sp.start for sp in sample.spans) - 200)
            messages.append(sample.text[start:end] + "\nCan you help me with this?")
            values |= {
                sample.text[sp.start : sp.end] for sp in sample.spans if sp.end - sp.start >= 6
            }
    return messages, sorted(values)


class _Load:
    """A client streaming bodies of events with 2 connections until the platform goes away;
    it remembers which bodies were acknowledged (202) and stops at the first failure."""

    def __init__(self, url: str, bodies: list[bytes]) -> None:
        self.url, self.bodies = url, bodies
        self.acked: set[int] = set()
        self._next = 0
        self._lock = threading.Lock()
        self.first_acks = threading.Event()
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(2)]
        for thread in self.threads:
            thread.start()

    def _run(self) -> None:
        from ollive.config import DEMO_API_KEY

        headers = {
            "Authorization": f"Bearer {DEMO_API_KEY}",
            "Content-Type": "application/json",
            "Content-Encoding": "gzip",
        }
        with httpx.Client(timeout=60) as client:
            while True:
                with self._lock:
                    index, self._next = self._next, self._next + 1
                if index >= len(self.bodies):
                    return
                try:
                    answer = client.post(
                        self.url + "/v1/logs", content=self.bodies[index], headers=headers
                    )
                except httpx.HTTPError:
                    return
                if answer.status_code != 202:
                    return
                with self._lock:
                    self.acked.add(index)
                    if len(self.acked) >= 5:
                        self.first_acks.set()

    def join(self) -> None:
        for thread in self.threads:
            thread.join(timeout=300)


def _query(
    env: dict[str, str], request_id: str, conversation: str, deadline_s: float, want_tools: bool
) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-c", QUERY, request_id, str(deadline_s), "1" if want_tools else "0", conversation],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_up_chat_query_down_up(platform_env: dict[str, str]) -> None:
    import gzip

    from ollive.bench import drive, make_events

    service = f"sigterm-{uuid.uuid4().hex[:8]}"
    events = make_events(40_000, service, seed=11)  # ~10 s of load: outlasts the shutdown
    bodies = [
        gzip.compress(json.dumps({"events": events[i : i + 200]}).encode())
        for i in range(0, len(events), 200)
    ]
    load: _Load | None = None

    process, run = _up(platform_env)
    try:
        urls = run["urls"]
        assert isinstance(urls, dict) and {"ingest", "chat", "dashboard"} <= set(urls)
        base = str(urls["ingest"]).removesuffix("/v1/logs")
        # idempotent: a second `ollive up` reports what is running and returns
        again = _cli(platform_env, "up", timeout=120)
        assert again.returncode == 0 and "already running" in again.stdout
        status = _cli(platform_env, "status", "--json", timeout=200)
        parts = json.loads(status.stdout)["parts"]
        assert parts["ingest"] == "ok" and parts["chat"] == "ok" and parts["dashboard"] == "ok", (
            parts
        )

        final = _chat(str(urls["chat"]), "What is 17 * 23? Please calculate it.")
        request_id = str(final["request_id"])
        assert "tool_call" in final["kinds"] and "tool_result" in final["kinds"]
        conversation = str(final["conversation_id"])
        # waits until the turn's events are stored (60 s at most: a bound, not a goal)
        found = _query(platform_env, request_id, conversation, deadline_s=60.0, want_tools=True)
        assert found["inference"] == 1, found
        assert found["tools"] >= 1, found
        assert str(found["url"]).startswith("ray://")

        # Valkey killed: the supervisor's watchdog restarts it on its port, with its data
        valkey_port = int(str(run["redis_url"]).rsplit(":", 1)[1].split("/")[0])
        (killed,) = pids_matching("valkey-server", f":{valkey_port}")
        os.kill(killed, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while pids_matching("valkey-server", f":{valkey_port}") in (set(), {killed}):
            assert time.monotonic() < deadline, "the embedded Valkey was not restarted"
            time.sleep(0.5)
        while httpx.get(base + "/readyz", timeout=30).json()["status"] != "ready":
            assert time.monotonic() < deadline, "ingest did not recover from the Valkey restart"
            time.sleep(0.5)
        # the conversation's memory is still there: the turn continues it
        follow = _chat(str(urls["chat"]), "And what is that plus one?", conversation)
        assert follow["conversation_id"] == conversation
        history = httpx.get(f"{urls['chat']}/{conversation}", timeout=30).json()["messages"]
        assert history[0]["content"] == "What is 17 * 23? Please calculate it.", history

        # PII never stored: through the chatbot, its SDK, ingest and redaction
        messages, values = _pii_messages()
        assert len(values) >= 12
        turns = [_chat(str(urls["chat"]), message) for message in messages]
        ask = {
            "ids": [t["request_id"] for t in turns],
            "values": values,
            "control": str(turns[-1]["conversation_id"]),
            "request_id": request_id,
            "rule": "e2e-refusals",
        }
        checked = _python(platform_env, AFTER_TURNS, stdin=json.dumps(ask))
        landed = checked["landed"]
        assert landed == len(turns), f"{landed} of {len(turns)} PII turns reached the warehouse"
        assert checked["leaked"] == []
        # positive control: the scan does see stored text
        assert any(table == "inference_logs" for table, _, _ in checked["control"]), checked
        # online evaluation: the chatbot's answer was scored by the platform's evaluator
        assert checked["scored"] == 1, checked
        # an experiment from another process, on the platform's Ray, traced via its ingest
        exp = _python(platform_env, EXPERIMENT)
        assert exp["status"] == "finished" and exp["succeeded"] == exp["items"] == 4, exp
        assert exp["scores"] == 8 and str(exp["url"]).startswith("ray://"), exp
        assert exp["traced"] == 4 and exp["prompted"] == 4, exp

        # SIGTERM to the supervisor (`ollive down`) while a client streams events
        load = _Load(base, bodies)
        assert load.first_acks.wait(120), "no body was acknowledged before the shutdown"
    finally:
        _down(platform_env, process)
    load.join()
    acked = sorted(load.acked)
    assert 5 <= len(acked) < len(bodies), "the shutdown did not land during the load"

    # the second start in the background: `ollive up --detach` returns once every part answers
    detached = _up_detached(platform_env)
    try:
        status = _cli(platform_env, "status", "--json", timeout=200)
        assert set(json.loads(status.stdout)["parts"].values()) == {"ok"}, status.stdout
        again = _query(platform_env, request_id, conversation, deadline_s=0.0, want_tools=True)
        assert again["inference"] == 1 and again["tools"] >= 1
        # every acknowledged event survived the shutdown
        acked_ids = {e["request_id"] for i in acked for e in events[i * 200 : (i + 1) * 200]}
        stored = set(_python(platform_env, STORED, service, str(len(acked_ids)))["ids"])
        assert acked_ids <= stored, f"{len(acked_ids - stored)} acknowledged events lost"
        # the client resends what was not acknowledged; across the restart a body stored but
        # not answered is answered as duplicates (the embedded Valkey persists its marks)
        rest = [body for i, body in enumerate(bodies) if i not in load.acked]
        result = drive(base, "ollive-demo", rest, concurrency=2)
        assert result.failures == 0 and result.rejected == 0
        assert result.accepted + result.duplicates == len(events) - len(acked_ids)
        print(f"\n[fault] sigterm: events={len(events)} acked_before={len(acked_ids)} "
              f"stored_after_restart={len(stored)} resent={len(events) - len(acked_ids)} "
              f"accepted={result.accepted} duplicates={result.duplicates} retries={result.retries}")  # fmt: skip
        table = {"inference": "inference_logs", "tool_execution": "tool_executions",
                 "application": "application_logs", "score": "scores"}  # fmt: skip
        expected = dict.fromkeys(table.values(), 0)
        for e in events:
            expected[table[e["log_type"]]] += 1
        # with, in the same process, the scan for raw PII once everything the chatbot sent
        # before the shutdown is in
        final = _python(platform_env, STORED, service, str(len(events)), stdin=json.dumps(values))
        counts = final["counts"]
        assert sum(counts[f"{t}_final"] for t in expected) == len(events), counts
        for name, n in expected.items():
            assert counts[f"{name}_final"] == n and counts[name] == n, (name, counts)  # stored once
        assert counts["inference_stats_5m"] == expected["inference_logs"], counts  # counted once
        assert counts["tool_stats_5m"] == expected["tool_executions"], counts
        assert final["leaked"] == [], final["leaked"]  # still no raw PII

        # SIGKILL of the supervisor under load: nothing it started outlives it, the next
        # start finds no stale state, and every acknowledged event is stored
        killed_events = make_events(40_000, f"sigkill-{uuid.uuid4().hex[:8]}", seed=12)
        killed_bodies = [
            gzip.compress(json.dumps({"events": killed_events[i : i + 200]}).encode())
            for i in range(0, len(killed_events), 200)
        ]
        load = _Load(base, killed_bodies)
        assert load.first_acks.wait(120), "no body was acknowledged before the kill"
        valkey_port = int(str(json.loads((Path(platform_env["OLLIVE_HOME"]) / "run.json")
                                         .read_text())["redis_url"]).rsplit(":", 1)[1].split("/")[0])  # fmt: skip
        os.kill(detached, signal.SIGKILL)
    except BaseException:
        _down(platform_env, detached)
        raise
    load.join()
    killed_acked = {
        e["request_id"] for i in load.acked for e in killed_events[i * 200 : (i + 1) * 200]
    }
    deadline = time.monotonic() + 90
    while (left := pids_matching("valkey-server", f":{valkey_port}")) or pids_matching(
        "ollive.ui", platform_env["OLLIVE_DASHBOARD_PORT"]
    ):
        assert time.monotonic() < deadline, f"orphans of the killed supervisor: {left}"
        time.sleep(0.5)
    restarted = _up_detached(platform_env)
    try:
        # what was acknowledged may be only on the write-ahead log: the restarted writers
        # replay it, so wait until at least that many events are stored
        service = killed_events[0]["service"]
        stored = set(_python(platform_env, STORED, service, str(len(killed_acked)))["ids"])
        print(f"\n[fault] sigkill: acked_before={len(killed_acked)} stored_after_restart="
              f"{len(stored & killed_acked)}")  # fmt: skip
        assert killed_acked and killed_acked <= stored, f"{len(killed_acked - stored)} lost"
    finally:
        _down(platform_env, restarted)
