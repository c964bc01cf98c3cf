"""The redactor: Presidio's recognizers, offline, at wire speed, with a policy per project.

::

    from ollive.redact import Redactor

    redactor = Redactor()                        # engines built and warmed here, once
    result = redactor.redact("mail me at ada@example.com")
    result.text                                  # 'mail me at <EMAIL_ADDRESS>'
    result.findings                              # (Finding('EMAIL_ADDRESS', 11, 26, 1.0),)
    result.counts                                # {'EMAIL_ADDRESS': 1}  (stored per event)
    redactor.redact_batch(previews, project="acme")   # the ingest call

What to look for and what to do with it is a :class:`~ollive.redact.policy.Policy`;
policies can differ per project (``Redactor(projects={...})``).

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
from dataclasses import dataclass
from typing import Any

from ollive.redact.policy import DEFAULT_POLICY, Policy, operator_config

__all__ = ["Finding", "RedactionResult", "Redactor"]

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


class _Engines:
    """The Presidio engines of one recognizer set, plus the fast path over them."""

    def __init__(self, kind: str, nlp_engine: Any, nlp_name: str) -> None:
        from ollive.redact._gates import WindowedAnalyzer
        from ollive.redact._presidio import build_analyzer, vanilla_registry

        if kind == "tuned":
            from ollive.redact._recognizers import default_registry

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
        policy: Policy | None = None,
        *,
        projects: Mapping[str, Policy] | None = None,
        fast: bool = True,
        cache_size: int = 4_096,
        use_ner_model: bool = True,
    ) -> None:
        from ollive.redact._presidio import build_anonymizer, build_nlp_engine

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
        self._operators: dict[Policy, dict[str, Any]] = {}
        self._cache: OrderedDict[tuple[str | None, str], RedactionResult] = OrderedDict()
        self._lock = threading.Lock()
        self.warm()

    def policy_for(self, project: str | None) -> Policy:
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

    def _compute(self, text: str, policy: Policy) -> RedactionResult:
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

    def _operators_for(self, policy: Policy, results: list[Any]) -> dict[str, Any]:
        ops = self._operators.get(policy)
        if ops is None:
            ops = {"DEFAULT": operator_config(policy, policy.default_operator, None)}
            self._operators[policy] = ops
        missing = {r.entity_type for r in results} - ops.keys()
        for entity in missing:
            ops[entity] = operator_config(policy, policy.operator_for(entity), entity)
        return ops
