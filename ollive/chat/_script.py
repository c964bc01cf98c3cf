"""What the demo model says: intent rules that pick tool calls, and answer templates.

Pure functions of the messages and a seeded :class:`random.Random`; no LangChain runtime.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)

__all__ = [
    "JUDGE_MARKER",
    "Plan",
    "detect_tool_calls",
    "judge_reply",
    "judge_score",
    "plan",
    "split_words",
]

JUDGE_MARKER = "[ollive-judge]"
"""A system message holding this is a judge prompt (the literal of
``ollive.evaluate.judge.JUDGE_MARKER``, which ``ollive.chat`` may not import; a test keeps
the two equal)."""

_ORDER = re.compile(r"\bORD[-\s]?(\d{3,6})\b", re.IGNORECASE)
_TIME = re.compile(
    r"\b(what time|time is it|current time|time now|time in|today's date|what day|"
    r"what's the date|what is the date|date today|the date)\b",
    re.IGNORECASE,
)
_CITIES = ("london", "paris", "berlin", "new york", "san francisco", "los angeles", "chicago",
           "tokyo", "sydney", "singapore", "mumbai", "sao paulo")  # fmt: skip
_WORD_OPS = [
    (re.compile(r"(\d+(?:\.\d+)?)\s*%\s*of\s*(\d+(?:\.\d+)?)", re.I), r"(\1/100)*\2"),
    (re.compile(r"(?:square root|sqrt)\s*(?:of\s*)?(\d+(?:\.\d+)?)", re.I), r"sqrt(\1)"),
    (re.compile(r"(\d)\s*(?:x|×|times|multiplied by)\s*(?=\d)", re.I), r"\1*"),
    (re.compile(r"\s+plus\s+", re.I), " + "),
    (re.compile(r"\s+minus\s+", re.I), " - "),
    (re.compile(r"\s+divided by\s+", re.I), " / "),
    (re.compile(r"\s*(?:to the power of|\^)\s*", re.I), "**"),
    (re.compile(r"(\d)\s+squared\b", re.I), r"\1**2"),
]
_EXPR = re.compile(r"(?:sqrt\()?[\d(][\d.\s+\-*/%()]*[\d)]|sqrt\(\d+(?:\.\d+)?\)")
_HAS_OP = re.compile(r"(?:[\d)]\s*(?:\*\*|[+*/%])\s*[\d(])|(?:\d\s+-\s+\d)|sqrt\(")
_NOT_MATH = re.compile(
    r"\b\d{3}[-.\s]\d{3}[-.\s]\d{4}\b|\b\d{4}-\d{2}-\d{2}\b|\b(?:\d{4}[\s-]?){3}\d{4}\b"
)
_DOC_WORDS = re.compile(
    r"\b(price|pricing|plans?|cost|upgrade|refunds?|shipping|delivery|tracking|returns?|"
    r"exchange|api keys?|tokens?|rate limits?|429|sdk|install|password|reset|login|2fa|"
    r"invoices?|billing|vat|export|gdpr|webhooks?|integrations?|slack|zapier|support|"
    r"security|soc ?2|encryption|outage|status page|signup|sign up|account)\b",
    re.IGNORECASE,
)
_PII = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+|\b(?:\d[ -]?){13,19}\b|\+?\d[\d\s().-]{8,}\d")
_OPENERS = [
    "",
    "",
    "Sure! ",
    "Happy to help. ",
    "Good question. ",
    "Of course. ",
    "Let me help with that. ",
]
_CLOSERS = [
    "",
    " Is there anything else I can help you with?",
    " Let me know if you have other questions.",
    " I hope that helps!",
    " Feel free to ask if something is unclear.",
]
_FILLERS = [
    "You can find more details in the help center at any time.",
    "Most customers sort this out in a couple of minutes.",
    "If anything looks off, our support team is available around the clock on paid plans.",
    "I can also look up an order for you if you share its id, like ORD-10001.",
    "Settings are available from the account menu in the top right corner.",
    "Changes usually take effect immediately.",
]
_SMALL_TALK = {
    "hello": "Hi there! I'm the Acme support assistant. I can check an order, explain plans and billing, do quick calculations or tell you the time.",
    "thank": "You're welcome! Glad I could help.",
    "bye": "Goodbye, and have a great day!",
}


@dataclass
class Plan:
    """One model call's outcome, before timing: tool calls or a text, or a failure."""

    rng: random.Random
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    text: str = ""
    failure: str | None = None  # "error" | "timeout"
    prompt_tokens: int = 0


