"""`ollive up --detach` that cannot start says which part failed, with its log, and exits 1.

(The successful path, returning once every part answers, is exercised by the end-to-end
platform test, whose second start is detached.)
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.serve._serve import free_port

pytestmark = pytest.mark.own_platform


def test_detach_names_the_part_that_did_not_start(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OLLIVE_", "RAY_"))}
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        env.update(
            OLLIVE_HOME=str(tmp_path),
            OLLIVE_INGEST_PORT=str(free_port()),
            OLLIVE_DASHBOARD_PORT=str(taken.getsockname()[1]),
        )
        out = subprocess.run(
            [sys.executable, "-m", "ollive.cli", "up", "--detach", "--timeout", "120"],
            env=env, capture_output=True, text=True, timeout=180,
        )  # fmt: skip
    assert out.returncode == 1, out.stdout + out.stderr
    assert "(dashboard) is in use" in out.stderr and "OLLIVE_DASHBOARD_PORT" in out.stderr
    assert str(tmp_path / "up.log") in out.stderr + out.stdout
    assert not (tmp_path / "run.json").exists()
