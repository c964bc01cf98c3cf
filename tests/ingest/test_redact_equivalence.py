"""The fast path returns Presidio's answers, and the default policy beats vanilla Presidio.

The full pass is Presidio's own ``AnalyzerEngine.analyze`` + ``AnonymizerEngine`` over the
whole text (``Redactor(fast=False)``). To keep the suite short, the default run compares
a seeded subset of the 5,000-text corpus (1,500 texts for the default policy, 300 for the
vanilla configuration, whose full pass runs at ~100 texts/s); ``ollive bench redact``
compares every text of the corpus.
"""

from __future__ import annotations

import random

import pytest

from ollive.demo import LABELLED_ENTITIES, PiiSample, generate_pii_corpus
from ollive.ingest import DEFAULT_POLICY, RedactionPolicy, RedactionResult, Redactor
from ollive.ingest._redact_eval import score_against_labels


@pytest.fixture(scope="module")
def corpus() -> list[PiiSample]:
    return generate_pii_corpus(5_000, seed=7)


def _subset(corpus: list[PiiSample], n: int) -> list[PiiSample]:
    return random.Random(11).sample(corpus, n)


def _assert_identical(
    fast: list[RedactionResult], full: list[RedactionResult], samples: list[PiiSample]
) -> None:
    diff = [i for i, (a, b) in enumerate(zip(fast, full, strict=True)) if a != b]
    assert not diff, [(samples[i].text[:200], fast[i].findings, full[i].findings) for i in diff[:3]]


@pytest.fixture(scope="module")
def vanilla_runs(corpus) -> tuple[list[PiiSample], list[RedactionResult], list[RedactionResult]]:
    samples = _subset(corpus, 300)
    texts = [s.text for s in samples]
    policy = RedactionPolicy.vanilla()
    full = Redactor(policy, fast=False, cache_size=0).redact_batch(texts)
    fast = Redactor(policy, cache_size=0).redact_batch(texts)
    return samples, fast, full


@pytest.fixture(scope="module")
def default_runs(corpus) -> tuple[list[PiiSample], list[RedactionResult], list[RedactionResult]]:
    samples = _subset(corpus, 1_500)
    texts = [s.text for s in samples]
    full = Redactor(DEFAULT_POLICY, fast=False, cache_size=0).redact_batch(texts)
    fast = Redactor(DEFAULT_POLICY, cache_size=0).redact_batch(texts)
    return samples, fast, full


def test_fast_path_equals_presidio_for_the_vanilla_configuration(vanilla_runs) -> None:
    samples, fast, full = vanilla_runs
    assert sum(bool(r.findings) for r in full) > 200  # vanilla flags nearly everything
    _assert_identical(fast, full, samples)


def test_fast_path_equals_presidio_for_the_default_policy(default_runs) -> None:
    samples, fast, full = default_runs
    assert sum(bool(r.findings) for r in full) > 300
    _assert_identical(fast, full, samples)


def test_default_policy_beats_vanilla_on_the_labels(vanilla_runs, default_runs) -> None:
    v_samples, _, vanilla = vanilla_runs
    d_samples, default, _ = default_runs
    vanilla_score = score_against_labels(v_samples, vanilla, LABELLED_ENTITIES)
    # the same 300 texts through the default policy, for a like-for-like comparison
    by_text = {s.text: r for s, r in zip(d_samples, default, strict=True)}
    redactor = Redactor(DEFAULT_POLICY, cache_size=0)
    same = [by_text.get(s.text) or redactor.redact(s.text) for s in v_samples]
    default_score = score_against_labels(v_samples, same, LABELLED_ENTITIES)
    for entity in LABELLED_ENTITIES:
        v, d = vanilla_score.entities[entity], default_score.entities[entity]
        assert (d.recall or 0) >= (v.recall or 0), entity
        assert d.precision is None or d.precision >= 0.9, (entity, d)
    assert default_score.pii_free_detection_share <= 0.05
    assert vanilla_score.pii_free_detection_share > 0.5
    wide = score_against_labels(d_samples, default, LABELLED_ENTITIES)
    assert all(s.recall == 1.0 for s in wide.entities.values()), wide.as_dict()
    assert wide.pii_free_detection_share <= 0.05
