"""Who the simulated chat users are and what they say: personas, conversation scripts, PII.

Pure functions of a seeded :class:`random.Random`. Order ids follow the demo chatbot's
bundled orders (``ORD-10001`` + 37·k, k < 40); a few unknown ids make the tool fail now
and then, like real typos.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

__all__ = ["PERSONAS", "Persona", "conversation", "with_pii"]

_KNOWN_ORDERS = [f"ORD-{10001 + 37 * k}" for k in range(40)]
_FIRST = [
    "maria",
    "james",
    "wei",
    "priya",
    "lukas",
    "sofia",
    "omar",
    "yuki",
    "chloe",
    "noah",
    "ana",
]
_LAST = ["smith", "garcia", "nguyen", "patel", "kowalski", "rossi", "tanaka", "okafor", "martin"]
_DOMAINS = ["gmail.com", "outlook.com", "example.org", "acme-corp.com", "proton.me", "startup.io"]
_CITIES = ["London", "Paris", "Tokyo", "New York", "Sydney", "Berlin", "Singapore"]


@dataclass(frozen=True)
class Persona:
    """A kind of user: what they open with, follow up with, and how long they think."""

    name: str
    openers: tuple[str, ...]
    follow_ups: tuple[str, ...]
    turns: tuple[int, int]
    think_s: tuple[float, float]


PERSONAS: tuple[Persona, ...] = (
    Persona(
        "shopper",
        (
            "Hi, where is my order {order}?",
            "Can you check the status of {order}?",
            "My order {order} hasn't arrived yet",
            "hello! I ordered something last week: {order}",
        ),
        (
            "When will it be delivered?",
            "Can I return one of the items?",
            "What is your refund policy?",
            "And what about {order}?",
            "How long does express shipping take?",
            "thanks!",
        ),
        (1, 4),
        (1.0, 4.0),
    ),  # fmt: skip
    Persona(
        "developer",
        (
            "How do I rotate my API key?",
            "What are the rate limits on the Pro plan?",
            "How do I install the Python SDK?",
            "Do you support webhooks?",
        ),
        (
            "What happens when I get a 429?",
            "How are webhook signatures computed?",
            "Can I export my data as Parquet?",
            "Which Python versions are supported?",
            "great, thanks",
        ),
        (2, 5),
        (2.0, 6.0),
    ),  # fmt: skip
    Persona(
        "finance",
        (
            "What does the Pro plan cost for 12 seats?",
            "How much is 29 * 12 * 0.85?",
            "Where can I download last month's invoice?",
            "Can you add our VAT number to invoices?",
        ),
        (
            "What is 15% of 348?",
            "And with annual billing?",
            "Do you accept SEPA debit?",
            "What is 1299 / 12?",
            "ok, thank you",
        ),
        (2, 4),
        (1.5, 5.0),
    ),  # fmt: skip
    Persona(
        "traveller",
        (
            "What time is it in {city}?",
            "Is support open right now? What time is it in Paris?",
            "hey, what's the date today?",
        ),
        ("And in {city}?", "What are your support hours?", "thanks, bye"),
        (1, 3),
        (0.5, 2.0),
    ),  # fmt: skip
    Persona(
        "frustrated",
        (
            "I was charged twice for {order}!!",
            "Your service is down, I keep getting errors",
            "I can't log in, I forgot my password",
            "order {order} arrived broken",
        ),
        (
            "This is unacceptable, I want a refund",
            "How do I reset my password?",
            "Can I talk to a human?",
            "Is there a status page?",
            "fine.",
        ),
        (2, 5),
        (0.5, 3.0),
    ),  # fmt: skip
)


def _order(rng: random.Random) -> str:
    if rng.random() < 0.08:
        return f"ORD-{rng.randint(20000, 99999)}"  # unknown: the lookup fails
    return rng.choice(_KNOWN_ORDERS)


def _fill(template: str, rng: random.Random) -> str:
    return template.format(order=_order(rng), city=rng.choice(_CITIES))


def conversation(persona: Persona, rng: random.Random) -> list[str]:
    """The messages of one conversation with ``persona`` (an opener, then follow-ups)."""
    count = rng.randint(*persona.turns)
    messages = [_fill(rng.choice(persona.openers), rng)]
    follow_ups = list(persona.follow_ups)
    rng.shuffle(follow_ups)
    messages.extend(_fill(text, rng) for text in follow_ups[: count - 1])
    return messages


def _luhn_card(rng: random.Random) -> str:
    digits = [4] + [rng.randint(0, 9) for _ in range(14)]
    total = 0
    for i, d in enumerate(reversed(digits)):
        d = d * 2 if i % 2 == 0 else d
        total += d - 9 if d > 9 else d
    digits.append((10 - total % 10) % 10)
    text = "".join(map(str, digits))
    return " ".join(text[i : i + 4] for i in range(0, 16, 4))


def with_pii(message: str, rng: random.Random) -> str:
    """``message`` with a piece of personal data added: an email, a phone or a card number."""
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    kind = rng.choice(("email", "phone", "card", "name+email"))
    if kind == "email":
        extra = f"You can reach me at {first}.{last}@{rng.choice(_DOMAINS)}."
    elif kind == "phone":
        extra = f"Call me back on +1 {rng.randint(201, 989)}-555-{rng.randint(100, 9999):04d}."
    elif kind == "card":
        extra = f"The card I used is {_luhn_card(rng)}."
    else:
        extra = f"I'm {first.title()} {last.title()}, {first[0]}{last}@{rng.choice(_DOMAINS)}."
    return f"{message} {extra}"
