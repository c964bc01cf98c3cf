"""The backwards deny-word check gives what the forward regex search gives."""

from __future__ import annotations

import random

from ollive.redact._recognizers import _NUMBER_DENY_AT_END, deny_word_before

_PIECES = [
    *("#", "no.", "No.", "inv", "invoice", "INV_12", "order", "ORDER", "build", "id", "pid"),
    *("ts", "rows", "row", "tokens", "n", "N", "latency", "latency_ms", "took", "run", "rev"),
    *("timestamp", "checksum", "isbn", "ean", "x", "a", "é", "\u0301", "\u212a", "ſ", "1"),
    *("23", "_", " ", "  ", ":", "=", "-", "\n", "\t", ".", ",", "(", "\u00a0", "ü", "٣", "s"),
]


def _forward(text: str, start: int, width: int) -> bool:
    """The check as the recognizers spelled it: the forward search in the slice before."""
    before = text[max(0, start - width) : start]
    return _NUMBER_DENY_AT_END.search(before, max(0, len(before) - 24)) is not None


def test_same_answer_as_the_forward_search_on_random_contexts() -> None:
    rng = random.Random(7)
    checked = 0
    for _ in range(4_000):
        text = "".join(rng.choice(_PIECES) for _ in range(rng.randint(1, 30)))
        for start in range(len(text) + 1):
            for width in (32, 40):  # the phone and SSN recognizers' context lengths
                assert deny_word_before(text, start) == _forward(text, start, width), (
                    text,
                    start,
                )
                checked += 1
    assert checked > 100_000


def test_examples() -> None:
    assert deny_word_before("pid 2892405", 4)
    assert deny_word_before('"ts=1669358882458"', 4)
    assert deny_word_before("invoice_no: 12345678", 12)
    assert not deny_word_before("call me on 2403245837", 11)
    assert not deny_word_before("rapid 2892405", 6)  # "pid" inside a word
