"""Seed a chDB directory in a subprocess (the test process holds its own chDB directory)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def seed_directory(path: Path, events: int, days: float = 14.0) -> str:
    """Run ``ollive seed`` against ``chdb://<path>`` in a child process; returns the URL."""
    url = f"chdb://{path}"
    env = {**os.environ, "OLLIVE_HOME": str(path.parent / "home")}
    subprocess.run(
        [
            sys.executable,
            "-m",
            "ollive.cli",
            "seed",
            "--events",
            str(events),
            "--days",
            str(days),
            "--warehouse",
            url,
        ],
        check=True,
        env=env,
        capture_output=True,
        timeout=300,
    )
    return url
