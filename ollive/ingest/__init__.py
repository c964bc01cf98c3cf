"""Server side of ingest, pure and Ray-free: validate, price, redact, dedupe, to Arrow."""

from __future__ import annotations

__all__: list[str] = []
