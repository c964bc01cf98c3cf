"""PII redaction for ingest: Presidio's recognizers, offline, at wire speed.

::

    from ollive.ingest.redact import Redactor, RedactionPolicy

    redactor = Redactor()                        # engines built and warmed here, once
    result = redactor.redact("mail me at ada@example.com")
    result.text                                  # 'mail me at <EMAIL_ADDRESS>'
    result.findings                              # (Finding('EMAIL_ADDRESS', 11, 26, 1.0),)
    result.counts                                # {'EMAIL_ADDRESS': 1}  (stored per event)
    redactor.redact_batch(previews, project="acme")   # the ingest call

A :class:`RedactionPolicy` says which entity types to look for, what to do with each
(``replace`` with ``<ENTITY_TYPE>``, ``mask``, salted ``hash``, ``keep``) and the minimum
score. :data:`DEFAULT_POLICY` uses Presidio recognizers tuned for LLM text (see
``docs/redaction.md``); ``RedactionPolicy.vanilla()`` is plain Presidio with its default
English recognizers. Policies can differ per project (``Redactor(projects={...})``).

Results are Presidio's, under the same configuration: by default a fast path runs the
recognizers only on windows of text that can hold a match (``fast=False`` runs Presidio's
full ``AnalyzerEngine`` pass, the reference the fast path is tested against). A text that
fails never raises out of a batch: its result has ``error`` set and an empty ``text``, so
the caller applies its fail-open (drop the preview) or fail-closed (reject the event)
policy and never stores the raw text by accident.
"""

from __future__ import annotations

import re
import threading
from collections import Counter, OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ollive.errors import ConfigError

__all__ = [
    "DEFAULT_POLICY",
    "load_policies",
    "Finding",
    "Operator",
    "RedactionPolicy",
    "RedactionResult",
    "Redactor",
]

Operator = Literal["replace", "mask", "hash", "keep"]
_OPERATORS = ("replace", "mask", "hash", "keep")
_SURROGATES = re.compile("[\ud800-\udfff]")
_WARM_TEXT = "Reach ada@example.com or +1 212-555-0147 from 10.0.0.1, see https://example.com/x."


@dataclass(frozen=True, slots=True)
class Finding:
    """One detected PII value: ``text[start:end]`` of the *input* text."""

    entity_type: str
    start: int
    end: int
    score: float


