"""Synthetic data at any volume, PII corpora, and the traffic generator."""

from __future__ import annotations

__all__: list[str] = []
