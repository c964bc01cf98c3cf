"""Evaluators: functions that score one output of a task, and the built-in ones.

::

    from ollive.evaluate.evaluators import exact_match, no_pii, run_evaluator

    def mentions_order(item, output):                  # a user evaluator
        return "ORD-" in output_text(output)           # bool -> 1.0 / 0.0

    item = {"input": "2+2?", "expected_output": "4"}
    run_evaluator(exact_match(), item, "4")            # [ScoreValue('exact_match', 1.0)]
    run_evaluator(mentions_order, item, "4", latency_ms=12.0)   # extras it does not take: dropped

An evaluator is any callable ``fn(item, output, **context)``; :func:`run_evaluator` passes it
only the context keywords it accepts (``latency_ms``, ``cost_usd``, ``error``, ``trace_id``,
``request_id``) and turns what it returns into :class:`ScoreValue` objects (the accepted
shapes are listed on :func:`run_evaluator`). Built-ins are small frozen dataclasses made by
factories (``exact_match()``, ``json_valid(schema)``, ...): picklable for Ray, with a repr
that reads like the call that made them. Higher is better; values are in [0, 1].
See ``docs/evaluators.md``.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import json
import math
import numbers
import re
import threading
import types
import weakref
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

from ollive.errors import ConfigError, EvaluatorError, RedactionError

if TYPE_CHECKING:
    from ollive.redact import Policy, Redactor

__all__ = [
    "REFUSAL_PHRASES",
    "EvaluatorError",
    "ScoreValue",
    "contains",
    "cost_budget",
    "evaluator_name",
    "exact_match",
    "json_valid",
    "latency_budget",
    "length_between",
    "no_pii",
    "not_refused",
    "output_text",
    "regex_match",
    "run_evaluator",
]

_ALLOWED = (
    "a number, a bool, None (not applicable), a ScoreValue or a list of them, a dict with "
    "'score' (and optional 'comment', 'metadata', 'name'), or a dict of {name: number}"
)


@dataclass(frozen=True)
class ScoreValue:
    """One score of one output: a finite ``value`` under ``name``, with an optional comment
    and JSON-able ``metadata`` (judge model, tokens, cost, entity counts, ...)."""

    name: str
    value: float
    comment: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise EvaluatorError(f"a score needs a non-empty str name, got {self.name!r}")
        value = self.value
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise EvaluatorError(f"score {self.name!r}: value must be a number, got {value!r}")
        if not math.isfinite(value):
            raise EvaluatorError(f"score {self.name!r}: value must be finite, got {value!r}")
        object.__setattr__(self, "value", float(value))
        if self.comment is not None and not isinstance(self.comment, str):
            object.__setattr__(self, "comment", str(self.comment))
        if not isinstance(self.metadata, Mapping):
            raise EvaluatorError(f"score {self.name!r}: metadata must be a dict")
        try:
            json.dumps(self.metadata, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise EvaluatorError(f"score {self.name!r}: metadata is not JSON-able: {exc}") from exc
        object.__setattr__(self, "metadata", dict(self.metadata))


# --- names and text -------------------------------------------------------------------------


def evaluator_name(fn: Any) -> str:
    """The name of an evaluator: its ``name`` (built-ins, judges), else ``__name__``, else its
    type's name (a ``functools.partial`` is named after its function)."""
    name = getattr(fn, "name", None)
    if isinstance(name, str) and name:
        return name
    if isinstance(fn, functools.partial):
        return evaluator_name(fn.func)
    name = getattr(fn, "__name__", None)
    return name if isinstance(name, str) and name else type(fn).__name__


