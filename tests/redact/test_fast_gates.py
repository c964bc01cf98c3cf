"""The shortcuts of the fast path answer as what they stand in for, on adversarial strings.

Random strings over the characters each shortcut reads (digits, separators, word and
non-ASCII characters) check: the byte database's islands against ``re``'s, the SSN gate for
ASCII texts against the SSN patterns, the IPv4 ``accept`` against the recognizer's own
answers, and ``region_of`` against ``phonenumbers.is_valid_number``. These are white-box
tests of internal shortcuts (the gate's plan and scan); what users see of them, the same
findings and text as Presidio's full pass, is what ``test_equivalence.py`` checks.
"""

from __future__ import annotations

import random
import re

import phonenumbers
import pytest

from ollive.redact import DEFAULT_POLICY
from ollive.redact._gates import DIGIT_ISLAND, WindowedAnalyzer, _Step
from ollive.redact._presidio import build_analyzer, offline_nlp_engine
from ollive.redact._recognizers import (
    ContextSsnRecognizer,
    StrictPhoneRecognizer,
    ValidatedIpRecognizer,
    default_registry,
)

pytest.importorskip("hyperscan")


@pytest.fixture(scope="module")
def plan() -> object:
    import spacy

    engine = offline_nlp_engine(spacy.blank("en"), "blank:en")
    analyzer = build_analyzer(default_registry(engine, DEFAULT_POLICY.locales), engine)
    return WindowedAnalyzer(analyzer, nlp_is_blank=True)._plan(DEFAULT_POLICY.entities)


def _strings(alphabet: str, n: int, seed: int, longest: int = 40) -> list[str]:
    rnd = random.Random(seed)
    return ["".join(rnd.choices(alphabet, k=rnd.randint(1, longest))) for _ in range(n)]


def _step(plan: object, cls: type) -> _Step:
    return next(s for s in plan.steps if isinstance(s.recognizer, cls))  # type: ignore[attr-defined]


def test_byte_database_finds_re_islands(plan) -> None:
    island = re.compile(DIGIT_ISLAND)
    texts = _strings("0123456789" * 3 + " .()-/x_\n", 5_000, seed=1)
    texts += ["1234567", " (555) 123-4567\n", "a1 2 3 4 5 6 7", "12345 .", "9" * 30]
    for text in texts:
        _, islands = plan.gate.scan(text, plan.steps)
        n = len(text)
        expected = [
            (max(0, m.start() - 1), min(n, m.end() + 2), m.end() - m.start())
            for m in island.finditer(text)
        ]
        assert islands == expected, text
    assert plan.gate.scan("é 1234567", plan.steps)[1] is None  # non-ASCII: re finds them


def test_ascii_ssn_gate_passes_every_ssn_seed(plan) -> None:
    step = _step(plan, ContextSsnRecognizer)
    seed = step.seeds[0]
    texts = _strings("0123456789" * 4 + " -.,:/a_#(", 20_000, seed=2, longest=24)
    texts += ["123-45-6789", "x 123 45 6789.", "(123456789)", "123456789\n", "a-123456789"]
    seeded = 0
    for text in texts:
        if seed.search(text):
            seeded += 1
            assert step in plan.gate.scan(text, plan.steps)[0], text
    assert seeded > 100
    assert step not in plan.gate.scan("ts 1234567890123 x123456789", plan.steps)[0]


def test_ipv4_accept_keeps_every_kept_address() -> None:
    rec = ValidatedIpRecognizer()
    seed = re.compile(ValidatedIpRecognizer.FAST_SPEC.seeds[0])
    texts = _strings("0123456789" * 2 + "1..." + ": x/", 20_000, seed=3, longest=30)
    texts += ["0.0.0.0:5601", "127.0.0.1 10.1.2.3", "0.0.0.0.10.1.2.3", "1.2.3.4a 5.6.7.8"]
    for text in texts:
        found = rec.analyze(text, ["IP_ADDRESS"])
        kept = [r for r in found if re.fullmatch(r"[0-9.]+", text[r.start : r.end])]
        accepted = [m for m in seed.finditer(text) if rec.keeps_ipv4_near(text, m)]
        for r in kept:  # every kept IPv4 address overlaps an accepted seed
            assert any(m.start() < r.end and m.end() > r.start for m in accepted), text
        if not kept:  # and no window for a text without one
            assert not [m for m in accepted if ":" not in m.group()], text


