"""PII redaction: Presidio's recognizers, offline, tuned for LLM text, at wire speed.

::

    from ollive.redact import Policy, Redactor

    redactor = Redactor(projects={"acme": Policy(default_operator="hash")})
    redactor.redact("mail me at ada@example.com").text   # 'mail me at <EMAIL_ADDRESS>'

A ring 2 capability: it imports ring 1 (``ollive.errors``) and Presidio, nothing else of
Ollive. Ingest calls it; the benchmark lives in ``ollive.bench.redact``.
See ``docs/redaction.md``.
"""

from __future__ import annotations

from ollive.redact.policy import (
    DEFAULT_LOCALES,
    DEFAULT_POLICY,
    NER_ENTITIES,
    PATTERN_ENTITIES,
    Operator,
    Policy,
    RedactionPolicy,
    load_policies,
)
from ollive.redact.redactor import Finding, RedactionResult, Redactor, wants_ner

__all__ = [
    "DEFAULT_LOCALES",
    "DEFAULT_POLICY",
    "NER_ENTITIES",
    "PATTERN_ENTITIES",
    "Finding",
    "Operator",
    "Policy",
    "RedactionPolicy",
    "RedactionResult",
    "Redactor",
    "load_policies",
    "wants_ner",
]