def output_text(output: Any) -> str:
    """The text of a task output: a str as is; ``None`` as ``""``; a LangChain message's
    content (text parts joined); a dict's ``content``, ``output``, ``text`` or ``answer``
    (or its last ``messages`` entry, a LangGraph state); a pydantic model or anything else
    as JSON (keys sorted), or ``str()`` when it is not JSON-able."""
    if isinstance(output, str):
        return output
    if output is None:
        return ""
    if isinstance(output, Mapping):
        for key in ("content", "output", "text", "answer"):
            if key in output:
                return output_text(output[key])
        messages = output.get("messages")
        if isinstance(messages, list) and messages:
            return output_text(messages[-1])
    elif hasattr(output, "content") and hasattr(output, "type"):  # a LangChain message
        return _content_text(output.content)
    elif callable(getattr(output, "model_dump", None)):  # a pydantic model
        output = output.model_dump(mode="json")
    try:
        return json.dumps(output, default=str, ensure_ascii=False, sort_keys=True)
    except (TypeError, ValueError):
        return str(output)


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = (p if isinstance(p, str) else p.get("text") if isinstance(p, Mapping) else None
                 for p in content)  # fmt: skip
        return "".join(p for p in parts if isinstance(p, str))
    return output_text(content)


# --- running one evaluator ------------------------------------------------------------------

_signatures: weakref.WeakKeyDictionary[Any, tuple[bool, frozenset[str]]] = (
    weakref.WeakKeyDictionary()
)
_signatures_lock = threading.Lock()


def _signature_key(fn: Any) -> Any:
    if isinstance(fn, types.MethodType):
        return fn.__func__
    plain = (types.FunctionType, types.BuiltinFunctionType, functools.partial, type)
    return fn if isinstance(fn, plain) else type(fn)  # callable instances: by class


def _accepted_keywords(fn: Any) -> tuple[bool, frozenset[str]]:
    """(takes ``**kwargs``, names it takes by keyword), cached per function or class."""
    key = _signature_key(fn)
    try:
        with _signatures_lock:
            found = _signatures.get(key)
    except TypeError:  # not weak-referenceable
        key, found = None, None
    if found is not None:
        return found
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):  # no signature (some builtins): pass no extras
        return False, frozenset()
    by_keyword = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    found = (
        any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params),
        frozenset(p.name for p in params if p.kind in by_keyword),
    )
    if key is not None:
        with _signatures_lock:
            _signatures[key] = found
    return found


def run_evaluator(
    fn: Callable[..., Any], item: dict[str, Any], output: Any, **context: Any
) -> list[ScoreValue]:
    """Call ``fn(item, output, **kw)`` and normalise what it returns to scores.

    ``kw`` holds the ``context`` keywords that ``fn`` accepts (a parameter of that name, or
    ``**kwargs``); the others are dropped. What ``fn`` may return, named ``evaluator_name(fn)``
    unless said otherwise:

    - ``bool`` -> 1.0 / 0.0; an int or float -> that value (NaN and inf raise);
    - ``None`` -> no score (not applicable to this item);
    - a :class:`ScoreValue`, or a list of them -> as they are;
    - a dict with ``"score"`` (or ``"value"``) -> one score, with ``"comment"`` (or
      ``"reason"``, ``"reasoning"``), ``"metadata"`` and ``"name"`` if present;
    - any other dict ``{key: number | bool}`` -> one score per key, named ``"<name>.<key>"``.

    Anything else raises :class:`~ollive.errors.EvaluatorError`. Exceptions raised by ``fn``
    propagate unchanged.
    """
    takes_any, names = _accepted_keywords(fn)
    kwargs = context if takes_any else {k: v for k, v in context.items() if k in names}
    return _normalise(fn(item, output, **kwargs), evaluator_name(fn))


