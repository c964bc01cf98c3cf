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
from typing import Any

__all__ = [
    "build_analyzer",
    "build_anonymizer",
    "build_nlp_engine",
    "installed_spacy_model",
    "patch_tldextract",
    "vanilla_registry",
]

_NER_MODELS = ("en_core_web_lg", "en_core_web_md", "en_core_web_sm", "en_core_web_trf")
_patch_lock = threading.Lock()
_patched = False


def installed_spacy_model() -> str | None:
    """The name of an installed English spaCy pipeline with NER, or ``None``."""
    import spacy.util

    for name in _NER_MODELS:
        if spacy.util.is_package(name):
            return name
    return None


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


def _engine_class() -> type:
    from presidio_analyzer.nlp_engine import SpacyNlpEngine

    class OfflineSpacyNlpEngine(SpacyNlpEngine):  # type: ignore[misc]
        """Presidio's spaCy engine around a pipeline that is already loaded (never downloads)."""

        def __init__(self, nlp: Any, model_name: str) -> None:
            super().__init__(models=[{"lang_code": "en", "model_name": model_name}])
            self._preloaded = nlp

        def load(self) -> None:
            self.nlp = {"en": self._preloaded}  # type: ignore[assignment]

    return OfflineSpacyNlpEngine


def build_nlp_engine(use_ner_model: bool = True) -> tuple[Any, str]:
    """Presidio NLP engine and the spaCy pipeline name it runs (``"blank:en"`` without a model)."""
    import spacy

    model = installed_spacy_model() if use_ner_model else None
    nlp = spacy.load(model) if model else spacy.blank("en")
    name = model or "blank:en"
    engine = _engine_class()(nlp, name)
    engine.load()
    return engine, name


def build_analyzer(registry: Any, nlp_engine: Any) -> Any:
    """An ``AnalyzerEngine`` over ``registry`` with the given offline NLP engine."""
    from presidio_analyzer import AnalyzerEngine

    patch_tldextract()
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
