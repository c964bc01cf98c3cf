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
    IpRecognizer,
    PhoneRecognizer,
    UsSsnRecognizer,
)

from ollive.redact._gates import DIGIT_ISLAND, WindowSpec

__all__ = [
    "BrandCreditCardRecognizer",
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

    FAST_SPEC = WindowSpec(("://", r"[wW][wW][wW]\d{0,3}\.", rf"\.(?i:{_TLDS})(?![\w\-(])"))
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
_PHONE_CANDIDATE = re.compile(  # never starts on an ISO date (log timestamps)
    rf"(?<![\w+./:#\-])(?!\d{{4}}-\d\d?-\d\d?)(?:\+|\()?{_PHONE_BODY}(?![\w/:]|[.\-]\w)"
)
_DATE_OR_TIME = re.compile(r"\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2,4}|\d{1,2}:\d{2}")
_DIGIT = re.compile(r"\d")
_IPV4_SHAPE = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")
_NOT_PHONE_SHAPE = re.compile(
    r"^(?:\d{13,19}|\d+\.\d{1,2}|\d{4}([ -])\d{4}\1\d{4}\1\d{1,4}|\d{4}([ -])\d{6}\2\d{4,5}|\d{3}([ -])\d{2}\3\d{4})$"
)
_IBAN_BEFORE = re.compile(r"[A-Z]{2}\d{2}(?: [A-Z0-9]{4})*[ -]$")
_PHONE_DENY = re.compile(
    r"(?:#|inv\w*|order|build|ticket|id|ref|version|port|pid|rows?|tokens?)\W{0,3}$", re.I
)
_PHONE_CONTEXT = re.compile(r"phone|call|tel|mobile|cell|whatsapp|sms|fax|number|contact", re.I)
_PHONE_CONTEXT_CHARS = 32


class StrictPhoneRecognizer(PhoneRecognizer):  # type: ignore[misc]
    """``phonenumbers``-validated numbers on phone-shaped candidates only."""

    FAST_SPEC = WindowSpec(
        (_PHONE_CANDIDATE.pattern,),
        spans_whitespace=True,
        context_chars=_PHONE_CONTEXT_CHARS,
        gate=DIGIT_ISLAND,
        min_chars=7,
        accept=lambda rec, text, m: (
            rec.is_candidate(text, m) and rec.region_of(m.group()) is not None
        ),
    )
    REGIONS = ("US", "GB", "DE", "IL", "IN", "CA", "BR")

    def __init__(self) -> None:
        super().__init__(supported_regions=self.REGIONS, leniency=1)

    def is_candidate(self, text: str, m: re.Match[str]) -> bool:
        """Whether the candidate ``m`` is phone-shaped, not denied, and has context if bare."""
        value = m.group()
        if _DATE_OR_TIME.search(value) or _NOT_PHONE_SHAPE.match(value) or _IPV4_SHAPE.match(value):
            return False  # a date, a time, a decimal, a card or SSN layout, an IPv4 address
        if len(_DIGIT.findall(value)) < 7:
            return False
        before = text[max(0, m.start() - _PHONE_CONTEXT_CHARS) : m.start()]
        if _PHONE_DENY.search(before) or _IBAN_BEFORE.search(before):
            return False
        bare = value.isdigit()
        return not bare or bool(_PHONE_CONTEXT.search(before))

    def region_of(self, value: str) -> str | None:
        """The region whose numbering plan ``value`` is valid in (``+`` numbers: any region)."""
        for region in (None,) if value.startswith("+") else self.REGIONS:
            try:
                number = phonenumbers.parse(value, region)
            except NumberParseException:
                continue
            if phonenumbers.is_valid_number(number):
                return phonenumbers.region_code_for_number(number) or region or "ZZ"
        return None

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: Any = None
    ) -> list[RecognizerResult]:
        results: list[RecognizerResult] = []
        for m in _PHONE_CANDIDATE.finditer(text):
            region = self.region_of(m.group()) if self.is_candidate(text, m) else None
            if region is not None:
                results.append(self.result_for(m.start(), m.end(), region))
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


_MC2 = r"2(?:22[1-9]|2[3-9]\d|[3-6]\d{2}|7[01]\d|720)"


