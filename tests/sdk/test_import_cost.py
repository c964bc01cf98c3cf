"""``import ollive`` stays light: no platform library is loaded, and the benchmark reports it."""

from __future__ import annotations

import subprocess
import sys

HEAVY = {
    "chdb",
    "ibis",
    "numpy",
    "pandas",
    "panel",
    "presidio_analyzer",
    "pyarrow",
    "pydantic_settings",
    "ray",
}


def test_import_ollive_loads_no_heavy_library() -> None:
    code = (
        "import sys, ollive\n"
        "ollive.init(disabled=True)\n"
        f"print(sorted({HEAVY!r} & set(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_the_import_benchmark_reports_its_figures() -> None:
    from ollive.bench.imports import HEAVY_MODULES, run_import_bench

    assert set(HEAVY_MODULES) == HEAVY
    result = run_import_bench(runs=1)
    assert set(result) == {
        "import_ollive_ms",
        "import_httpx_ms",
        "import_ratio",
        "goal_ratio",
        "goal_met",
        "heavy_modules",
    }
    assert result["goal_ratio"] == 1.5 and result["heavy_modules"] == []
    assert result["import_ollive_ms"] > 0 and result["import_httpx_ms"] > 0
