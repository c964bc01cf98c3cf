"""A labelled redaction corpus whose values come from Faker, in nine locales.

The project's own generator (:mod:`ollive.demo.pii_corpus`) says how well the policy fits
the values this project wrote; this corpus is the headline: every PII value is drawn from
`Faker <https://faker.readthedocs.io>`_ (its phone formats, IBANs, names and cities per
locale, its card numbers, SSNs, e-mails, URLs and IP addresses), so the recognizers meet
formats nobody here chose. Values are placed in LLM-style texts of six kinds (chat turns,
code, logs, JSON, Markdown tables, tool calls), with and without separators, with and
without a context word (English or the locale's own). PII-free texts, and the filler of
every text, are dense with look-alikes drawn from Faker too: versions, decimals,
timestamps, epoch times, hashes, UUIDs, order, build and ticket numbers, ports, prices,
coordinates, durations, sizes, EANs and ISBNs.

Tune on :data:`TUNE_SEED`, report on :data:`REPORT_SEED` (held out)::

    from ollive.bench.faker_corpus import generate_faker_corpus, REPORT_SEED
    corpus = generate_faker_corpus(5_000, seed=REPORT_SEED)
    sample = corpus[0]
    sample.text, sample.spans, sample.kind, sample.locale

Faker is a development dependency (``pip install 'ollive[dev]'``).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ollive.demo.pii_corpus import PiiSpan, Segment, assemble_segments
from ollive.redact import policy

__all__ = [
    "FAKER_ENTITIES",
    "FAKER_LOCALES",
    "REPORT_SEED",
    "TUNE_SEED",
    "FakerSample",
    "generate_faker_corpus",
]

FAKER_LOCALES: tuple[str, ...] = policy.DEFAULT_LOCALES
"""The locales values are drawn from (one Faker per locale): the default policy's."""

_NO_FAKER_VALUES = frozenset({"CRYPTO", "NRP"})  # Faker has no wallets, nor nationalities
PATTERN_ENTITIES: tuple[str, ...] = tuple(
    e for e in policy.PATTERN_ENTITIES if e not in _NO_FAKER_VALUES
)
NER_ENTITIES: tuple[str, ...] = tuple(e for e in policy.NER_ENTITIES if e not in _NO_FAKER_VALUES)
FAKER_ENTITIES: tuple[str, ...] = PATTERN_ENTITIES + NER_ENTITIES
"""The labelled entity types: seven found by patterns, two by NER."""

TUNE_SEED = 1
"""The seed the recognizers were tuned on."""
REPORT_SEED = 2
"""The held-out seed every reported figure uses."""

PII_SHARE = 0.3
# Faker's dates are relative to today unless bounded: bounded, the corpus is the same every day
_EPOCH = datetime(2015, 1, 1)
_UNTIL = datetime(2026, 1, 1)

