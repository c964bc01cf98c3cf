"""The seeded, labelled PII corpus: deterministic, well-shaped, valid checksums, hard negatives."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from ollive.demo import LABELLED_ENTITIES, generate_pii_corpus


@pytest.fixture(scope="module")
def corpus():
    return generate_pii_corpus(2_000, seed=3)


def _luhn_ok(number: str) -> bool:
    digits = [int(c) for c in number if c.isdigit()]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2:
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return total % 10 == 0


def _iban_ok(value: str) -> bool:
    compact = value.replace(" ", "")
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


def test_same_seed_same_corpus_and_other_seed_differs() -> None:
    assert generate_pii_corpus(50, seed=1) == generate_pii_corpus(50, seed=1)
    assert generate_pii_corpus(50, seed=1) != generate_pii_corpus(50, seed=2)


def test_texts_are_llm_shaped_with_about_thirty_percent_pii(corpus) -> None:
    assert all(100 <= len(s.text) <= 1_500 for s in corpus)
    assert set(Counter(s.kind for s in corpus)) == {"question", "code", "json", "log", "chat"}
    share = sum(s.has_pii for s in corpus) / len(corpus)
    assert 0.25 <= share <= 0.35


def test_every_entity_type_is_labelled_with_exact_spans(corpus) -> None:
    seen = Counter()
    for sample in corpus:
        for span in sample.spans:
            value = sample.text[span.start : span.end]
            assert value and value == value.strip()
            seen[span.entity_type] += 1
    assert set(seen) == set(LABELLED_ENTITIES)
    assert min(seen.values()) >= 50


def test_values_with_checksums_are_valid(corpus) -> None:
    values = [(span.entity_type, s.text[span.start : span.end]) for s in corpus for span in s.spans]
    cards = [v for t, v in values if t == "CREDIT_CARD"]
    assert cards and all(_luhn_ok(v) for v in cards)
    assert any(re.match(r"2[2-7]\d\d", v) for v in cards)  # Mastercard 2-series present
    ibans = [v for t, v in values if t == "IBAN_CODE"]
    assert ibans and all(_iban_ok(v) for v in ibans)
    ssns = [v.replace(" ", "-") for t, v in values if t == "US_SSN"]
    assert all(not v.startswith(("000", "666", "9")) and v[4:6] != "00" for v in ssns)


def test_hard_negatives_are_present(corpus) -> None:
    text = "\n".join(s.text for s in corpus if not s.has_pii)
    for needle in ("self.name", "df.info()", "INV-", "build 20", "config.yaml", "localhost:"):
        assert needle in text
    assert re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", text)
    assert re.search(r"\bv\d+\.\d+\.\d+\b", text)
