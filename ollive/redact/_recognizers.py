"""Presidio recognizers tuned for the text LLM applications produce (the default policy).

Each class keeps Presidio's recognizer interface and validation, and narrows where it
fires so that code, JSON, logs and answers survive redaction:

* ``CodeAwareUrlRecognizer``: a URL has a scheme, or ``www.``, or a bare host ending in a
  common TLD (not ``.name``, ``.info``, ``.py``, ``.md``...), is not glued to an
  identifier or an ``@`` (so ``self.name``, ``df.info()``, ``setup.py`` and the domain of an
  e-mail are not URLs), and drops trailing punctuation.
* ``StrictPhoneRecognizer``: ``phonenumbers`` validation (``is_valid_number`` for regions
  US, GB, DE, IL, IN, CA, BR, or any region for a ``+`` number) of phone-shaped candidates: at least 7 digits, not a date, a
  time, an IPv4 address, a card or SSN layout or the tail of an IBAN, not right after ``#``, ``INV-``, ``order``, ``build``...; a bare
  digit run needs a context word (``phone``, ``call``, ``mobile``...) just before it.
* ``BrandCreditCardRecognizer``: real IIN ranges with their lengths, Mastercard 2-series
  (2221-2720) included, consistent separators, Luhn.
* ``ContextSsnRecognizer``: ``ddd-dd-dddd`` / ``ddd dd dddd`` with Presidio's SSN
  invalidation; a bare 9-digit run only after ``ssn``/``social security``.
* ``ValidatedIpRecognizer``: Presidio's IPv4/IPv6 patterns, validated by ``ipaddress``; a
  lone ``::`` (C++ scopes, slices) is not an address.

Every class carries a ``FAST_SPEC`` (see ``_gates``): the seed every match contains, and
the left context it reads, which is what keeps the fast path exact.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

import phonenumbers
import regex
from phonenumbers import PhoneNumberFormat, PhoneNumberType
from phonenumbers.phonenumberutil import NumberParseException
from presidio_analyzer import (
    AnalysisExplanation,
    EntityRecognizer,
    Pattern,
    PatternRecognizer,
    RecognizerResult,
)
from presidio_analyzer.predefined_recognizers import (
    CreditCardRecognizer,
    IbanRecognizer,
    IpRecognizer,
    PhoneRecognizer,
    UsSsnRecognizer,
)

from ollive.redact._gates import DIGIT_ISLAND, WindowSpec
from ollive.redact.policy import regions_for

__all__ = [
    "BrandCreditCardRecognizer",
    "KeptPatternRecognizer",
    "CaseIbanRecognizer",
    "CodeAwareUrlRecognizer",
    "ContextSsnRecognizer",
    "StrictPhoneRecognizer",
    "ValidatedIpRecognizer",
    "tuned_recognizers",
]

_TLDS = (
    "com|org|net|edu|gov|mil|int|io|ai|dev|app|co|us|uk|de|fr|nl|es|it|ca|au|in|br|jp|cn|ch|se|"
    "no|dk|fi|pl|pt|be|at|ie|nz|mx|ar|ru|eu|me|tv|fm|xyz|tech|cloud|online|site|shop"
)
_URL_END = r"""(?:/[^\s<>"'`]*[^\s<>"'`.,;:!?)\]}])?"""


class CodeAwareUrlRecognizer(PatternRecognizer):  # type: ignore[misc]
    """URLs with a scheme, ``www.``, or a bare host on a common TLD; never ``obj.attr``."""

    FAST_SPEC = WindowSpec(
        # the look-ahead after the dot is implied by the rest (every TLD is 2 to 6 letters
        # followed by no word character): it turns away most dots (decimals, attributes,
        # file names) before the 50 TLDs are tried, 3.6x faster on the Faker corpus
        (
            "://",
            r"[wW][wW][wW]\d{0,3}\.",
            rf"\.(?=(?i:[a-z]){{2,6}}(?![\w\-(]))(?i:{_TLDS})(?![\w\-(])",
        ),
        batch_gate=rf"://|[wW][wW][wW]\d{{0,3}}\.|\.(?i:{_TLDS})",
    )
    PATTERNS = [
        Pattern(
            "url with scheme",
            r"""(?<![\w@])(?:https?|ftp)://[^\s<>"'`]*[^\s<>"'`.,;:!?)\]}]""",
            0.85,
        ),
        Pattern(
            "www url", rf"(?<![\w@.\-/])www\d{{0,3}}\.[a-z0-9\-]+(?:\.[a-z0-9\-]+)+{_URL_END}", 0.7
        ),
        Pattern(
            "bare host on a common tld",
            rf"(?<![\w@.\-/:])(?:[a-z0-9](?:[a-z0-9\-]{{0,61}}[a-z0-9])?\.)+(?:{_TLDS})(?![\w\-(]){_URL_END}",
            0.5,
        ),
    ]
    CONTEXT = ["url", "website", "link", "site", "page"]

    def __init__(self) -> None:
        super().__init__(supported_entity="URL", patterns=self.PATTERNS, context=self.CONTEXT)


_PHONE_BODY = r"\d(?:[ \u00a0.()\-/]{0,3}\d){6,18}"
_PHONE_EXT = r"(?:[ \u00a0]?(?:x|ext\.?|extension)[ \u00a0]?\d{1,6})?"
_PHONE_CANDIDATE = re.compile(  # never starts on an ISO date (log timestamps)
    rf"(?<![\w+./:#\-])(?!\d{{4}}-\d\d?-\d\d?)(?:\+|\()?{_PHONE_BODY}{_PHONE_EXT}(?![\w/:]|[.\-]\w)"
)
_EXTENSION = re.compile(r"[ \u00a0]?(?:x|ext\.?|extension)[ \u00a0]?\d{1,6}$")
_DATE_OR_TIME = re.compile(r"\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2,4}|\d{1,2}:\d{2}")
_DIGIT = re.compile(r"\d")
_IPV4_SHAPE = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")
_NOT_PHONE_SHAPE = re.compile(
    r"^(?:\d{13,19}|\d+\.\d+|\d{4}([ -])\d{4}\1\d{4}\1\d{1,4}|\d{4}([ -])\d{6}\2\d{4,5}|\d{3}([ -])\d{2}\3\d{4})$"
)


def _not_phone_shaped(value: str) -> bool:
    """A date, a time, a decimal, a card or SSN layout, or an IPv4 address.

    A run of digits alone (``\\d`` is a Unicode decimal) holds no separator for the dates,
    times, decimals and layouts: only its length can rule it out (13 to 19 digits, a card),
    which spares three regex calls on the digit runs that most candidates in logs are.
    """
    if value.isdecimal():
        return 13 <= len(value) <= 19
    return bool(
        _DATE_OR_TIME.search(value) or _NOT_PHONE_SHAPE.match(value) or _IPV4_SHAPE.match(value)
    )


def _without_extension(value: str) -> str:
    """``value`` without its trailing extension; every spelling of one (``x``, ``ext``,
    ``extension``) holds an ``x``, so a value without one is returned without a regex call."""
    return _EXTENSION.sub("", value) if "x" in value else value


_SSN_WORD = re.compile(r"ssn|social", re.I)
_GROUP_BREAK = re.compile(r"[ \u00a0.()\-/]+(?=\d)")
_MIXED_DECIMAL = re.compile(r"^[\d.]*\d\.\d[\d.]*[ \u00a0\-/]|^[^.+(]*[ \u00a0\-/][\d ]*\d\.\d+$")
_IBAN_BEFORE = re.compile(r"[A-Z]{2}\d{2}(?: [A-Z0-9]{4})*[ -]$")


def iban_groups_before(text: str, start: int, chars: int) -> bool:
    """Whether groups of an IBAN (``ES91 2100 ``) end right before ``start``, within the
    ``chars`` characters before it: the number there is the IBAN's tail, not a value.

    Searches the text between those bounds rather than a slice of it: the pattern has no
    look-behind and its ``$`` matches at the end bound, so the answer is the slice's.
    """
    return (
        start > 0
        and text[start - 1] in " -"
        and _IBAN_BEFORE.search(text, max(0, start - chars), start) is not None
    )


_DENY_WORDS = (
    r"#|no\.|inv\w*|order|build|ticket|id|ref|version|port|pid|uid|gid|rows?|tokens?|ean|isbn|"
    r"ts|timestamp|epoch|size|count|total|sum|seq|offset|nonce|crc|checksum|n|line|col|step|"
    r"took|duration|latency\w*|elapsed|bytes|sku|batch|job|run|trace|span|commit|rev"
)
_NUMBER_DENY = rf"(?<!\w)(?:{_DENY_WORDS})"
_NUMBER_DENY_AT_END = re.compile(_NUMBER_DENY + r"\W{0,3}$", re.I)
"""The definition: a deny word, then at most 3 non-word characters, right before a number.

Searched in the :data:`_DENY_CHARS` characters before the number; :func:`deny_word_before`
gives the same answer reading backwards (one anchored match instead of 25 attempts)."""
_ATOM = re.compile(r"\\w\*|\\.|.\?|.")


def _backwards(words: str) -> str:
    """An alternation matching the reversed ``words`` (literals with ``\\w*``, ``\\.``, ``x?``).

    Words that start (reversed) with a plain letter are grouped by that letter, so that a
    context that is no deny word fails after one test per letter instead of one per word.
    """
    by_letter: dict[str, list[str]] = {}
    others: list[str] = []
    for word in words.split("|"):
        atoms = list(reversed(_ATOM.findall(word)))
        if atoms[0].isalpha():
            by_letter.setdefault(atoms[0], []).append("".join(atoms[1:]))
        else:
            others.append("".join(atoms))
    grouped = [
        letter + (f"(?:{'|'.join(rests)})" if any(rests) else "")
        for letter, rests in by_letter.items()
    ]
    return "|".join(grouped + others)


_DENY_BACKWARDS = re.compile(rf"\n?\W{{0,3}}(?:{_backwards(_DENY_WORDS)})(?!\w)", re.I)
_WORD_CHAR = re.compile(r"\w")
_UNIT_AFTER = re.compile(
    r"[ \u00a0]?(?:ns|us|µs|ms|s|sec|secs|seconds|min|bytes|b|kb|mb|gb|kib|mib|gib|rows?|tokens?|"
    r"items?|events?|records?|requests?|ops|%|x\b)(?!\w)",
    re.I,
)
_DENY_CHARS = 24  # the longest deny word and its punctuation, searched from there
_PHONE_CONTEXT_CHARS = 32


def deny_word_before(text: str, start: int) -> bool:
    """Whether a deny word (``order``, ``pid``, ``ts``...) and at most 3 non-word characters
    end at ``start``, within the :data:`_DENY_CHARS` characters before it.

    Exactly ``_NUMBER_DENY_AT_END.search(text, max(0, start - _DENY_CHARS), start)``, read
    backwards: the reversed context is matched once, anchored, by the reversed words. The
    character before the context stands in for the look-behind: ``"0"`` (a word character
    no deny word starts with) when it is a word character, ``" "`` otherwise or at the
    text start.
    """
    lo = start - _DENY_CHARS
    if lo <= 0:
        lo, edge = 0, " "
    else:
        edge = "0" if _WORD_CHAR.match(text, lo - 1) else " "
    return _DENY_BACKWARDS.match(text[lo:start][::-1] + edge) is not None


class StrictPhoneRecognizer(PhoneRecognizer):  # type: ignore[misc]
    """``phonenumbers``-validated numbers on phone-shaped candidates only.

    A candidate is validated in the regions of the policy's locales (any region for a
    ``+``/``00`` number); extensions (``x123``, ``ext. 12``) belong to the number. A bare
    digit run is a phone when it is valid and is not a quantity: no deny word before it
    (``order``, ``build``, ``pid``, ``ts``...) and no unit after it (``ms``, ``bytes``,
    ``rows``...); a decimal (one ``.``), a date, a time, an IPv4 address or a card/SSN layout
    never is.
    """

    FAST_SPEC = WindowSpec(
        (_PHONE_CANDIDATE.pattern,),
        spans_whitespace=True,
        context_chars=_PHONE_CONTEXT_CHARS,
        gate=DIGIT_ISLAND,
        min_chars=7,
        accept=lambda rec, text, m: rec.number_in(text, m) is not None,
        batch_gate=r"\d(?:[ \x{a0}.()\-/]{0,3}\d){6,18}",
    )
    REGIONS = ("US", "GB", "FR", "DE", "ES", "IT", "NL", "BR", "IN")

    def __init__(self, regions: tuple[str, ...] | None = None) -> None:
        super().__init__(supported_regions=tuple(regions or self.REGIONS), leniency=1)
        self.regions = tuple(regions or self.REGIONS)
        self._memo: dict[str, str | None] = {}

    def is_candidate(self, text: str, start: int, raw: str) -> bool:
        """Whether ``raw`` at ``start`` is phone-shaped and not a quantity or an identifier."""
        value = _without_extension(raw)
        if _not_phone_shaped(value):
            return False  # a date, a time, a decimal, a card or SSN layout, an IPv4 address
        return self._is_shaped_candidate(text, start, raw, value)

    def _is_shaped_candidate(self, text: str, start: int, raw: str, value: str) -> bool:
        """:meth:`is_candidate` once ``value`` (``raw`` without its extension) passed the
        shape checks."""
        if len(_DIGIT.findall(value)) < 7:
            return False
        if _MIXED_DECIMAL.match(value):
            return False  # a decimal running into the next number: "94116.94648 2"
        if len(value) == 9 and value.isdigit():
            before = text[max(0, start - _PHONE_CONTEXT_CHARS) : start]
            if _SSN_WORD.search(before):
                return False  # a bare 9-digit run after "SSN" is the SSN recognizer's
        return not (value.isdigit() and _UNIT_AFTER.match(text, start + len(raw)))

    def region_of(self, value: str) -> str | None:
        """The region whose numbering plan ``value`` is valid in, else ``None``.

        National forms are tried in each of the policy's regions; an international form
        (``+``/``00``) is read in its own country and needs only the right length there.
        """
        found = self._memo.get(value, False)
        if found is not False:
            return found  # type: ignore[return-value]
        number_text = _without_extension(value).replace("(0)", "")
        if number_text.startswith("00"):
            number_text = "+" + number_text[2:]
        region: str | None = None
        if number_text.startswith("+"):
            region = self._international(number_text)
            self._remember(value, region)
            return region
        for candidate in self.regions:
            try:
                number = phonenumbers.parse(number_text, candidate)
            except NumberParseException:
                continue
            # is_valid_number(n) is is_valid_number_for_region(n, region_code_for_number(n)):
            # spelled out, the region it finds is read once (for +1, a walk of 25 regions);
            # it answers False for no region, as the explicit None check here does
            found = phonenumbers.region_code_for_number(number)
            if found is not None and phonenumbers.is_valid_number_for_region(number, found):
                region = found or candidate
                break
        self._remember(value, region)
        return region

    def _international(self, number_text: str) -> str | None:
        """Region of ``+…``: valid or of a possible length in its country; a national trunk
        ``0`` written after the country code (``+44 0121 496 0113``) is dropped."""
        try:
            number = phonenumbers.parse(number_text, None)
        except NumberParseException:
            return None
        found = phonenumbers.region_code_for_number(number)  # as in region_of: read once
        ok = (
            found is not None and phonenumbers.is_valid_number_for_region(number, found)
        ) or phonenumbers.is_possible_number(number)
        if not ok:
            digits = "".join(c for c in number_text if c.isdigit())
            code = str(number.country_code)
            if digits.startswith(code + "0"):
                return self._international("+" + code + digits[len(code) + 1 :])
        return (found or "ZZ") if ok else None

    def warm(self) -> None:
        """Load the numbering plans that validation reads and compile their patterns.

        ``phonenumbers`` imports a region's metadata and compiles its patterns the first
        time a number is checked there; without this, the first texts of a replica pay
        ~0.2 s for the policy's regions and the regions that share their country codes
        (``+1``: the NANP countries). Example numbers of every type, written nationally
        and internationally, go through :meth:`region_of` once; the memo is cleared after.
        """
        kinds = [getattr(PhoneNumberType, k) for k in vars(PhoneNumberType) if k.isupper()]
        for region in self.regions:
            code = phonenumbers.country_code_for_region(region)
            for other in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(code, (region,)):
                for kind in kinds:
                    example = phonenumbers.example_number_for_type(other, kind)
                    if example is None:
                        continue
                    for fmt in (PhoneNumberFormat.NATIONAL, PhoneNumberFormat.INTERNATIONAL):
                        self.region_of(phonenumbers.format_number(example, fmt))
        self._memo.clear()

    def _remember(self, value: str, region: str | None) -> None:
        if len(self._memo) > 65_536:
            self._memo.clear()
        self._memo[value] = region

    def number_in(self, text: str, m: re.Match[str]) -> tuple[int, str] | None:
        """``(end, region)`` of the phone number the candidate ``m`` starts, or ``None``.

        The whole candidate when it is a valid number, else its longest prefix that ends on
        a digit group and is one (``+91 79439 12015 85.12`` holds a number and a decimal).
        """
        # The three rejections are pure, so their order changes no answer: the shape goes
        # first (a length test for a bare digit run, which most candidates in logs are), then
        # the deny word, which turns down most of the rest, and the rare IBAN tail last.
        start = m.start()
        value = m.group()
        whole = _without_extension(value)
        if _not_phone_shaped(whole):
            return None  # a date, a time, a decimal, a card or SSN layout, an IPv4 address
        if deny_word_before(text, start):
            return None
        if iban_groups_before(text, start, _PHONE_CONTEXT_CHARS):
            return None
        if len(value) >= 7 and self._is_shaped_candidate(text, start, value, whole):
            region = self.region_of(value)  # the whole candidate: its shape is checked above
            if region is not None:
                return start + len(value), region
        for g in reversed(list(_GROUP_BREAK.finditer(value))):
            head = value[: g.start()]
            if len(head) < 7:
                break
            if self.is_candidate(text, start, head):
                region = self.region_of(head)
                if region is not None:
                    return start + len(head), region
        return None

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: Any = None
    ) -> list[RecognizerResult]:
        results: list[RecognizerResult] = []
        for m in _PHONE_CANDIDATE.finditer(text):
            found = self.number_in(text, m)
            if found is not None:
                results.append(self.result_for(m.start(), found[0], found[1]))
        return results

    def result_for(self, start: int, end: int, region: str) -> RecognizerResult:
        """The result ``PhoneRecognizer`` builds for a number (same score and explanation)."""
        explanation = AnalysisExplanation(
            recognizer=PhoneRecognizer.__name__,
            original_score=self.SCORE,
            textual_explanation=f"Recognized as {region} region phone number, using PhoneRecognizer",
        )
        return RecognizerResult(
            entity_type="PHONE_NUMBER",
            start=start,
            end=end,
            score=self.SCORE,
            analysis_explanation=explanation,
            recognition_metadata={
                RecognizerResult.RECOGNIZER_NAME_KEY: self.name,  # type: ignore[has-type]
                RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
            },
        )


class KeptPatternRecognizer(PatternRecognizer):  # type: ignore[misc]
    """Presidio's pattern pass, then the recognizer's own :meth:`keeps` on each result.

    Its ``analyze`` is marked ``keeps_after_patterns``: the fast path runs the pattern pass
    without Presidio's per-call overhead (``_presidio.pattern_runner``) and then ``keeps``,
    which answers the same.
    """

    def analyze(
        self,
        text: str,
        entities: list[str],
        nlp_artifacts: Any = None,
        regex_flags: int | None = None,
    ) -> list[RecognizerResult]:
        found = super().analyze(text, entities, nlp_artifacts, regex_flags)
        return [r for r in found if self.keeps(text, r.start, r.end)]

    analyze.keeps_after_patterns = True  # type: ignore[attr-defined]

    def keeps(self, text: str, start: int, end: int) -> bool:
        raise NotImplementedError


_BARCODE_BEFORE = re.compile(r"(?<!\w)(?:ean|upc|gtin|isbn|barcode)\W{0,3}$", re.I)
_MC2 = r"2(?:22[1-9]|2[3-9]\d|[3-6]\d{2}|7[01]\d|720)"


class BrandCreditCardRecognizer(KeptPatternRecognizer, CreditCardRecognizer):  # type: ignore[misc]
    """Visa (13, 16, 19 digits), Mastercard (51-55, 2221-2720), Amex, Discover, JCB; Luhn."""

    PATTERNS = [
        Pattern(
            "16-digit card",
            rf"\b(?:4\d{{3}}|5[1-5]\d{{2}}|{_MC2}|6011|6[45]\d{{2}}|35\d{{2}})([- ]?)\d{{4}}\1\d{{4}}\1\d{{4}}\b",
            0.5,
        ),
        Pattern("amex", r"\b3[47]\d{2}([- ]?)\d{6}\1\d{5}\b", 0.5),
        Pattern("visa 13 or 19 digits", r"\b4(?:\d{12}|\d{18})\b", 0.5),
    ]
    FAST_SPEC = WindowSpec(
        tuple(p.regex for p in PATTERNS),
        spans_whitespace=True,
        gate=DIGIT_ISLAND,
        min_chars=13,
        context_chars=32,
        accept=lambda rec, text, m: rec.keeps(text, m.start(), m.end()),
        batch_gate=(  # the patterns without their back-references and \b
            rf"(?:4\d{{3}}|5[1-5]\d{{2}}|{_MC2}|6011|6[45]\d{{2}}|35\d{{2}})[- ]?\d{{4}}[- ]?\d{{4}}[- ]?\d{{4}}"
            r"|3[47]\d{2}[- ]?\d{6}[- ]?\d{5}|4\d{12}"
        ),
    )

    def __init__(self) -> None:
        super().__init__(patterns=self.PATTERNS)

    def keeps(self, text: str, start: int, end: int) -> bool:
        """Luhn-valid, not the digits of an IBAN printed in groups, not a barcode (EAN, ISBN)."""
        if not self.validate_result(text[start:end]):
            return False
        if iban_groups_before(text, start, 32):
            return False
        return _BARCODE_BEFORE.search(text, max(0, start - 12), start) is None


_ASCII_WORD = "0-9A-Za-z_"
"""The ASCII word characters, for hyperscan classes: each is ``\\w`` in Python's ``re``."""

_SSN_SEED = (
    r"(?<!\d)\b(?:(?<!-)\d{3}-\d{2}-\d{4}\b(?!-\d)|\d{3} \d{2} \d{4}\b"
    r"|(?<![.,:\-/])\d{9}\b(?![.,:]\d|-\d))"
)
"""The three SSN patterns of :class:`ContextSsnRecognizer` as one seed scan (disjoint layouts,
each ``\\b``-bounded), their shared "no digit before" tested once per position: ``\\b``
before a digit already rules out a digit (a word character) before it, so each look-behind
splits into that and its other characters. Every position gives the match of
``"|".join(PATTERNS)`` (tested), and the scan is ~25% faster."""


class ContextSsnRecognizer(KeptPatternRecognizer, UsSsnRecognizer):  # type: ignore[misc]
    """US SSNs in their printed forms, and bare 9-digit runs that are not quantities.

    ``ddd-dd-dddd`` and ``ddd dd dddd`` pass Presidio's SSN invalidation; a bare 9-digit
    run also needs no deny word before it (``order``, ``build``, ``pid``...) and no unit
    after it (``ms``, ``bytes``, ``rows``...), unless an SSN word (``ssn``, ``social
    security``) is right before it.
    """

    PATTERNS = [
        Pattern("SSN dashed", r"(?<![\d\-])\b\d{3}-\d{2}-\d{4}\b(?!-\d)", 0.6),
        Pattern("SSN spaced", r"\b\d{3} \d{2} \d{4}\b", 0.5),
        Pattern("SSN bare", r"(?<![\d.,:\-/])\b\d{9}\b(?![.,:]\d|-\d)", 0.3),
    ]
    _CONTEXT_RE = re.compile(r"ssn|social security|social sec", re.I)
    FAST_SPEC = WindowSpec(
        (_SSN_SEED,),
        spans_whitespace=True,
        context_chars=40,
        gate=DIGIT_ISLAND,
        min_chars=9,
        accept=lambda rec, text, m: rec.keeps(text, m.start(), m.end()),
        batch_gate=r"\d{3}-\d{2}-\d{4}|\d{3} \d{2} \d{4}|\d{9}",
        # On ASCII texts, the look-behinds and \b become one character (or the text edge) on
        # each side that is no word character and none of the look-behinds' punctuation:
        # 9-digit runs inside longer numbers (timestamps, ids) no longer pass.
        ascii_batch_gate=(
            rf"(?:^|[^{_ASCII_WORD}\-])\d{{3}}-\d{{2}}-\d{{4}}(?:[^{_ASCII_WORD}]|$)"
            rf"|(?:^|[^{_ASCII_WORD}])\d{{3}} \d{{2}} \d{{4}}(?:[^{_ASCII_WORD}]|$)"
            rf"|(?:^|[^{_ASCII_WORD}.,:\-/])\d{{9}}(?:[^{_ASCII_WORD}]|$)"
        ),
    )

    def __init__(self) -> None:
        super().__init__(patterns=self.PATTERNS)

    def keeps(self, text: str, start: int, end: int) -> bool:
        """Not an invalid SSN; a bare 9-digit run only when it is not a quantity or an id."""
        value = text[start:end]
        if value.isdigit():
            # Every check is pure, so their order changes no answer: the quantity checks go
            # before Presidio's invalidation, which is slower and rarely the one that says no.
            before = text[max(0, start - 40) : start]
            if not self._CONTEXT_RE.search(before) and (
                deny_word_before(text, start)
                or iban_groups_before(text, start, 40)
                or _UNIT_AFTER.match(text, end) is not None
            ):
                return False
        return not self.invalidate_result(value)


_IBAN = re.compile(
    r"(?<![A-Za-z0-9])[A-Z]{2}[0-9]{2}(?:[ -]?[A-Z0-9]{4}){2,7}(?:[ -]?[A-Z0-9]{1,3})?(?![A-Za-z0-9])"
)
_IBAN_GROUP = re.compile(r"[ -]?[A-Z0-9]{1,4}$")


class CaseIbanRecognizer(IbanRecognizer):  # type: ignore[misc]
    """IBANs, spaced or not, validated by Presidio's checksum and per-country format.

    Presidio's pattern runs case-insensitively, so a short lowercase word after an IBAN
    (``ES82 4039 2764 1961 9748 4330 city=...``) joins the match and fails the checksum:
    the IBAN leaks. Here letters are upper case (as IBANs are written), a lowercase letter
    ends the match, and a match that fails validation is retried without its trailing
    groups (an upper-case word after the IBAN).
    """

    FAST_SPEC = WindowSpec(
        (r"[A-Z][A-Z]\d\d(?:[ -]?[A-Z0-9]{4}){2}",), spans_whitespace=True, right_run=True
    )

    def analyze(
        self,
        text: str,
        entities: list[str],
        nlp_artifacts: Any = None,
        regex_flags: int | None = None,
    ) -> list[RecognizerResult]:
        results: list[RecognizerResult] = []
        for m in _IBAN.finditer(text):
            value = m.group()
            while len(value) >= 15:
                if self.validate_result(value):
                    results.append(self._result(m.start(), m.start() + len(value)))
                    break
                cut = _IBAN_GROUP.search(value)
                if cut is None:
                    break
                value = value[: cut.start()]
        return results

    def _result(self, start: int, end: int) -> RecognizerResult:
        return RecognizerResult(
            entity_type="IBAN_CODE",
            start=start,
            end=end,
            score=1.0,
            analysis_explanation=AnalysisExplanation(
                recognizer=type(self).__name__,
                original_score=1.0,
                pattern_name="IBAN",
                pattern=_IBAN.pattern,
                validation_result=True,
            ),
            recognition_metadata={
                RecognizerResult.RECOGNIZER_NAME_KEY: self.name,  # type: ignore[has-type]
                RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
            },
        )


_IPV4_CHARS = re.compile(r"[0-9.]*")
_IPV4_CHAR_SET = frozenset("0123456789.")
_IPV4_RUN_MAX = 64  # longer runs of digits and dots are left to the window
_IPV6 = (
    r"(?<![\w:.])(?:[0-9a-fA-F]{0,4}:){2,7}"
    r"(?:(?:\d{1,3}\.){3}\d{1,3}|[0-9a-fA-F]{1,4})?(?:%[0-9a-zA-Z]+)?(?![\w:]|\.\d)"
)


class ValidatedIpRecognizer(IpRecognizer):  # type: ignore[misc]
    """IPv4 (Presidio's pattern) and whole IPv6 addresses, kept when ``ipaddress`` parses them.

    Presidio's IPv6 alternation stops early on compressed forms (``2001:db8::1`` gives
    ``2001:db8::`` and leaks the last group); this one takes the longest colon-hex run and
    lets ``ipaddress`` decide. A lone ``::``-group (``a[::2]``, C++ scopes) is not an address.
    """

    FAST_SPEC = WindowSpec(
        (r"\d\.\d{1,3}\.\d{1,3}\.\d",),  # IPv4: inside a digit island of 7+ chars
        gate=DIGIT_ISLAND,
        min_chars=7,
        # IPv6 has "::", or 8 groups, or 6 groups and an IPv4 tail: ":g:g:g:g:g:" in both
        open_seeds=("::", ":" + "[0-9a-fA-F]{1,4}:" * 5),
        batch_gate=r"\d\.\d{1,3}\.\d{1,3}\.\d|::|:(?:[0-9a-fA-F]{1,4}:){5}",
        accept=lambda rec, text, m: rec.keeps_ipv4_near(text, m),
    )

    def __init__(self) -> None:
        ipv4 = next(p for p in IpRecognizer.PATTERNS if p.name == "IPv4")
        super().__init__(patterns=[ipv4, Pattern("IPv6", _IPV6, 0.6)])
        # the IPv4 pattern as Presidio runs it: the same module, pattern and flags
        self._ipv4 = regex.compile(ipv4.regex, flags=self.global_regex_flags)
        self._kept: dict[str, bool] = {}  # IPv4 value -> kept (``0.0.0.0`` recurs)

    def keeps_ipv4_near(self, text: str, seed: re.Match[str]) -> bool:
        """Whether an IPv4 address this recognizer keeps overlaps ``seed`` (``True`` for an
        IPv6 seed, and for a seed with non-ASCII digits).

        Exact as an ``accept``: an IPv4 match is ``[0-9.]`` only, so the whole text's matches
        inside the ``[0-9.]`` run around the seed are those of a scan of that run (nothing
        before it can reach into it; the scan reads one character past it for ``\\b``).
        Each match the recognizer keeps overlaps some seed of the island scan (a seed starts
        at the last digit of its first octet unless an earlier seed covers that digit), and
        that seed is accepted and its window is the match's run. An ``0.0.0.0:5601`` costs no
        window. IPv6 matches have their own seeds (``open_seeds``).
        """
        start, end = seed.span()
        if _IPV4_CHARS.fullmatch(text, start, end) is None:
            return True  # an IPv6 seed, or Unicode digits: not decided here
        lo, stop = start, max(0, start - _IPV4_RUN_MAX)
        while lo > stop and text[lo - 1] in _IPV4_CHAR_SET:
            lo -= 1
        hi = _IPV4_CHARS.match(text, end, end + _IPV4_RUN_MAX).end()  # type: ignore[union-attr]
        if (lo and text[lo - 1] in _IPV4_CHAR_SET) or (
            hi < len(text) and text[hi] in _IPV4_CHAR_SET
        ):
            return True  # a long run of digits and dots: not decided here (no quadratic walk)
        for found in self._ipv4.finditer(text, lo, hi + 1):
            if found.start() < end and found.end() > start and self._keeps(found.group()):
                return True
        return False

    def _keeps(self, value: str) -> bool:
        """Presidio's scoring of a match: kept when valid and not invalidated (memoized)."""
        kept = self._kept.get(value)
        if kept is None:
            kept = bool(self.validate_result(value)) and not self.invalidate_result(value)
            if len(self._kept) > 4_096:
                self._kept.clear()
            self._kept[value] = kept
        return kept

    def validate_result(self, pattern_text: str) -> bool:
        try:
            address = ipaddress.ip_address(pattern_text)
        except ValueError:
            return False
        if address.is_unspecified or address.is_loopback:
            return False  # 0.0.0.0, ::, 127.0.0.1, ::1: never a person's address
        if address.version == 6:
            return sum(1 for group in pattern_text.split(":") if group) >= 2
        return True


def tuned_recognizers(locales: tuple[str, ...] | None = None) -> list[EntityRecognizer]:
    """The recognizers that replace Presidio's for URL, PHONE_NUMBER, CREDIT_CARD, US_SSN, IP_ADDRESS.

    ``locales``: the policy's locales, whose regions phone numbers are validated in.
    """
    return [
        CodeAwareUrlRecognizer(),
        StrictPhoneRecognizer(regions_for(locales) if locales else None),
        BrandCreditCardRecognizer(),
        ContextSsnRecognizer(),
        ValidatedIpRecognizer(),
        CaseIbanRecognizer(),
    ]


def default_registry(nlp_engine: Any, locales: tuple[str, ...] | None = None) -> Any:
    """Presidio's English registry with the five tuned recognizers in place of the originals."""
    from ollive.redact._presidio import vanilla_registry

    registry = vanilla_registry(nlp_engine)
    replaced = {
        "UrlRecognizer",
        "PhoneRecognizer",
        "CreditCardRecognizer",
        "UsSsnRecognizer",
        "IpRecognizer",
        "IbanRecognizer",
    }
    registry.recognizers = [r for r in registry.recognizers if type(r).__name__ not in replaced]
    for rec in tuned_recognizers(locales):
        registry.add_recognizer(rec)
    return registry
