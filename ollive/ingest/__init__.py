"""Server side of ingest, pure and Ray-free: validate, price, redact, dedupe, to Arrow.

Redaction itself is :mod:`ollive.redact` (``Redactor``, ``Policy``...); ingest calls it.
"""

from __future__ import annotations

from ollive.ingest.dedupe import DedupeOutcome, Deduper, dedupe_key
from ollive.ingest.keys import KeyRing
from ollive.ingest.metrics import IngestMetrics, render_writer_stats
from ollive.ingest.pipeline import (
    REDACTED_FIELDS,
    IngestPipeline,
    PreparedBatch,
    TextRedactor,
    shard_of,
)
from ollive.ingest.storing import StoredBatch, store_batch
from ollive.ingest.to_arrow import events_to_arrow
from ollive.ingest.validate import (
    BatchTooLargeError,
    ParsedBody,
    Rejection,
    decode_body,
    parse_body,
)

__all__: list[str] = [
    "REDACTED_FIELDS",
    "BatchTooLargeError",
    "DedupeOutcome",
    "Deduper",
    "IngestMetrics",
    "IngestPipeline",
    "KeyRing",
    "ParsedBody",
    "PreparedBatch",
    "Rejection",
    "StoredBatch",
    "TextRedactor",
    "decode_body",
    "dedupe_key",
    "events_to_arrow",
    "parse_body",
    "render_writer_stats",
    "shard_of",
    "store_batch",
]