@dataclass(frozen=True, slots=True)
class RedactionResult:
    """The redacted text and what was found; ``error`` is set (and ``text`` empty) on failure."""

    text: str
    findings: tuple[Finding, ...] = ()
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Whether redaction succeeded (``text`` is safe to store)."""
        return self.error is None

    @property
    def counts(self) -> dict[str, int]:
        """Findings per entity type, for the audit columns of the stored event."""
        return dict(Counter(f.entity_type for f in self.findings))


def _default_entities() -> tuple[str, ...]:
    return (
        "EMAIL_ADDRESS",
        "PHONE_NUMBER",
        "CREDIT_CARD",
        "IBAN_CODE",
        "IP_ADDRESS",
        "US_SSN",
        "URL",
        "CRYPTO",
        # from spaCy NER when a model is installed; never found with the blank pipeline
        "PERSON",
        "LOCATION",
        "NRP",
    )


@dataclass(frozen=True)
class RedactionPolicy:
    """What to redact and how.

    ``entities``: entity types to detect (``None``: every type the recognizers support).
    ``operators``: per-entity operator, else ``default_operator``. ``replace`` gives
    ``<ENTITY_TYPE>``; ``mask`` replaces every character with ``mask_char``; ``hash`` gives
    ``sha256(value + hash_salt)`` (a salt of at least 16 characters makes hashes
    reproducible and joinable across events; without one Presidio salts each value at
    random); ``keep`` detects and counts without changing the text.
    ``recognizers``: ``"tuned"`` (Ollive's, for LLM text) or ``"presidio"`` (vanilla).
    """

    entities: tuple[str, ...] | None = field(default_factory=_default_entities)
    operators: tuple[tuple[str, Operator], ...] | Mapping[str, Operator] = ()
    default_operator: Operator = "replace"
    score_threshold: float = 0.0
    hash_salt: str = ""
    mask_char: str = "*"
    recognizers: Literal["tuned", "presidio"] = "tuned"

    def __post_init__(self) -> None:
        ops = self.operators
        pairs = tuple(sorted(ops.items())) if isinstance(ops, Mapping) else tuple(ops)
        object.__setattr__(self, "operators", pairs)
        if self.entities is not None:
            object.__setattr__(self, "entities", tuple(self.entities))
        for name in [self.default_operator, *(op for _, op in pairs)]:
            if name not in _OPERATORS:
                raise ConfigError(
                    f"unknown redaction operator {name!r}; use one of {', '.join(_OPERATORS)}"
                )
        if self.hash_salt and len(self.hash_salt.encode()) < 16:
            raise ConfigError(
                "hash_salt must be at least 16 bytes (or empty for a random salt per value)"
            )
        if self.recognizers not in ("tuned", "presidio"):
            raise ConfigError("recognizers must be 'tuned' or 'presidio'")
        if len(self.mask_char) != 1:
            raise ConfigError("mask_char must be one character")

    @classmethod
    def vanilla(cls) -> RedactionPolicy:
        """Plain Presidio: its default English recognizers, every entity, no threshold."""
        return cls(entities=None, recognizers="presidio")

    def operator_for(self, entity_type: str) -> Operator:
        """The operator applied to ``entity_type``."""
        return dict(self.operators).get(entity_type, self.default_operator)  # type: ignore[arg-type]


def load_policies(path: str | Path) -> tuple[RedactionPolicy, dict[str, RedactionPolicy]]:
    """The default policy and per-project policies from a TOML or JSON file::

        [default]                       # optional: overrides DEFAULT_POLICY's fields
        default_operator = "replace"
        [projects.acme]                 # one table per project, RedactionPolicy's fields
        entities = ["EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD"]
        operators = { EMAIL_ADDRESS = "hash" }
        hash_salt = "a-salt-of-16-bytes-or-more"

    Ingest reads it from ``OLLIVE_REDACTION_POLICY_FILE``.
    """
    import json
    import tomllib

    path = Path(path)
    try:
        text = path.read_text("utf-8")
        data = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
        default = RedactionPolicy(**data.get("default", {}))
        projects = {
            name: RedactionPolicy(**fields) for name, fields in data.get("projects", {}).items()
        }
    except (OSError, ValueError, TypeError) as exc:
        raise ConfigError(f"redaction policy file {path}: {exc}") from exc
    return default, projects


DEFAULT_POLICY = RedactionPolicy()
"""Eight pattern entities with tuned recognizers (plus PERSON, LOCATION, NRP when a spaCy NER
model is installed), every value replaced by ``<ENTITY_TYPE>``."""


class _Engines:
    """The Presidio engines of one recognizer set, plus the fast path over them."""

    def __init__(self, kind: str, nlp_engine: Any, nlp_name: str) -> None:
        from ollive.ingest._fastscan import WindowedAnalyzer
        from ollive.ingest._presidio import build_analyzer, vanilla_registry

        if kind == "tuned":
            from ollive.ingest._recognizers import default_registry

            registry = default_registry(nlp_engine)
        else:
            registry = vanilla_registry(nlp_engine)
        self.analyzer = build_analyzer(registry, nlp_engine)
        self.windowed = WindowedAnalyzer(self.analyzer, nlp_is_blank=nlp_name.startswith("blank"))


class Redactor:
    """Redacts texts with a policy per project; build once per process, share across threads.

    ``policy``: the policy for texts without a project, or of an unknown project
    (default :data:`DEFAULT_POLICY`). ``projects``: policies by project name.
    ``fast=False`` runs Presidio's full analyzer on every text (the reference path).
    ``cache_size``: redacted results kept for texts that repeat (system prompts, templates).
    ``use_ner_model``: use an installed spaCy NER model for PERSON/LOCATION/NRP.
    """

    def __init__(
        self,
        policy: RedactionPolicy | None = None,
        *,
        projects: Mapping[str, RedactionPolicy] | None = None,
        fast: bool = True,
        cache_size: int = 4_096,
        use_ner_model: bool = True,
    ) -> None:
        from ollive.ingest._presidio import build_anonymizer, build_nlp_engine

        self.policy = policy or DEFAULT_POLICY
        self.projects = dict(projects or {})
        self.fast = fast
        self.cache_size = cache_size
        self._nlp_engine, self.nlp_model = build_nlp_engine(use_ner_model)
        self._anonymizer = build_anonymizer()
        self._engines: dict[str, _Engines] = {}
        for pol in [self.policy, *self.projects.values()]:
            if pol.recognizers not in self._engines:
                self._engines[pol.recognizers] = _Engines(
                    pol.recognizers, self._nlp_engine, self.nlp_model
                )
        self._operators: dict[RedactionPolicy, dict[str, Any]] = {}
        self._cache: OrderedDict[tuple[str | None, str], RedactionResult] = OrderedDict()
        self._lock = threading.Lock()
        self.warm()

    def policy_for(self, project: str | None) -> RedactionPolicy:
        """The policy of ``project`` (the default policy when it has none)."""
        return self.projects.get(project, self.policy) if project is not None else self.policy

    def warm(self) -> None:
        """Compile every pattern and plan once, so that no request pays the start-up."""
        for project in [None, *self.projects]:
            self._compute(_WARM_TEXT, self.policy_for(project))

    def redact(self, text: str, project: str | None = None) -> RedactionResult:
        """Redact one text under ``project``'s policy; never raises for a bad text."""
        key = (project, text) if isinstance(text, str) else None
        if key is not None and self.cache_size:
            with self._lock:
                hit = self._cache.get(key)
                if hit is not None:
                    self._cache.move_to_end(key)
                    return hit
        try:
            result = self._compute(text, self.policy_for(project))
        except Exception as exc:  # one bad text must not sink a batch
            return RedactionResult("", (), f"{type(exc).__name__}: {exc}")
        if key is not None and self.cache_size:
            with self._lock:
                self._cache[key] = result
                if len(self._cache) > self.cache_size:
                    self._cache.popitem(last=False)
        return result

    def redact_batch(
        self, texts: Sequence[str], project: str | None = None
    ) -> list[RedactionResult]:
        """Redact every text; one result per text, in order. CPU-bound: run it off the event loop."""
        return [self.redact(text, project) for text in texts]

    def _compute(self, text: str, policy: RedactionPolicy) -> RedactionResult:
        if not isinstance(text, str):
            raise TypeError(f"expected str, got {type(text).__name__}")
        if not text:
            return RedactionResult("", ())
        clean = text if text.isascii() else _SURROGATES.sub("\ufffd", text)  # same length
        engines = self._engines.get(policy.recognizers) or self._add_engines(policy.recognizers)
        if self.fast:
            results = engines.windowed.analyze(clean, policy.entities, policy.score_threshold)
        else:
            entities = list(policy.entities) if policy.entities is not None else None
            results = engines.analyzer.analyze(
                clean, language="en", entities=entities, score_threshold=policy.score_threshold
            )
        results.sort(key=lambda r: (r.start, r.end, r.entity_type, -r.score))
        findings = tuple(Finding(r.entity_type, r.start, r.end, r.score) for r in results)
        if not results and self.fast:
            return RedactionResult(clean, ())
        anonymized = self._anonymizer.anonymize(
            text=clean, analyzer_results=results, operators=self._operators_for(policy, results)
        )
        return RedactionResult(anonymized.text, findings)

    def _add_engines(self, kind: str) -> _Engines:
        with self._lock:
            if kind not in self._engines:
                self._engines[kind] = _Engines(kind, self._nlp_engine, self.nlp_model)
            return self._engines[kind]

    def _operators_for(self, policy: RedactionPolicy, results: list[Any]) -> dict[str, Any]:
        ops = self._operators.get(policy)
        if ops is None:
            ops = {"DEFAULT": _operator_config(policy, policy.default_operator, None)}
            self._operators[policy] = ops
        missing = {r.entity_type for r in results} - ops.keys()
        for entity in missing:
            ops[entity] = _operator_config(policy, policy.operator_for(entity), entity)
        return ops


def _operator_config(policy: RedactionPolicy, operator: Operator, entity: str | None) -> Any:
    from presidio_anonymizer.entities import OperatorConfig

    if operator == "replace":
        return OperatorConfig("replace", {"new_value": f"<{entity}>"} if entity else {})
    if operator == "mask":
        return OperatorConfig(
            "mask", {"masking_char": policy.mask_char, "chars_to_mask": 1 << 30, "from_end": False}
        )
    if operator == "hash":
        params: dict[str, Any] = {"hash_type": "sha256"}
        if policy.hash_salt:
            params["salt"] = policy.hash_salt
        return OperatorConfig("hash", params)
    return OperatorConfig("keep", {})