def split_words(text: str) -> list[str]:
    """The streaming pieces of ``text``: each word with its leading whitespace."""
    return re.findall(r"\s*\S+", text) or [text]


def _call(name: str, args: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    return {"name": name, "args": args, "id": f"call_{rng.getrandbits(80):020x}"}


def _math_expression(text: str) -> str | None:
    if _NOT_MATH.search(text):
        text = _NOT_MATH.sub(" ", text)
    for pattern, repl in _WORD_OPS:
        text = pattern.sub(repl, text)
    candidates = [m.group(0).strip() for m in _EXPR.finditer(text)]
    candidates = [c for c in candidates if _HAS_OP.search(c)]
    if not candidates:
        return None
    expr = max(candidates, key=len)
    return expr if expr.count("(") == expr.count(")") else expr.replace("(", "").replace(")", "")


def detect_tool_calls(text: str, tools: Sequence[str], rng: random.Random) -> list[dict[str, Any]]:
    """The tool calls a question needs (only among ``tools``), in a stable order."""
    calls: list[dict[str, Any]] = []
    if "lookup_order" in tools:
        for number in dict.fromkeys(m.group(1) for m in _ORDER.finditer(text)):
            calls.append(_call("lookup_order", {"order_id": f"ORD-{number}"}, rng))
    if "calculator" in tools and (expr := _math_expression(_ORDER.sub(" ", text))):
        calls.append(_call("calculator", {"expression": expr}, rng))
    if "current_time" in tools and _TIME.search(text):
        city = next((c for c in _CITIES if c in text.lower()), "UTC")
        calls.append(
            _call("current_time", {"timezone": city.title() if city != "UTC" else city}, rng)
        )
    if "search_docs" in tools and not calls and _DOC_WORDS.search(text):
        calls.append(_call("search_docs", {"query": text.strip()[:200]}, rng))
    return calls


def plan(messages: Sequence[BaseMessage], tools: Sequence[str], seed: int) -> Plan:
    """What the model does next, given the conversation so far and the bound tool names."""
    rng = random.Random(seed)
    result = Plan(rng)
    if (verdict := judge_reply(messages, rng)) is not None:
        result.text = verdict
        return result
    last = messages[-1] if messages else HumanMessage("")
    if isinstance(last, ToolMessage):
        result.text = _answer_from_tools(messages, rng)
    else:
        text = last.text if isinstance(last.content, (str, list)) else str(last.content)
        result.tool_calls = detect_tool_calls(text, tools, rng) if tools else []
        if not result.tool_calls:
            result.text = _answer_plain(text, len(messages), rng)
    return result


def _tool_results(messages: Sequence[BaseMessage]) -> list[ToolMessage]:
    out: list[ToolMessage] = []
    for m in reversed(messages):
        if isinstance(m, ToolMessage):
            out.append(m)
        elif isinstance(m, AIMessage):
            break
    return out[::-1]


def _answer_from_tools(messages: Sequence[BaseMessage], rng: random.Random) -> str:
    parts = [_describe(m, rng) for m in _tool_results(messages)]
    return rng.choice(_OPENERS) + " ".join(parts) + rng.choice(_CLOSERS)


def _describe(message: ToolMessage, rng: random.Random) -> str:
    content = message.text
    if message.status == "error":
        if message.name == "lookup_order":
            return "I couldn't find that order. Please check the id; it looks like ORD-10001."
        return f"Sorry, I couldn't complete that ({content[:120]})."
    if message.name == "calculator":
        expr, _, value = content.rpartition(" = ")
        return f"{expr} equals {value}." if expr else f"The result is {content}."
    if message.name == "current_time":
        return f"It is currently {content}."
    if message.name == "lookup_order":
        return _describe_order(json.loads(content))
    if message.name == "search_docs":
        results = json.loads(content).get("results", [])
        if not results:
            return "I couldn't find anything about that in our documentation."
        first = results[0]
        return f"According to our {first['title'].lower()} guide: {first['text']} " + rng.choice(
            _FILLERS
        )
    return content[:300]


def _describe_order(order: dict[str, Any]) -> str:
    items = ", ".join(f"{i['quantity']} x {i['name']}" for i in order["items"])
    text = (
        f"Order {order['order_id']}, placed on {order['placed_on']}, is {order['status']}. "
        f"It contains {items}, for a total of ${order['total_usd']:.2f}."
    )
    if order.get("tracking"):
        text += f" It ships with {order['carrier']}, tracking number {order['tracking']}."
    if order.get("eta"):
        text += f" Expected delivery: {order['eta']}."
    if order["status"] == "cancelled":
        text += " Since it was cancelled, no charge was made."
    return text


def _answer_plain(text: str, turns: int, rng: random.Random) -> str:
    lower = text.lower()
    for key, answer in _SMALL_TALK.items():
        if key in lower or (key == "hello" and re.search(r"\b(hi|hey)\b", lower)):
            return answer
    body: list[str] = []
    if _PII.search(text):
        body.append(
            "For your security, please avoid sharing personal details such as card numbers or contact information in chat."
        )
    if re.search(r"\border\b", lower):
        body.append(
            "I can check that order for you: what is the order id? It looks like ORD-10001."
        )
    else:
        body.append(
            rng.choice(
                [
                    "I'm the Acme support assistant: I can look up orders, explain plans, billing and the API, do calculations and tell the time.",
                    "I'm not sure I understood. Could you tell me a bit more about what you need?",
                    "Thanks for the details. Here is what I would suggest.",
                ]
            )
        )
    if turns > 4:
        body.append("Building on what we discussed earlier, this should cover your case.")
    body.extend(rng.sample(_FILLERS, k=rng.randint(1, 3)))
    return rng.choice(_OPENERS) + " ".join(body) + rng.choice(_CLOSERS)


# --- judge mode: a deterministic verdict for ollive.evaluate's LLM judge -----------------------

_SCALE = re.compile(r"on a scale from (-?\d+(?:\.\d+)?) to (-?\d+(?:\.\d+)?)")
_REFUSING = ("i can't", "i cannot", "i'm unable", "i am unable", "i'm sorry, but", "as an ai",
             "i won't", "i must decline")  # fmt: skip
_STOPWORDS = frozenset(("the", "and", "for", "you", "are", "with", "that", "this", "your",
                        "can", "has", "have", "was", "not", "but", "its", "our", "from"))  # fmt: skip
_VERDICTS = {
    1: "The output is empty, so it does not answer the input at all.",
    2: "The output refuses to help instead of answering the input.",
    3: "The output is on topic but only partly addresses the input.",
    4: "The output addresses the input reasonably well, with minor gaps.",
    5: "The output agrees with the expected answer and addresses the input fully.",
}


def _tagged(text: str, tag: str) -> str | None:
    """The text between ``<tag>`` and the last ``</tag>`` (the judge prompt's sections)."""
    start, end = text.find(f"<{tag}>"), text.rfind(f"</{tag}>")
    return text[start + len(tag) + 2 : end].strip() if 0 <= start < end else None


def _content_words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z]{3,}|\d+", text.lower()) if w not in _STOPWORDS}


