"""A seeded, labelled corpus of LLM-style texts for measuring PII redaction.

``generate_pii_corpus(n, seed)`` returns ``n`` :class:`PiiSample` texts of 100-1,500
characters, shaped like what LLM applications log: user questions, code, JSON tool
outputs, application logs and chat transcripts. About 30% carry one to three PII values
(e-mail, phone, credit card, IBAN, IP address, US SSN, URL, Bitcoin address) in varied
real-world formats with valid checksums, and every PII value is labelled with its exact
span. All texts are sprinkled with hard negatives: versions, hashes, UUIDs, file names,
``obj.attr`` expressions, invoice and build numbers, timestamps, ports.

The same ``(n, seed)`` always gives the same corpus::

    from ollive.demo import generate_pii_corpus
    corpus = generate_pii_corpus(5_000, seed=7)
    sample = corpus[0]
    sample.text, sample.spans, sample.kind
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from ollive.demo._pii_values import FIRST, VALUE_MAKERS, hard_negative

__all__ = [
    "LABELLED_ENTITIES",
    "PiiSample",
    "PiiSpan",
    "Segment",
    "assemble_segments",
    "generate_pii_corpus",
]

LABELLED_ENTITIES: tuple[str, ...] = tuple(VALUE_MAKERS)
"""The entity types the corpus labels."""

MIN_CHARS, MAX_CHARS = 100, 1_500
PII_SHARE = 0.3


@dataclass(frozen=True)
class PiiSpan:
    """One labelled PII value: ``text[start:end]`` is the value."""

    entity_type: str
    start: int
    end: int


@dataclass(frozen=True)
class PiiSample:
    """One corpus text, its kind (question, code, json, log, chat) and its PII labels."""

    text: str
    kind: str
    spans: tuple[PiiSpan, ...] = field(default_factory=tuple)

    @property
    def has_pii(self) -> bool:
        """Whether any PII value is labelled in this text."""
        return bool(self.spans)


Segment = str | tuple[str, str]  # plain text, or (entity_type, value)

_CONTEXT = {
    "EMAIL_ADDRESS": [
        "my email is {v}",
        "contact: {v}",
        "reply to {v} please",
        '"email": "{v}"',
        "user={v}",
    ],
    "PHONE_NUMBER": [
        "call me at {v}",
        "phone: {v}",
        "my number is {v}",
        '"phone": "{v}"',
        "mobile {v}",
    ],
    "CREDIT_CARD": [
        "card number {v}",
        "my visa is {v}",
        "paid with {v}",
        '"card": "{v}"',
        "cc {v}",
    ],
    "IBAN_CODE": ["IBAN {v}", "please wire it to {v}", '"iban": "{v}"', "account: {v}"],
    "IP_ADDRESS": ["client_ip={v}", "from {v}", '"remote_addr": "{v}"', "connecting to {v}"],
    "US_SSN": ["SSN {v}", "my social security number is {v}", '"ssn": "{v}"', "ssn: {v}"],
    "URL": ["see {v}", "open {v} in your browser", '"profile_url": "{v}"', "link: {v}"],
    "CRYPTO": [
        "send BTC to {v}",
        "wallet {v}",
        '"btc_address": "{v}"',
        "my bitcoin address is {v}",
    ],
}


def _pii_segments(rng: random.Random, entity: str) -> list[Segment]:
    before, _, after = rng.choice(_CONTEXT[entity]).partition("{v}")
    return [before, (entity, VALUE_MAKERS[entity](rng)), after]


def _question(rng: random.Random) -> list[Segment]:
    neg = hard_negative(rng)
    return [
        rng.choice(
            [
                f"How do I fix this error in {neg}? It started after upgrading to 2.{rng.randint(0, 9)}. ",
                f"Can you explain why {neg} behaves differently on Python 3.{rng.randint(8, 13)}? ",
                f"Summarise the attached report ({neg}) in three bullet points. ",
                f"What is the difference between {neg} and the default setting, and which is faster? ",
                f"I get a timeout after {rng.randint(2, 120)} seconds when calling the API; trace id {neg}. ",
            ]
        )
    ]


def _code(rng: random.Random) -> list[Segment]:
    neg1, neg2 = hard_negative(rng), hard_negative(rng)
    return [
        rng.choice(
            [
                f"def load(self, path='data.json'):\n    self.name = path\n    return df.info()  # {neg1}\n",
                f"for i in range({rng.randint(2, 1000)}):\n    model.fit(x[i], y[i])\n    log.info('step %d', i)  # {neg1}\n",
                f"import numpy as np\nnp.random.seed({rng.randint(0, 99999)})\nresult = os.path.join(base, '{neg1}')\n",
                f"class Config:\n    version = '{neg1}'\n    build = '{neg2}'\n    timeout_s = {rng.randint(1, 90)}.5\n",
                f"const url = `${{base}}/api/v{rng.randint(1, 3)}/items`;\nres.status(200).json({{ id: '{neg1}' }});\n",
                f"SELECT id, created_at FROM events WHERE build = '{neg1}' LIMIT {rng.randint(10, 500)};\n",
            ]
        )
    ]


def _json(rng: random.Random) -> list[Segment]:
    neg1, neg2 = hard_negative(rng), hard_negative(rng)
    return [
        rng.choice(
            [
                f'{{"status": "ok", "id": "{neg1}", "took_ms": {rng.randint(1, 9000)}, "ref": "{neg2}"}} ',
                f'{{"tool": "lookup_order", "result": {{"order": "{neg1}", "total": {rng.randint(1, 900)}.{rng.randint(10, 99)}, "items": {rng.randint(1, 9)}}}}} ',
                f'{{"file": "{neg1}", "lines": {rng.randint(1, 4000)}, "sha": "{neg2}"}} ',
                f'{{"model": "gpt-4o-mini", "usage": {{"prompt_tokens": {rng.randint(10, 9000)}, "completion_tokens": {rng.randint(1, 900)}}}}} ',
            ]
        )
    ]


def _log(rng: random.Random) -> list[Segment]:
    neg = hard_negative(rng)
    ts = f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d} {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d},{rng.randint(0, 999):03d}"
    level = rng.choice(["INFO", "INFO", "DEBUG", "WARNING", "ERROR"])
    return [
        f"{ts} {level} [worker-{rng.randint(1, 16)}] "
        + rng.choice(
            [
                f"request {neg} finished in {rng.randint(1, 5000)}ms\n",
                f"retrying {neg} (attempt {rng.randint(1, 5)}/5)\n",
                f"cache miss for key {neg}\n",
                f"loaded {rng.randint(1, 100000)} rows from {neg}\n",
            ]
        )
    ]


def _chat(rng: random.Random) -> list[Segment]:
    name = rng.choice(FIRST).title()
    return [
        rng.choice(
            [
                f"User: hi, can you check my order {hard_negative(rng)}?\nAssistant: Sure, I found it. ",
                f"User: the invoice {hard_negative(rng)} looks wrong.\nAssistant: Let me look into that for you. ",
                f"Assistant: Hello {name}! How can I help you today?\nUser: I want to update my details. ",
                f"User: thanks, that fixed it\nAssistant: Glad to help, {name}. Anything else? ",
            ]
        )
    ]


_KINDS: dict[str, Callable[[random.Random], list[Segment]]] = {
    "question": _question,
    "code": _code,
    "json": _json,
    "log": _log,
    "chat": _chat,
}


def assemble_segments(segments: list[Segment]) -> tuple[str, tuple[PiiSpan, ...]]:
    """The text of ``segments`` (plain text, or ``(entity_type, value)``) and a label per value."""
    parts: list[str] = []
    spans: list[PiiSpan] = []
    pos = 0
    for seg in segments:
        if isinstance(seg, tuple):
            entity, value = seg
            spans.append(PiiSpan(entity, pos, pos + len(value)))
            seg = value
        parts.append(seg)
        pos += len(seg)
    return "".join(parts), tuple(spans)


def _assemble(segments: list[Segment], kind: str) -> PiiSample:
    text, spans = assemble_segments(segments)
    return PiiSample(text, kind, spans)


def _sample(rng: random.Random) -> PiiSample:
    kind = rng.choice(list(_KINDS))
    make = _KINDS[kind]
    target = rng.randint(MIN_CHARS, MAX_CHARS)
    blocks: list[list[Segment]] = []
    if rng.random() < PII_SHARE:
        for _ in range(rng.choice([1, 1, 1, 2, 2, 3])):
            blocks.append(_pii_segments(rng, rng.choice(LABELLED_ENTITIES)) + ["\n"])
    length = sum(len(s if isinstance(s, str) else s[1]) for b in blocks for s in b)
    while length < target:
        block = make(rng)
        size = sum(len(s if isinstance(s, str) else s[1]) for s in block)
        if length >= MIN_CHARS and length + size > MAX_CHARS:
            break
        blocks.insert(rng.randint(0, len(blocks)), block)
        length += size
    sample = _assemble([s for b in blocks for s in b], kind)
    if len(sample.text) > MAX_CHARS:  # only plain blocks are ever cut
        return _sample(rng)
    return sample


def generate_pii_corpus(n: int = 5_000, seed: int = 0) -> list[PiiSample]:
    """``n`` labelled LLM-style texts, the same for the same ``(n, seed)``."""
    rng = random.Random(seed)
    return [_sample(rng) for _ in range(n)]
