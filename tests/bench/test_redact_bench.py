"""``ollive bench redact --corpus faker`` on a few texts: its figures and how Ollive is timed."""

from __future__ import annotations

import json

import pytest

from ollive.bench.redact import OLLIVE_PASSES, run_faker_redact_bench


def test_faker_bench_times_ollive_over_passes_spread_over_presidio_s() -> None:
    figures = run_faker_redact_bench(texts=60, ner=False, progress=False)
    json.dumps(figures)  # printed as one JSON line
    passes = figures["ollive"]["passes_cpu_s"]
    assert len(passes) == OLLIVE_PASSES and all(p > 0 for p in passes)
    mean = sum(passes) / len(passes)
    # the ratio is Presidio's CPU time over the mean of Ollive's passes (each pass of these
    # 60 texts takes ~10 ms and is printed in whole ms, hence the tolerance)
    assert figures["ollive"]["texts_per_cpu_s"] == pytest.approx(60 / mean, rel=0.15)
    assert figures["speedup_cpu"] == pytest.approx(
        figures["ollive"]["texts_per_cpu_s"] / figures["presidio"]["texts_per_cpu_s"], rel=0.05
    )
    assert figures["identical_to_full_pass"] and figures["errors"] == 0
    assert figures["held_out"] and figures["goals_met"]["identical_to_full_pass"]