def judge_score(output: str, expected: str | None) -> int:
    """The demo judge's score from 1 to 5: empty 1, a refusal 2, sharing at least half of the
    expected output's content words 5, else 3 or 4 by a hash of the output."""
    text = " ".join(output.replace("\u2019", "'").lower().split())
    if not text:
        return 1
    if any(phrase in text for phrase in _REFUSING):
        return 2
    wanted = _content_words(expected or "")
    if wanted and len(wanted & _content_words(text)) * 2 >= len(wanted):
        return 5
    return 3 + hashlib.sha256(text.encode()).digest()[0] % 2


def judge_reply(messages: Sequence[BaseMessage], rng: random.Random) -> str | None:
    """The JSON verdict for a judge prompt (a system message with :data:`JUDGE_MARKER`), on
    the prompt's scale; ``None`` for any other conversation."""
    system = next((m.text for m in messages if isinstance(m, SystemMessage)), "")
    if JUDGE_MARKER not in system:
        return None
    prompt = next((m.text for m in messages if isinstance(m, HumanMessage)), "")
    score = judge_score(_tagged(prompt, "output") or "", _tagged(prompt, "expected_output"))
    found = _SCALE.search(system)
    lo, hi = (float(found[1]), float(found[2])) if found else (1.0, 5.0)
    value = round(lo + (score - 1) * (hi - lo) / 4, 4)
    reply = json.dumps({"score": int(value) if value.is_integer() else value,
                        "reasoning": _VERDICTS[score]})  # fmt: skip
    return f"```json\n{reply}\n```" if rng.random() < 0.25 else reply