def test_region_of_answers_as_is_valid_number() -> None:
    rec = StrictPhoneRecognizer()
    rnd = random.Random(4)
    values = ["".join(rnd.choices("0123456789", k=rnd.randint(7, 13))) for _ in range(1_500)]
    values += ["(0" + v[:3] + ") " + v[3:] for v in values[:300]]
    for value in values:
        expected = None
        text = value
        if text.startswith(("+", "00")):
            continue  # international forms: covered by the equivalence tests
        for candidate in rec.regions:
            try:
                number = phonenumbers.parse(text, candidate)
            except phonenumbers.NumberParseException:
                continue
            if phonenumbers.is_valid_number(number):
                expected = phonenumbers.region_code_for_number(number) or candidate
                break
        assert rec.region_of(value) == expected, value


def test_crypto_gate_passes_every_kept_crypto_seed(plan) -> None:
    step = next(s for s in plan.steps if type(s.recognizer).__name__ == "CryptoRecognizer")
    seed, accept = step.seeds[0], step.spec.accept
    valid = ["1BoatSLRHtKNngkdXEeobR76b53LETtpyT", "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"]
    valid += ["bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"]
    pieces = valid + ["0", "O", "I", "l", "B", "C", "bc1", "BC1", "1", "3", " ", "é", "-"]
    rnd = random.Random(5)
    texts = ["".join(rnd.choices(pieces, k=rnd.randint(1, 6))) for _ in range(4_000)]
    texts += _strings("123abcABC0OIl" * 2 + " .", 4_000, seed=6, longest=70)
    kept = 0
    for text in texts:
        if any(accept(step.recognizer, text, m) for m in seed.finditer(text)):
            kept += 1
            assert step in plan.gate.scan(text, plan.steps)[0], text
    assert kept > 300
    assert step not in plan.gate.scan("commit 1f2c0c86efc52a8172f2fc99dbd2 done", plan.steps)[0]


def _as_tuple(result: object) -> tuple[object, ...]:
    return (
        result.entity_type,  # type: ignore[attr-defined]
        result.start,  # type: ignore[attr-defined]
        result.end,  # type: ignore[attr-defined]
        result.score,  # type: ignore[attr-defined]
        dict(result.recognition_metadata),  # type: ignore[attr-defined]
        dict(vars(result.analysis_explanation)),  # type: ignore[attr-defined]
    )


def test_window_runners_answer_as_analyze() -> None:
    import spacy
    from presidio_analyzer import PatternRecognizer

    from ollive.redact._gates import _window_runner
    from ollive.redact._presidio import vanilla_registry

    engine = offline_nlp_engine(spacy.blank("en"), "blank:en")
    recognizers = [
        r
        for registry in (default_registry(engine, DEFAULT_POLICY.locales), vanilla_registry(engine))
        for r in registry.recognizers
        if isinstance(r, PatternRecognizer)
    ]
    texts = _strings("0123456789" * 3 + " -.:/@abcxyzABCWX_", 3_000, seed=7, longest=60)
    texts += [
        "mail ada@example.com or 4111 1111 1111 1111, ssn 078-05-1120 at 10.0.0.1",
        "https://example.com/x www.test.org 2001:db8::1 GB82 WEST 1234 5698 7654 32",
        "1BoatSLRHtKNngkdXEeobR76b53LETtpyT 5555555555554444 371449635398431",
    ]
    found = 0
    for rec in recognizers:
        run = _window_runner(rec, ["ANY"])
        for text in texts:
            expected = rec.analyze(text=text, entities=["ANY"], nlp_artifacts=None)
            assert [_as_tuple(r) for r in run(text)] == [_as_tuple(r) for r in expected], text
            found += len(expected)
    assert found > 100


