"""The run file of a running platform (``$OLLIVE_HOME/run.json``), written by ``ollive up``.

It tells other processes (notebooks, the CLI) where the platform is: the Ray address, the
pid of the process that started it, and the URLs it serves. A run file whose Ray head is
gone is stale and ignored.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

__all__ = ["read_run_file", "remove_run_file", "write_run_file"]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_run_file(path: Path) -> dict[str, Any] | None:
    """The run file's content when the platform it describes is still alive, else None."""
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    pids = [p for p in (data.get("ray_head_pid"), data.get("pid")) if isinstance(p, int)]
    if not pids or not any(_alive(p) for p in pids):
        return None
    return data


def write_run_file(path: Path, data: dict[str, Any]) -> None:
    """Write atomically (readers never see half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True), "utf-8")
    tmp.replace(path)


def remove_run_file(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