class BrandCreditCardRecognizer(CreditCardRecognizer):  # type: ignore[misc]
    """Visa, Mastercard (51-55 and 2221-2720), Amex, Discover, JCB; Luhn-validated."""

    PATTERNS = [
        Pattern(
            "16-digit card",
            rf"\b(?:4\d{{3}}|5[1-5]\d{{2}}|{_MC2}|6011|6[45]\d{{2}}|35\d{{2}})([- ]?)\d{{4}}\1\d{{4}}\1\d{{4}}\b",
            0.5,
        ),
        Pattern("amex", r"\b3[47]\d{2}([- ]?)\d{6}\1\d{5}\b", 0.5),
    ]
    FAST_SPEC = WindowSpec(
        tuple(p.regex for p in PATTERNS),
        spans_whitespace=True,
        gate=DIGIT_ISLAND,
        min_chars=15,
        context_chars=32,
        accept=lambda rec, text, m: rec.keeps(text, m.start(), m.end()),
    )

    def __init__(self) -> None:
        super().__init__(patterns=self.PATTERNS)

    def analyze(
        self,
        text: str,
        entities: list[str],
        nlp_artifacts: Any = None,
        regex_flags: int | None = None,
    ) -> list[RecognizerResult]:
        found = super().analyze(text, entities, nlp_artifacts, regex_flags)
        return [r for r in found if self.keeps(text, r.start, r.end)]

    def keeps(self, text: str, start: int, end: int) -> bool:
        """Luhn-valid, and not the digits of an IBAN printed in groups."""
        if not self.validate_result(text[start:end]):
            return False
        return not _IBAN_BEFORE.search(text[max(0, start - 32) : start])


class ContextSsnRecognizer(UsSsnRecognizer):  # type: ignore[misc]
    """US SSNs in their printed forms; a bare 9-digit run only next to ``ssn``/``social security``."""

    PATTERNS = [
        Pattern("SSN dashed", r"\b\d{3}-\d{2}-\d{4}\b", 0.6),
        Pattern("SSN spaced", r"\b\d{3} \d{2} \d{4}\b", 0.5),
        Pattern("SSN bare (needs context)", r"\b\d{9}\b", 0.5),
    ]
    _CONTEXT_RE = re.compile(r"ssn|social security|social sec", re.I)
    FAST_SPEC = WindowSpec(
        ("|".join(p.regex for p in PATTERNS),),  # \b-bounded, disjoint layouts: one scan
        spans_whitespace=True,
        context_chars=40,
        gate=DIGIT_ISLAND,
        min_chars=9,
        accept=lambda rec, text, m: rec.keeps(text, m.start(), m.end()),
    )

    def __init__(self) -> None:
        super().__init__(patterns=self.PATTERNS)

    def analyze(
        self,
        text: str,
        entities: list[str],
        nlp_artifacts: Any = None,
        regex_flags: int | None = None,
    ) -> list[RecognizerResult]:
        found = super().analyze(text, entities, nlp_artifacts, regex_flags)
        return [r for r in found if self.keeps(text, r.start, r.end)]

    def keeps(self, text: str, start: int, end: int) -> bool:
        """Not an invalid SSN, and a bare 9-digit run only after an SSN context word."""
        value = text[start:end]
        if self.invalidate_result(value):
            return False
        return not value.isdigit() or bool(
            self._CONTEXT_RE.search(text[max(0, start - 40) : start])
        )


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
    )

    def __init__(self) -> None:
        ipv4 = next(p for p in IpRecognizer.PATTERNS if p.name == "IPv4")
        super().__init__(patterns=[ipv4, Pattern("IPv6", _IPV6, 0.6)])

    def validate_result(self, pattern_text: str) -> bool:
        try:
            address = ipaddress.ip_address(pattern_text)
        except ValueError:
            return False
        if address.version == 6:
            return sum(1 for group in pattern_text.split(":") if group) >= 2
        return True


def tuned_recognizers() -> list[EntityRecognizer]:
    """The recognizers that replace Presidio's for URL, PHONE_NUMBER, CREDIT_CARD, US_SSN, IP_ADDRESS."""
    return [
        CodeAwareUrlRecognizer(),
        StrictPhoneRecognizer(),
        BrandCreditCardRecognizer(),
        ContextSsnRecognizer(),
        ValidatedIpRecognizer(),
    ]


def default_registry(nlp_engine: Any) -> Any:
    """Presidio's English registry with the five tuned recognizers in place of the originals."""
    from ollive.redact._presidio import vanilla_registry

    registry = vanilla_registry(nlp_engine)
    replaced = {
        "UrlRecognizer",
        "PhoneRecognizer",
        "CreditCardRecognizer",
        "UsSsnRecognizer",
        "IpRecognizer",
    }
    registry.recognizers = [r for r in registry.recognizers if type(r).__name__ not in replaced]
    for rec in tuned_recognizers():
        registry.add_recognizer(rec)
    return registry