def test_space_skips_answer_as_strip() -> None:
    from ollive.redact._gates import _skip_space_left, _skip_space_right

    texts = _strings("ab1 \t\n\u00a0\u2009\u3000\x1c\x85-", 2_000, seed=8, longest=30)
    for text in texts:
        n = len(text)
        for pos in range(n + 1):
            assert _skip_space_left(text, pos) == len(text[:pos].rstrip()), (text, pos)
            assert _skip_space_right(text, pos, n) == n - len(text[pos:].lstrip()), (text, pos)


def test_gate_databases_compile_once_per_process(plan) -> None:
    """A second plan of the same recognizers (a policy reload, another redactor) reuses the
    compiled databases; an expression hyperscan refuses is refused again, from memory."""
    import hyperscan

    from ollive.redact._gates import _BatchGate, _compiled_db

    again = _BatchGate.build(plan.steps)
    assert again is not None and plan.gate is not None
    assert again._db is plan.gate._db and again._ascii_db is plan.gate._ascii_db
    flags = [hyperscan.HS_FLAG_SINGLEMATCH]
    for _ in range(2):
        with pytest.raises(hyperscan.error):
            _compiled_db(hyperscan, [rb"(?<=a\w+)b"], [0], flags)  # unbounded look-behind
    texts = ["call 212-555-0147 now", "no digits here", "ip 10.0.0.1 ", "é 4111 1111 1111 1111"]
    assert [again.scan(t, plan.steps)[0] for t in texts] == [
        plan.gate.scan(t, plan.steps)[0] for t in texts
    ]


def test_seed_search_finds_what_finditer_finds(plan) -> None:
    """Searching again from each match's end (the seed scan's loop) gives ``finditer``'s
    matches in every region, for every seed of the tuned and the vanilla recognizers."""
    from ollive.redact._gates import _PRESIDIO_SPECS, _search_regions, never_empty

    regexes = [r for s in plan.steps for r in s.seeds + s.open_seeds]
    for spec in _PRESIDIO_SPECS.values():
        flags = re.IGNORECASE if spec.ignore_case else 0
        regexes += [re.compile(p, flags) for p in spec.seeds + spec.open_seeds]
    assert all(never_empty(r) for r in regexes)
    texts = _strings("0123456789" * 3 + " .-/:()+@xX_aBwW\u00a0\u0663é\n", 3_000, 9, 48)
    texts += ["+1 (212) 555-0147 x12", "123-45-6789", "4111 1111 1111 1111", "a::1 10.0.0.1"]
    rnd = random.Random(10)
    found = 0
    for text in texts:
        n = len(text)
        lo = rnd.randint(0, n)
        hi = rnd.randint(lo, n)
        for regex in regexes:
            for region in ((0, n, n), (lo, hi, hi - lo)):
                out: list[re.Match[str]] = []
                _search_regions([regex], text, [region], 0, out)
                expected = [m.span() for m in regex.finditer(text, region[0], region[1])]
                assert [m.span() for m in out] == expected, (regex.pattern, text, region)
                found += len(expected)
    assert found > 1_000


def test_never_empty_reads_the_shortest_match() -> None:
    from ollive.redact._gates import never_empty

    assert never_empty(re.compile(r"\d+")) and never_empty(re.compile("::"))
    assert not never_empty(re.compile(r"\b")) and not never_empty(re.compile("a*|b"))
    assert not never_empty(re.compile(r"(?<=a)"))