# Context words, in English and in each locale's language (a text uses one or none).
_CONTEXT: dict[str, dict[str, tuple[str, ...]]] = {
    "EMAIL_ADDRESS": {"en": ("email", "e-mail", "mail me at", "contact")},
    "PHONE_NUMBER": {
        "en": ("phone", "call me on", "mobile", "tel", "my number is", "whatsapp"),
        "fr": ("téléphone", "portable", "appelez-moi au"),
        "de": ("Telefon", "Handy", "Rufnummer"),
        "es": ("teléfono", "móvil", "llámame al"),
        "it": ("telefono", "cellulare", "chiamami al"),
        "nl": ("telefoon", "mobiel", "bel me op"),
        "pt": ("telefone", "celular", "me liga no"),
    },
    "CREDIT_CARD": {
        "en": ("card", "credit card", "card number", "paid with"),
        "fr": ("carte bancaire",),
        "de": ("Kreditkarte",),
        "es": ("tarjeta",),
        "it": ("carta di credito",),
        "nl": ("creditcard",),
        "pt": ("cartão",),
    },
    "IBAN_CODE": {
        "en": ("IBAN", "bank account", "wire it to"),
        "fr": ("RIB", "compte"),
        "de": ("Kontonummer", "IBAN"),
        "es": ("cuenta", "IBAN"),
        "it": ("conto", "IBAN"),
        "nl": ("rekeningnummer",),
        "pt": ("conta",),
    },
    "IP_ADDRESS": {"en": ("ip", "client ip", "from host", "remote_addr")},
    "US_SSN": {"en": ("SSN", "social security number", "SSN:", "social")},
    "URL": {"en": ("see", "link", "website", "open")},
    "PERSON": {
        "en": ("my name is", "customer", "signed,", "contact person"),
        "fr": ("je m'appelle", "client"),
        "de": ("ich heiße", "Kunde"),
        "es": ("me llamo", "cliente"),
        "it": ("mi chiamo", "cliente"),
        "nl": ("mijn naam is", "klant"),
        "pt": ("meu nome é", "cliente"),
    },
    "LOCATION": {
        "en": ("I live in", "ship to", "based in", "city"),
        "fr": ("j'habite à", "ville"),
        "de": ("ich wohne in", "Stadt"),
        "es": ("vivo en", "ciudad"),
        "it": ("abito a", "città"),
        "nl": ("ik woon in", "stad"),
        "pt": ("moro em", "cidade"),
    },
}
_NEUTRAL_KEYS = ("value", "to", "target", "field_3", "arg", "x", "data", "entry")
_JSON_KEYS = {
    "EMAIL_ADDRESS": "email",
    "PHONE_NUMBER": "phone",
    "CREDIT_CARD": "card_number",
    "IBAN_CODE": "iban",
    "IP_ADDRESS": "client_ip",
    "US_SSN": "ssn",
    "URL": "url",
    "PERSON": "name",
    "LOCATION": "city",
}
_TOOLS = ("lookup_customer", "create_ticket", "send_invoice", "update_profile", "notify")


@dataclass(frozen=True)
class FakerSample:
    """One corpus text: its kind, the locale its values come from, and its PII labels."""

    text: str
    kind: str
    locale: str
    spans: tuple[PiiSpan, ...] = field(default_factory=tuple)

    @property
    def has_pii(self) -> bool:
        """Whether any PII value is labelled in this text."""
        return bool(self.spans)


def _group(digits: str, size: int, sep: str) -> str:
    return sep.join(digits[i : i + size] for i in range(0, len(digits), size))


def _value(fake: Any, us: Any, rng: random.Random, entity: str) -> str:
    """One value of ``entity`` from the locale's Faker (SSNs from the US one)."""
    if entity == "EMAIL_ADDRESS":
        return str(rng.choice((fake.email, fake.free_email, fake.company_email))())
    if entity == "PHONE_NUMBER":
        value = str(fake.phone_number())
        if rng.random() < 0.25:  # written without separators
            value = "".join(c for c in value if c.isdigit() or c == "+")
        return value
    if entity == "CREDIT_CARD":
        card_type = rng.choice(("visa16", "mastercard", "amex", "discover", "jcb16", "visa19"))
        digits = str(fake.credit_card_number(card_type=card_type))
        style = rng.random()
        if style < 0.4 and len(digits) == 16:
            return _group(digits, 4, rng.choice((" ", "-")))
        if style < 0.4 and len(digits) == 15:
            sep = rng.choice((" ", "-"))
            return f"{digits[:4]}{sep}{digits[4:10]}{sep}{digits[10:]}"
        return digits
    if entity == "IBAN_CODE":
        iban = str(fake.iban())
        return _group(iban, 4, " ") if rng.random() < 0.5 else iban
    if entity == "IP_ADDRESS":
        return str(fake.ipv6() if rng.random() < 0.25 else fake.ipv4_public())
    if entity == "US_SSN":
        ssn = str(us.ssn())
        style = rng.random()
        if style < 0.3:
            return ssn.replace("-", "")
        if style < 0.45:
            return ssn.replace("-", " ")
        return ssn
    if entity == "URL":
        return str(rng.choice((fake.url, fake.uri, fake.url))())
    if entity == "PERSON":
        return str(rng.choice((fake.name, fake.name_nonbinary, fake.name))())
    if entity == "LOCATION":
        for provider in fake.get_providers():
            cities = getattr(provider, "cities", None)
            if isinstance(cities, (list, tuple, set, frozenset)):  # it_IT's list comes from a
                return str(rng.choice(sorted(set(cities))))  # set: ordered by string hashes
        return str(fake.city())
    raise ValueError(entity)


