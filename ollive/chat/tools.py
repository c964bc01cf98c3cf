"""The chatbot's tools: current time, a safe calculator, product-docs search, order lookup.

Each tool is a plain function traced with ``@ollive.tool`` (one ``tool_execution`` event
per call, linked to the inference that asked for it) and exposed to LangChain as a
``StructuredTool`` in :data:`TOOLS`. The docs corpus and the demo orders ship with the
package (``ollive/chat/_data``).
"""

from __future__ import annotations

import ast
import json
import math
import operator
import re
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from langchain_core.tools import BaseTool, StructuredTool

from ollive.sdk import tool

__all__ = [
    "TOOLS",
    "calculator",
    "current_time",
    "load_docs",
    "load_orders",
    "lookup_order",
    "search_docs",
]

_CITY_ZONES = {
    "utc": "UTC",
    "london": "Europe/London",
    "paris": "Europe/Paris",
    "berlin": "Europe/Berlin",
    "new york": "America/New_York",
    "san francisco": "America/Los_Angeles",
    "los angeles": "America/Los_Angeles",
    "chicago": "America/Chicago",
    "tokyo": "Asia/Tokyo",
    "sydney": "Australia/Sydney",
    "singapore": "Asia/Singapore",
    "mumbai": "Asia/Kolkata",
    "sao paulo": "America/Sao_Paulo",
}
_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.UAdd: operator.pos,
    ast.USub: operator.neg,
}
_FUNCTIONS: dict[str, Callable[..., float]] = {
    "sqrt": math.sqrt,
    "abs": abs,
    "round": round,
    "min": min,
    "max": max,
    "log": math.log,
    "exp": math.exp,
}
_CONSTANTS = {"pi": math.pi, "e": math.e}
_MAX_EXPRESSION_CHARS = 200
_MAX_POWER = 100
_WORD = re.compile(r"[a-z0-9]+")


@tool
def current_time(timezone: str = "UTC") -> str:
    """The current date and time in a timezone (an IANA name like 'Europe/Paris' or a city)."""
    name = _CITY_ZONES.get(timezone.strip().lower(), timezone.strip() or "UTC")
    try:
        zone = ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return f"Unknown timezone {timezone!r}; the time in UTC is {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC."
    now = datetime.now(zone)
    return f"{now:%A %Y-%m-%d %H:%M:%S} {now.tzname()} ({name})"


@tool
def calculator(expression: str) -> str:
    """Evaluate an arithmetic expression: + - * / // % ** ( ), sqrt, abs, round, min, max, log, exp, pi, e."""
    text = expression.strip().replace("^", "**").replace("×", "*").replace("÷", "/")
    if len(text) > _MAX_EXPRESSION_CHARS:
        raise ValueError(f"expression longer than {_MAX_EXPRESSION_CHARS} characters")
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        raise ValueError(f"not an arithmetic expression: {expression!r}") from exc
    value = _evaluate(tree.body)
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        value = int(value)
    return f"{expression.strip()} = {round(value, 10) if isinstance(value, float) else value}"


def _evaluate(node: ast.AST) -> float:
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return float(node.value) if isinstance(node.value, float) else node.value  # type: ignore[return-value]
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _evaluate(node.left), _evaluate(node.right)
        if isinstance(node.op, ast.Pow) and abs(right) > _MAX_POWER:
            raise ValueError(f"exponent larger than {_MAX_POWER}")
        return _BINARY[type(node.op)](left, right)  # type: ignore[no-any-return]
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_evaluate(node.operand))  # type: ignore[no-any-return]
    if isinstance(node, ast.Name) and node.id in _CONSTANTS:
        return _CONSTANTS[node.id]
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in _FUNCTIONS
        and not node.keywords
    ):
        return _FUNCTIONS[node.func.id](*(_evaluate(arg) for arg in node.args))
    raise ValueError(f"unsupported element in expression: {ast.dump(node)[:60]}")


@cache
def load_docs() -> tuple[dict[str, Any], ...]:
    """The bundled product-docs/FAQ corpus: dicts with id, title, tags, text."""
    raw = resources.files("ollive.chat._data").joinpath("docs.json").read_text("utf-8")
    return tuple(json.loads(raw))


@cache
def load_orders() -> dict[str, dict[str, Any]]:
    """The bundled demo orders, by order id (``ORD-10001`` ...)."""
    raw = resources.files("ollive.chat._data").joinpath("orders.json").read_text("utf-8")
    return {order["order_id"]: order for order in json.loads(raw)}


def _score(query_words: set[str], query: str, doc: dict[str, Any]) -> float:
    score = 0.0
    for tag in doc["tags"]:
        if " " in tag and tag in query:
            score += 3.0
        elif tag in query_words:
            score += 2.0
    title_words = set(_WORD.findall(doc["title"].lower()))
    score += 1.0 * len(query_words & title_words)
    text_words = set(_WORD.findall(doc["text"].lower()))
    score += 0.2 * len({w for w in query_words if len(w) > 3} & text_words)
    return score


@tool
def search_docs(query: str, limit: int = 2) -> str:
    """Search the product documentation and FAQ; returns the best matching passages."""
    text = query.lower()
    words = set(_WORD.findall(text))
    scored = sorted(((_score(words, text, d), d["id"], d) for d in load_docs()), reverse=True)
    hits = [d for score, _, d in scored[: max(1, min(limit, 5))] if score > 0]
    if not hits:
        return json.dumps({"results": [], "note": "no matching documentation"})
    results = [{"id": d["id"], "title": d["title"], "text": d["text"]} for d in hits]
    return json.dumps({"results": results})


@tool
def lookup_order(order_id: str) -> str:
    """Look up a customer order by its id (like ORD-10001): status, items, total, tracking."""
    key = order_id.strip().upper().replace(" ", "")
    if re.fullmatch(r"ORD\d+", key):
        key = f"ORD-{key[3:]}"
    order = load_orders().get(key)
    if order is None:
        raise LookupError(f"no order with id {order_id!r}")
    return json.dumps(order)


TOOLS: list[BaseTool] = [
    StructuredTool.from_function(fn) for fn in (current_time, calculator, search_docs, lookup_order)
]
"""The four tools as LangChain tools, in the order they are bound to the model."""
