"""The run file of a running platform (``$OLLIVE_HOME/run.json``), written by ``ollive up``.

It tells other processes (notebooks, the CLI) where the platform is: the Ray address and
how to authenticate to it, the pid of the process that started it, and the URLs it serves.
A run file whose Ray head is gone is stale and ignored.

Ray 2.5x starts a new local cluster in token-auth mode and keeps the token in
``~/.ray/auth_token``; a process that joins by an explicit address must run in token mode
too. The run file records the mode (and a non-default token path, never the token), and
:func:`ray_auth_env` turns that into the environment a joining process needs.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = [
    "ray_auth_env",
    "ray_auth_record",
    "read_run_file",
    "remove_run_file",
    "write_run_file",
]

#: Ray's environment variables for token authentication
RAY_AUTH_MODE = "RAY_AUTH_MODE"
RAY_AUTH_TOKEN_PATH = "RAY_AUTH_TOKEN_PATH"


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


def ray_auth_record(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """What the run file records of this process's Ray authentication (after ``ray.init``,
    which sets ``RAY_AUTH_MODE=token`` in the environment of a process that starts a new
    local cluster): the mode, and the token file when it is not Ray's default."""
    env = os.environ if environ is None else environ
    record = {"ray_auth_mode": env.get(RAY_AUTH_MODE, "disabled").lower()}
    if env.get(RAY_AUTH_TOKEN_PATH):
        record["ray_auth_token_path"] = str(Path(env[RAY_AUTH_TOKEN_PATH]).resolve())
    return record


def ray_auth_env(
    run: Mapping[str, Any], environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The variables a process must add to its environment to join the platform's Ray.

    Nothing the process set itself is overridden: an explicit ``RAY_AUTH_MODE`` (or a token
    given by ``RAY_AUTH_TOKEN``/``RAY_AUTH_TOKEN_PATH``) wins over the run file.
    """
    env = os.environ if environ is None else environ
    if run.get("ray_auth_mode") != "token" or RAY_AUTH_MODE in env:
        return {}
    wanted = {RAY_AUTH_MODE: "token"}
    path = run.get("ray_auth_token_path")
    if path and not (env.get("RAY_AUTH_TOKEN") or env.get(RAY_AUTH_TOKEN_PATH)):
        wanted[RAY_AUTH_TOKEN_PATH] = str(path)
    return wanted