def _context(rng: random.Random, locale: str, entity: str) -> str | None:
    """A context word for ``entity`` (half the time), English or the locale's language."""
    if rng.random() < 0.5:
        return None
    words = _CONTEXT[entity]
    lang = locale[:2]
    pool = words.get(lang) if lang in words and rng.random() < 0.6 else None
    return rng.choice(pool or words["en"])


def _lookalikes(fake: Any, rng: random.Random) -> str:
    """One PII-free fragment dense with numbers that are not PII."""
    makers: tuple[Callable[[], str], ...] = (
        lambda: f"version {fake.numerify('%.#.%')}",
        lambda: f"v{fake.numerify('%.%#.#')}-rc{rng.randint(1, 9)}",
        lambda: (
            f"The build number was {fake.pyfloat(left_digits=5, right_digits=5, positive=True)}"
        ),
        lambda: f"at {fake.date_time_between(_EPOCH, _UNTIL).isoformat()}Z",
        lambda: f"ts={fake.unix_time(_UNTIL, _EPOCH):.0f}{rng.randint(100, 999)}",
        lambda: f"commit {fake.sha1()}",
        lambda: f"sha256:{fake.sha256()}",
        lambda: f"request_id={fake.uuid4()}",
        lambda: f"order #{fake.numerify('#########')}",
        lambda: f"ORD-{fake.numerify('####-######')}",
        lambda: f"build {fake.numerify('########')}",
        lambda: f"ticket {fake.bothify('??-#####').upper()}",
        lambda: f"listening on 0.0.0.0:{fake.port_number()}",
        lambda: f"localhost:{fake.port_number()}",
        lambda: f"price {fake.pricetag()}",
        lambda: f"total {rng.randint(1, 99_999):,}.{rng.randint(0, 99):02d} EUR",
        lambda: f"coords {fake.latitude()}, {fake.longitude()}",
        lambda: f"took {rng.randint(10**8, 10**9 - 1)} ns",
        lambda: f"size={rng.randint(10**6, 10**10)} bytes",
        lambda: f"{rng.randint(10**5, 10**7):,} tokens",
        lambda: f"EAN {fake.ean13()}",
        lambda: f"ISBN {fake.isbn13()}",
        lambda: f"pid {rng.randint(1000, 4_000_000)}",
        lambda: f"latency_ms={fake.pyfloat(left_digits=3, right_digits=3, positive=True)}",
        lambda: f"line {rng.randint(1, 9999)}, col {rng.randint(1, 120)}",
        lambda: f"{rng.randint(1, 100)}.{rng.randint(0, 99)}% of {rng.randint(10**6, 10**9)} rows",
        lambda: f"date {fake.date(end_datetime=_UNTIL)}",
        lambda: f"duration {fake.time(end_datetime=_UNTIL)}",
        lambda: f"color #{fake.hexify('^^^^^^')}",
        lambda: f"{fake.file_path(depth=2)}:{rng.randint(1, 999)}",
    )
    return rng.choice(makers)()


def _filler(fake: Any, rng: random.Random, kind: str) -> str:
    """A PII-free block of ``kind`` with look-alikes in it."""
    a, b, c = (_lookalikes(fake, rng) for _ in range(3))
    sentence = fake.sentence(nb_words=rng.randint(6, 14))
    if kind == "chat":
        return f"User: {sentence} ({a})\nAssistant: Done, {b}; {c}.\n"
    if kind == "code":
        return (
            f"def step_{rng.randint(1, 99)}(self, df):\n"
            f'    """{sentence}"""\n    log.info("{a}")\n    return df.head({rng.randint(1, 50)})  # {b}\n'
        )
    if kind == "log":
        level = rng.choice(("INFO", "DEBUG", "WARN"))
        return (
            f"{fake.iso8601(end_datetime=_UNTIL)} {level} worker-{rng.randint(1, 64)} {a} {b} {c}\n"
        )
    if kind == "json":
        return f'{{"note": "{sentence}", "meta": "{a}", "detail": "{b}", "n": {rng.randint(0, 10**6)}}}\n'
    if kind == "table":
        return f"| step | detail |\n|---|---|\n| {rng.randint(1, 9)} | {a} |\n| {rng.randint(10, 99)} | {b} |\n"
    return f'Calling tool `{rng.choice(_TOOLS)}` with {{"query": "{sentence}", "hint": "{a}"}}\n'