def test_phone_shape_shortcuts_answer_as_the_patterns() -> None:
    """A bare digit run's shape is its length; a value without ``x`` has no extension."""
    from ollive.redact import _recognizers as rr

    texts = _strings("0123456789" * 4 + " -./:()x\n\u00a0\u0663\u00b2te", 20_000, 11, 24)
    texts += ["".join(random.Random(n).choices("0123456789\u0663", k=n)) for n in range(1, 25)]
    texts += ["1234567890123", "1" * 19, "1" * 20, "12345 x12", "555-0147 ext. 9", "\u00b2" * 13]
    for text in texts:
        expected = bool(
            rr._DATE_OR_TIME.search(text)
            or rr._NOT_PHONE_SHAPE.match(text)
            or rr._IPV4_SHAPE.match(text)
        )
        assert rr._not_phone_shaped(text) == expected, text
        assert rr._without_extension(text) == rr._EXTENSION.sub("", text), text


def test_gate_regions_are_the_finditer_regions() -> None:
    from ollive.redact._gates import _gate_regions, _region

    island = re.compile(DIGIT_ISLAND)
    texts = _strings("0123456789" * 3 + " .()-/x\u00a0\u0663é\n", 5_000, seed=12, longest=60)
    for text in texts:
        expected = [_region(m.start(), m.end(), len(text)) for m in island.finditer(text)]
        assert _gate_regions(island, text, searched=True) == expected, text


def _joined(pieces: list[str], n: int, seed: int, longest: int = 8) -> list[str]:
    rnd = random.Random(seed)
    return ["".join(rnd.choices(pieces, k=rnd.randint(1, longest))) for _ in range(n)]


def _spans(regex: re.Pattern[str], text: str) -> list[tuple[int, int]]:
    return [m.span() for m in regex.finditer(text)]


def test_ssn_seed_matches_as_the_joined_patterns() -> None:
    from ollive.redact._recognizers import _SSN_SEED

    joined = re.compile("|".join(p.regex for p in ContextSsnRecognizer.PATTERNS))
    seed = re.compile(_SSN_SEED)
    pieces = ["123", "45", "6789", "123456789", "0", "-", " ", ".", ",", ":", "/", "a", "_"]
    pieces += ["\u0663", "\u00e9", "#"]
    texts = _joined(pieces, 20_000, seed=11)
    texts += ["123-45-6789", "-123-45-6789", "1123 45 6789", "a123456789", "x 123456789.5"]
    seeded = 0
    for text in texts:
        expected = _spans(joined, text)
        seeded += bool(expected)
        assert _spans(seed, text) == expected, text
        for pos in range(len(text)):  # and from every position (seeds are searched in regions)
            found, want = seed.search(text, pos), joined.search(text, pos)
            assert (found and found.span()) == (want and want.span()), (text, pos)
    assert seeded > 500


def test_url_seed_matches_as_the_plain_tld_seed() -> None:
    from ollive.redact._recognizers import _TLDS, CodeAwareUrlRecognizer

    plain = re.compile(rf"\.(?i:{_TLDS})(?![\w\-(])")
    seed = re.compile(CodeAwareUrlRecognizer.FAST_SPEC.seeds[2])
    # letters of the TLDs and their case, characters that fold to ASCII letters under
    # IGNORECASE (Kelvin sign, long s, dotless i, dotted I), word and non-word neighbours
    pieces = [".", ".", "com", "CoM", "co", "uk", "online", "io", "x", "s", "k", "i", "-", "("]
    pieces += ["_", "1", " ", "\u212a", "\u017f", "\u0131", "\u0130", "\u00e9"]
    texts = _joined(pieces, 30_000, seed=12)
    texts += [".com", "a.COM.", ".co.uk", ".online", ".onlinex", ".io(", ".u\u212a", ".\u017fhop"]
    texts += ["x.\u0130o", ".\u0131n", ".d\u212a "]
    seeded = 0
    for text in texts:
        expected = _spans(plain, text)
        seeded += bool(expected)
        assert _spans(seed, text) == expected, text
    assert seeded > 500
