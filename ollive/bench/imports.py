"""``ollive bench import``: what ``import ollive`` costs an application, against ``import httpx``.

Each sample is a fresh interpreter (``python -c``) that times its one import with
``time.perf_counter`` around the ``import`` statement itself, so interpreter start-up and
``site`` are left out of both figures. Samples of the two imports are interleaved (ollive,
httpx, ollive, ...) so that a busy machine slows both alike, and the median of each is
reported. One untimed run of each comes first, with bytecode writing allowed, so that both are
measured from cached bytecode, as an installed package is.

The goal: ``import ollive`` within 1.5 times ``import httpx`` (the one HTTP library the SDK
depends on, which itself imports its command line's click and rich), and none of the heavy
libraries of the platform side loaded.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from typing import Any

__all__ = ["HEAVY_MODULES", "run_import_bench"]

#: what ``import ollive`` must not load (the platform's libraries)
HEAVY_MODULES = (
    "chdb",
    "ibis",
    "numpy",
    "pandas",
    "panel",
    "presidio_analyzer",
    "pyarrow",
    "pydantic_settings",
    "ray",
)
GOAL_RATIO = 1.5
_TIMED = "import time\nt = time.perf_counter()\nimport {module}\nprint(time.perf_counter() - t)\n"
_LOADED = "import sys, json\nimport ollive\nprint(json.dumps(sorted(set(sys.modules) & {heavy})))\n"


def run_import_bench(runs: int = 15) -> dict[str, Any]:
    """Median wall time (ms) of ``import ollive`` and ``import httpx`` over ``runs`` fresh
    interpreters each, their ratio, the goal and which heavy modules ``import ollive`` loads."""
    env = _env()
    for module in ("ollive", "httpx"):  # warm-up: write the bytecode caches
        _time_import(module, env)
    samples: dict[str, list[float]] = {"ollive": [], "httpx": []}
    for _ in range(max(runs, 1)):
        for module, times in samples.items():
            times.append(_time_import(module, env))
    ollive_ms = statistics.median(samples["ollive"])
    httpx_ms = statistics.median(samples["httpx"])
    ratio = ollive_ms / httpx_ms if httpx_ms > 0 else float("inf")
    return {
        "import_ollive_ms": round(ollive_ms, 2),
        "import_httpx_ms": round(httpx_ms, 2),
        "import_ratio": round(ratio, 3),
        "goal_ratio": GOAL_RATIO,
        "goal_met": ratio <= GOAL_RATIO,
        "heavy_modules": heavy_modules_loaded(env),
    }


def heavy_modules_loaded(env: dict[str, str] | None = None) -> list[str]:
    """Which of :data:`HEAVY_MODULES` a fresh ``import ollive`` leaves in ``sys.modules``."""
    code = _LOADED.format(heavy=repr(set(HEAVY_MODULES)))
    return list(json.loads(_run(code, env or _env())))


def _time_import(module: str, env: dict[str, str]) -> float:
    """Milliseconds one fresh interpreter spends in ``import <module>``."""
    return float(_run(_TIMED.format(module=module), env)) * 1000


def _run(code: str, env: dict[str, str]) -> str:
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env
    )
    if out.returncode != 0:
        raise RuntimeError(f"the import benchmark's interpreter failed: {out.stderr[-2000:]}")
    return out.stdout.strip().splitlines()[-1]


def _env() -> dict[str, str]:
    """The environment of the samples: bytecode caching allowed, as for an installed package."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env
