"""Evaluate: datasets from an Ibis filter, experiments on Ray, evaluators, online evaluation.

- :mod:`ollive.evaluate.datasets` (``ollive.datasets``): versioned, immutable item sets in the
  warehouse, made from an Ibis expression or a DataFrame;
- :mod:`ollive.evaluate.experiments` (``ollive.experiments``): a task mapped over a dataset on
  Ray, every result scored by evaluators and written as ``score`` events;
- :mod:`ollive.evaluate.evaluators` (``ollive.evaluators``): rule evaluators and the
  LLM-as-judge (:mod:`ollive.evaluate.judge`);
- :mod:`ollive.evaluate.online`: rules from ``evaluations.toml`` scoring new traffic behind a
  watermark.

See ``docs/evaluate.md``.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["DEMO_EVALUATIONS"]

#: the rules ``ollive demo`` runs online (the chatbot's answers: refusals and an LLM judge)
DEMO_EVALUATIONS = Path(__file__).resolve().parent / "evaluations.demo.toml"