def _normalise(result: Any, name: str) -> list[ScoreValue]:
    if result is None:
        return []
    if isinstance(result, ScoreValue):
        return [result]
    if isinstance(result, list | tuple):
        if all(isinstance(r, ScoreValue) for r in result):
            return list(result)
        raise EvaluatorError(
            f"evaluator {name!r} returned a {type(result).__name__} that holds something else "
            f"than ScoreValue objects; allowed: {_ALLOWED}"
        )
    if isinstance(result, Mapping):
        return _from_mapping(result, name)
    if _is_number(result):
        return [ScoreValue(name, _number(result, name))]
    raise EvaluatorError(
        f"evaluator {name!r} returned {type(result).__name__} {_preview(result)}; "
        f"allowed: {_ALLOWED}"
    )


def _from_mapping(result: Mapping[Any, Any], name: str) -> list[ScoreValue]:
    if "score" in result or "value" in result:
        value = result["score"] if "score" in result else result["value"]
        if value is None:
            return []
        if not _is_number(value):
            raise EvaluatorError(
                f"evaluator {name!r} returned a dict whose score is {_preview(value)}; "
                "a score is a number or a bool"
            )
        comment = next(
            (result[k] for k in ("comment", "reason", "reasoning") if result.get(k) is not None),
            None,
        )
        metadata = result.get("metadata") or {}
        score_name = result.get("name") or name
        return [ScoreValue(str(score_name), _number(value, name), comment, metadata)]
    scores = []
    for key, value in result.items():
        if value is None:
            continue
        if not _is_number(value):
            raise EvaluatorError(
                f"evaluator {name!r} returned a dict whose {key!r} is {_preview(value)}; "
                f"allowed: {_ALLOWED}"
            )
        scores.append(ScoreValue(f"{name}.{key}", _number(value, f"{name}.{key}")))
    return scores


def _is_number(value: Any) -> bool:
    return isinstance(value, bool | numbers.Real) or type(value).__name__ == "bool_"


def _number(value: Any, name: str) -> float:
    number = float(value)
    if not math.isfinite(number):
        raise EvaluatorError(f"evaluator {name!r} returned {number!r}; a score must be finite")
    return number


