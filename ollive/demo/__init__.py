"""Synthetic data at any volume, PII corpora, and the traffic generator."""

from __future__ import annotations

from ollive.demo.pii_corpus import LABELLED_ENTITIES, PiiSample, PiiSpan, generate_pii_corpus

__all__: list[str] = ["LABELLED_ENTITIES", "PiiSample", "PiiSpan", "generate_pii_corpus"]
