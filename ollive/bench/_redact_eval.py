"""Scoring redaction findings against the labelled PII corpus (recall, precision, noise)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["EntityScore", "LabelScore", "score_against_labels"]


@dataclass
class EntityScore:
    """Counts for one entity type; a finding and a label match when they overlap."""

    labels: int = 0
    found_labels: int = 0
    findings: int = 0
    true_findings: int = 0

    @property
    def recall(self) -> float | None:
        """Share of labelled values covered by a finding of the same type."""
        return self.found_labels / self.labels if self.labels else None

    @property
    def precision(self) -> float | None:
        """Share of findings of this type that overlap a label of this type."""
        return self.true_findings / self.findings if self.findings else None


@dataclass
class LabelScore:
    """Per-entity scores plus how noisy the detector is on texts without PII."""

    entities: dict[str, EntityScore]
    pii_free_texts: int
    pii_free_with_detection: int
    code_texts_pii_free: int
    code_texts_pii_free_with_detection: int

    @property
    def pii_free_detection_share(self) -> float:
        """Share of PII-free texts that got at least one finding."""
        return self.pii_free_with_detection / self.pii_free_texts if self.pii_free_texts else 0.0

    def as_dict(self) -> dict[str, Any]:
        """Rounded figures for the benchmark JSON."""
        return {
            name: {
                "recall": None if s.recall is None else round(s.recall, 4),
                "precision": None if s.precision is None else round(s.precision, 4),
                "labels": s.labels,
                "findings": s.findings,
            }
            for name, s in sorted(self.entities.items())
        }


def _overlaps(a_start: int, a_end: int, b_start: int, b_end: int) -> bool:
    return a_start < b_end and b_start < a_end


def score_against_labels(
    samples: Sequence[Any], results: Sequence[Any], labelled: Sequence[str]
) -> LabelScore:
    """Score ``results`` (with ``.findings``) against ``samples`` (with ``.spans``, ``.kind``).

    Findings of types that are not labelled count only towards the PII-free noise figure.
    """
    scores = {name: EntityScore() for name in labelled}
    free = free_hit = code_free = code_free_hit = 0
    for sample, result in zip(samples, results, strict=True):
        for span in sample.spans:
            if span.entity_type not in scores:
                continue  # a type this report does not score
            s = scores[span.entity_type]
            s.labels += 1
            if any(
                f.entity_type == span.entity_type
                and _overlaps(f.start, f.end, span.start, span.end)
                for f in result.findings
            ):
                s.found_labels += 1
        for f in result.findings:
            if f.entity_type not in scores:
                continue
            s = scores[f.entity_type]
            s.findings += 1
            if any(
                sp.entity_type == f.entity_type and _overlaps(f.start, f.end, sp.start, sp.end)
                for sp in sample.spans
            ):
                s.true_findings += 1
        if not sample.spans:
            free += 1
            free_hit += bool(result.findings)
            if sample.kind == "code":
                code_free += 1
                code_free_hit += bool(result.findings)
    return LabelScore(scores, free, free_hit, code_free, code_free_hit)