def _preview(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


# --- built-in evaluators --------------------------------------------------------------------


class _Builtin:
    """Shared by the built-ins: a repr that reads like the factory call that made them."""

    _factory = ""

    def __repr__(self) -> str:
        args = ", ".join(
            f"{f.name}={getattr(self, f.name)!r}"
            for f in fields(self)  # type: ignore[arg-type]
            if f.repr
        )
        return f"{self._factory}({args})"


def _expected(item: Any, key: str) -> Any:
    return item.get(key) if isinstance(item, Mapping) else None


@dataclass(frozen=True, repr=False)
class _ExactMatch(_Builtin):
    _factory = "exact_match"
    expected_key: str
    ignore_case: bool
    strip: bool
    name: str

    def _norm(self, text: str) -> str:
        text = text.strip() if self.strip else text
        return text.casefold() if self.ignore_case else text

    def __call__(self, item: dict[str, Any], output: Any) -> ScoreValue | None:
        expected = _expected(item, self.expected_key)
        if expected is None:
            return None
        same = self._norm(output_text(output)) == self._norm(output_text(expected))
        return ScoreValue(self.name, float(same))


def exact_match(
    *,
    expected_key: str = "expected_output",
    ignore_case: bool = False,
    strip: bool = True,
    name: str = "exact_match",
) -> Callable[..., ScoreValue | None]:
    """1.0 when the output's text equals ``item[expected_key]``'s, else 0.0; not applicable
    when the item has no expected value. Both sides go through :func:`output_text`."""
    return _ExactMatch(expected_key, ignore_case, strip, name)


@dataclass(frozen=True, repr=False)
class _Contains(_Builtin):
    _factory = "contains"
    substring: str | None
    expected_key: str | None
    ignore_case: bool
    name: str

    def __call__(self, item: dict[str, Any], output: Any) -> ScoreValue | None:
        if self.substring is not None:
            needle = self.substring
        else:
            expected = _expected(item, self.expected_key or "")
            if expected is None:
                return None
            needle = output_text(expected)
        text = output_text(output)
        if self.ignore_case:
            needle, text = needle.casefold(), text.casefold()
        return ScoreValue(self.name, float(needle in text))


def contains(
    substring: str | None = None,
    *,
    expected_key: str | None = None,
    ignore_case: bool = True,
    name: str = "contains",
) -> Callable[..., ScoreValue | None]:
    """1.0 when the output contains ``substring`` (or the text of ``item[expected_key]``,
    not applicable when absent), else 0.0. Give exactly one of the two."""
    if (substring is None) == (expected_key is None):
        raise ConfigError("contains() takes a substring or expected_key=..., exactly one")
    return _Contains(substring, expected_key, ignore_case, name)


@dataclass(frozen=True, repr=False)
class _RegexMatch(_Builtin):
    _factory = "regex_match"
    pattern: str
    flags: int
    name: str

    def __call__(self, item: dict[str, Any], output: Any) -> ScoreValue:
        found = re.search(self.pattern, output_text(output), self.flags)
        return ScoreValue(self.name, float(found is not None))


def regex_match(
    pattern: str, *, flags: int = 0, name: str = "regex_match"
) -> Callable[..., ScoreValue]:
    """1.0 when ``re.search(pattern, text, flags)`` finds a match in the output, else 0.0."""
    try:
        re.compile(pattern, flags)
    except re.error as exc:
        raise ConfigError(f"regex_match: invalid pattern {pattern!r}: {exc}") from exc
    return _RegexMatch(pattern, int(flags), name)


_FENCE = re.compile(r"```[ \t]*(?:json|JSON)?[ \t]*\r?\n?(.*?)```", re.DOTALL)


def _parse_json(text: str, *, embedded: bool = False) -> Any:
    """The JSON value of ``text``: the whole text, else a fenced code block, else (with
    ``embedded``) the first JSON object inside the text. Raises ``ValueError``."""
    try:
        return json.loads(text)
    except ValueError as exc:
        error = exc
    for block in _FENCE.findall(text):
        try:
            return json.loads(block)
        except ValueError:
            continue
    if embedded:
        decoder = json.JSONDecoder()
        for match in re.finditer(r"\{", text):
            try:
                value, _ = decoder.raw_decode(text, match.start())
            except ValueError:
                continue
            if isinstance(value, dict):
                return value
    raise error


@functools.lru_cache(maxsize=64)
def _validator(schema_json: str) -> Any:
    from jsonschema.validators import validator_for

    schema = json.loads(schema_json)
    return validator_for(schema)(schema)


@dataclass(frozen=True, repr=False)
class _JsonValid(_Builtin):
    _factory = "json_valid"
    schema: dict[str, Any] | None
    name: str

    def __call__(self, item: dict[str, Any], output: Any) -> ScoreValue:
        try:
            document = _parse_json(output_text(output).strip())
        except ValueError as exc:
            return ScoreValue(self.name, 0.0, f"not JSON: {exc}")
        if self.schema is None:
            return ScoreValue(self.name, 1.0)
        from jsonschema.exceptions import best_match

        validator = _validator(json.dumps(self.schema, sort_keys=True))
        error = best_match(validator.iter_errors(document))
        if error is None:
            return ScoreValue(self.name, 1.0)
        where = error.json_path if error.path else "$"
        return ScoreValue(self.name, 0.0, f"schema: {where}: {error.message}")


def json_valid(
    schema: dict[str, Any] | None = None, *, name: str = "json_valid"
) -> Callable[..., ScoreValue]:
    """1.0 when the output parses as JSON (a fenced ```json block counts) and, with
    ``schema``, validates against it (JSON Schema, draft from ``$schema``, else 2020-12);
    else 0.0 with the parse or first validation error as the comment."""
    if schema is not None:
        from jsonschema.exceptions import SchemaError
        from jsonschema.validators import validator_for

        try:
            validator_for(schema).check_schema(schema)
        except SchemaError as exc:
            raise ConfigError(f"json_valid: invalid JSON Schema: {exc.message}") from exc
    return _JsonValid(schema, name)


@dataclass(frozen=True, repr=False)
class _LengthBetween(_Builtin):
    _factory = "length_between"
    min_chars: int
    max_chars: int | None
    name: str

    def __call__(self, item: dict[str, Any], output: Any) -> ScoreValue:
        n = len(output_text(output))
        ok = n >= self.min_chars and (self.max_chars is None or n <= self.max_chars)
        bounds = f"[{self.min_chars}, {'∞' if self.max_chars is None else self.max_chars}]"
        return ScoreValue(self.name, float(ok), f"{n} chars, allowed {bounds}", {"chars": n})


def length_between(
    min_chars: int = 0, max_chars: int | None = None, *, name: str = "length_ok"
) -> Callable[..., ScoreValue]:
    """1.0 when the output's text has ``min_chars`` to ``max_chars`` characters (inclusive;
    ``None``: no upper bound), else 0.0."""
    if min_chars < 0 or (max_chars is not None and max_chars < min_chars):
        raise ConfigError(
            f"length_between: need 0 <= min_chars <= max_chars, got {min_chars}, {max_chars}"
        )
    return _LengthBetween(min_chars, max_chars, name)


REFUSAL_PHRASES: tuple[str, ...] = (
    "i can't help with",
    "i cannot help with",
    "i can't assist with",
    "i cannot assist with",
    "i'm sorry, but i can't",
    "i'm sorry, but i cannot",
    "i am sorry, but i cannot",
    "i'm sorry, i can't",
    "i'm unable to",
    "i am unable to",
    "i'm not able to",
    "i am not able to",
    "i won't be able to",
    "i must decline",
    "i can't comply",
    "i cannot comply",
    "as an ai",
)
"""What :func:`not_refused` looks for, lower case, anywhere in the output (English only;
curly apostrophes count as straight ones)."""


@dataclass(frozen=True, repr=False)
class _NotRefused(_Builtin):
    _factory = "not_refused"
    phrases: tuple[str, ...] | None  # None: REFUSAL_PHRASES
    name: str

    def __call__(self, item: dict[str, Any], output: Any) -> ScoreValue:
        text = " ".join(output_text(output).replace("\u2019", "'").casefold().split())
        phrases = REFUSAL_PHRASES if self.phrases is None else self.phrases
        found = next((p for p in phrases if p in text), None)
        if found is None:
            return ScoreValue(self.name, 1.0)
        return ScoreValue(self.name, 0.0, f"refusal: {found!r}", {"phrase": found})


def not_refused(
    *, phrases: Sequence[str] | None = None, name: str = "not_refused"
) -> Callable[..., ScoreValue]:
    """0.0 when the output is a refusal (contains one of :data:`REFUSAL_PHRASES`, or of
    ``phrases`` instead), with the phrase as the comment; else 1.0."""
    chosen = None if phrases is None else tuple(" ".join(p.casefold().split()) for p in phrases)
    return _NotRefused(chosen, name)


_redactors: dict[Policy, Redactor] = {}
_redactors_lock = threading.Lock()


def _redactor_for(policy: Policy) -> Redactor:
    """One redactor per policy and process, built on first use (it takes seconds)."""
    with _redactors_lock:
        redactor = _redactors.get(policy)
        if redactor is None:
            from ollive.redact import Redactor, wants_ner

            ner = "auto" if wants_ner(policy) else None
            redactor = _redactors[policy] = Redactor(policy, ner_model=ner, cache_size=256)
        return redactor


def _detection_policy(entities: tuple[str, ...] | None, base: Policy | None = None) -> Policy:
    """``base`` (default: the redaction default) looking for ``entities``, changing nothing."""
    from ollive.redact import DEFAULT_POLICY

    policy = base or DEFAULT_POLICY
    if entities is not None:
        policy = dataclasses.replace(policy, entities=entities)
    return dataclasses.replace(policy, default_operator="keep", operators=())


@dataclass(frozen=True, repr=False)
class _NoPii(_Builtin):
    _factory = "no_pii"
    entities: tuple[str, ...] | None
    name: str
    policy: Policy | None = None
    redactor: Redactor | None = field(default=None, compare=False, repr=False)

    def __reduce__(self) -> tuple[Any, ...]:
        # a Redactor holds locks and Presidio engines: ship its policy, rebuild it over there
        policy = self.redactor.policy if self.redactor is not None else self.policy
        return (_NoPii, (self.entities, self.name, policy))

    def __call__(self, item: dict[str, Any], output: Any) -> ScoreValue:
        redactor = self.redactor
        if redactor is None:
            redactor = _redactor_for(_detection_policy(self.entities, self.policy))
        result = redactor.redact(output_text(output))
        if result.error is not None:
            raise RedactionError(f"{self.name}: PII detection failed: {result.error}")
        counts = dict(sorted(Counter(f.entity_type for f in result.findings).items()))
        if not counts:
            return ScoreValue(self.name, 1.0)
        comment = "found " + ", ".join(f"{kind} x{n}" for kind, n in counts.items())
        return ScoreValue(self.name, 0.0, comment, {"entities": counts})


def no_pii(
    *,
    entities: list[str] | tuple[str, ...] | None = None,
    redactor: Redactor | None = None,
    name: str = "no_pii",
) -> Callable[..., ScoreValue | None]:
    """1.0 when the redaction engine finds no PII in the output, else 0.0 with the entity
    types and counts (never the values) in the comment and ``metadata["entities"]``.

    ``entities``: the types to look for (default: ``ollive.redact.PATTERN_ENTITIES``; naming
    PERSON, LOCATION or NRP runs spaCy NER when a model is installed). The engine is built
    on first use, once per process and policy, never at import or unpickling. ``redactor``:
    your own :class:`~ollive.redact.Redactor` (its default policy decides what is looked
    for); pickled (for Ray), the evaluator carries that policy and builds its own engine.
    """
    return _NoPii(tuple(entities) if entities is not None else None, name, None, redactor)


@dataclass(frozen=True, repr=False)
class _LatencyBudget(_Builtin):
    _factory = "latency_budget"
    max_ms: float
    name: str

    def __call__(
        self, item: dict[str, Any], output: Any, *, latency_ms: float | None = None
    ) -> ScoreValue | None:
        if latency_ms is None:
            return None
        comment = f"{latency_ms:.0f} ms, budget {self.max_ms:g} ms"
        return ScoreValue(
            self.name, float(latency_ms <= self.max_ms), comment, {"latency_ms": latency_ms}
        )


def latency_budget(max_ms: float, *, name: str = "latency_ok") -> Callable[..., ScoreValue | None]:
    """1.0 when the task's ``latency_ms`` is within ``max_ms``, else 0.0; not applicable
    without a latency."""
    return _LatencyBudget(float(max_ms), name)


@dataclass(frozen=True, repr=False)
class _CostBudget(_Builtin):
    _factory = "cost_budget"
    max_usd: float
    name: str

    def __call__(
        self, item: dict[str, Any], output: Any, *, cost_usd: float | None = None
    ) -> ScoreValue | None:
        if cost_usd is None:
            return None
        comment = f"${cost_usd:.6f}, budget ${self.max_usd:g}"
        return ScoreValue(
            self.name, float(cost_usd <= self.max_usd), comment, {"cost_usd": cost_usd}
        )


def cost_budget(max_usd: float, *, name: str = "cost_ok") -> Callable[..., ScoreValue | None]:
    """1.0 when the task's ``cost_usd`` is within ``max_usd``, else 0.0; not applicable
    when the cost is unknown."""
    return _CostBudget(float(max_usd), name)