def _pii_block(fake: Any, us: Any, rng: random.Random, kind: str, locale: str) -> list[Segment]:
    """A block of ``kind`` holding one to three values."""
    entities = [rng.choice(FAKER_ENTITIES) for _ in range(rng.choice((1, 1, 2, 3)))]
    values = [(e, _value(fake, us, rng, e), _context(rng, locale, e)) for e in entities]

    def lead(ctx: str | None) -> str:
        return f"{ctx} " if ctx else ""

    segs: list[Segment] = []
    if kind == "chat":
        segs.append("User: ")
        for e, v, ctx in values:
            segs += [f"{fake.sentence(nb_words=5)[:-1]}, {lead(ctx)}", (e, v), ". "]
        segs.append(f"\nAssistant: Thanks, I have updated the record ({_lookalikes(fake, rng)}).\n")
    elif kind == "code":
        args: list[list[Segment]] = []
        for i, (e, v, ctx) in enumerate(values):
            key = _JSON_KEYS[e] if ctx else rng.choice(_NEUTRAL_KEYS) + str(i)
            args.append([f'{key}="', (e, v), '"'])
        segs.append(f"client.{rng.choice(_TOOLS)}(")
        for i, arg in enumerate(args):
            if i:
                segs.append(", ")
            segs += arg
        segs.append(f", retries={rng.randint(1, 5)})  # {_lookalikes(fake, rng)}\n")
    elif kind == "log":
        segs.append(f"{fake.iso8601(end_datetime=_UNTIL)} INFO api ")
        for e, v, ctx in values:
            key = _JSON_KEYS[e] if ctx else rng.choice(_NEUTRAL_KEYS)
            segs += [f"{key}=", (e, v), " "]
        segs.append(f"{_lookalikes(fake, rng)}\n")
    elif kind == "json":
        segs.append('{"event": "tool_result", ')
        for e, v, ctx in values:
            key = _JSON_KEYS[e] if ctx else rng.choice(_NEUTRAL_KEYS)
            segs += [f'"{key}": "', (e, v), '", ']
        segs.append(f'"meta": "{_lookalikes(fake, rng)}"}}\n')
    elif kind == "table":
        segs.append("| field | value |\n|---|---|\n")
        for e, v, ctx in values:
            segs += [f"| {ctx or rng.choice(_NEUTRAL_KEYS)} | ", (e, v), " |\n"]
        segs.append(f"| note | {_lookalikes(fake, rng)} |\n")
    else:
        segs.append(f"Calling tool `{rng.choice(_TOOLS)}` with arguments: {{")
        for i, (e, v, ctx) in enumerate(values):
            key = _JSON_KEYS[e] if ctx else rng.choice(_NEUTRAL_KEYS)
            segs += [", " if i else "", f'"{key}": "', (e, v), '"']
        segs.append("}\n")
    return segs


_KINDS = ("chat", "code", "log", "json", "table", "tool")


def _assemble(segments: list[Segment], kind: str, locale: str) -> FakerSample:
    text, spans = assemble_segments(segments)
    return FakerSample(text, kind, locale, spans)


def generate_faker_corpus(
    n: int = 5_000,
    seed: int = REPORT_SEED,
    locales: tuple[str, ...] = FAKER_LOCALES,
    pii_share: float = PII_SHARE,
) -> list[FakerSample]:
    """``n`` labelled texts, the same for the same arguments (and the same Faker release)."""
    try:
        from faker import Faker
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ImportError(
            "the Faker corpus needs Faker: pip install 'ollive[dev]' (or pip install faker)"
        ) from exc
    rng = random.Random(seed)
    fakers = {}
    for i, locale in enumerate(locales):
        fake = Faker(locale)
        fake.seed_instance(seed * 1_000 + i)
        fakers[locale] = fake
    us = Faker("en_US")
    us.seed_instance(seed * 1_000 + 999)
    corpus: list[FakerSample] = []
    for _ in range(n):
        locale = rng.choice(locales)
        fake = fakers[locale]
        kind = rng.choice(_KINDS)
        blocks: list[list[Segment]] = [[_filler(fake, rng, kind)] for _ in range(rng.randint(1, 4))]
        if rng.random() < pii_share:
            blocks.insert(rng.randint(0, len(blocks)), _pii_block(fake, us, rng, kind, locale))
        corpus.append(_assemble([s for b in blocks for s in b], kind, locale))
    return corpus
