"""Ollive's ``remove_duplicates`` gives what Presidio's quadratic one gives: its scan for a
few results (up to ``FEW_RESULTS``) and its O(n log n) trees for more."""

from __future__ import annotations

import random

from ollive.redact._presidio import remove_duplicates


def _presidio_original(results: list) -> list:
    """Presidio 2.2's ``EntityRecognizer.remove_duplicates``, as its source reads (it is
    replaced process-wide when engines are built, so the reference is spelled out here)."""
    results = list(set(results))
    results = sorted(results, key=lambda x: (-x.score, x.start, -(x.end - x.start)))
    kept: list = []
    for result in results:
        if result.score == 0:
            continue
        keep = result not in kept
        if keep:
            for other in kept:
                if result.contained_in(other) and result.entity_type == other.entity_type:
                    keep = False
                    break
        if keep:
            kept.append(result)
    return kept


def test_same_results_as_presidios_on_random_sets() -> None:
    from presidio_analyzer import RecognizerResult

    rng = random.Random(1)

    def key(r) -> tuple:
        return (r.entity_type, r.start, r.end, r.score)

    for i in range(6_000):
        results = []
        for _ in range(rng.randint(0, 25) if i < 5_000 else rng.randint(17, 120)):
            start = rng.randint(0, 20)
            results.append(
                RecognizerResult(
                    rng.choice("AB"),
                    start,
                    start + rng.randint(1, 8),
                    rng.choice([0, 0.3, 0.5, 1.0]),
                )
            )
        want = sorted(map(key, _presidio_original(list(results))))
        assert sorted(map(key, remove_duplicates(list(results)))) == want
