"""The pure ingest pipeline, a batch at a time: validate ▸ price ▸ redact ▸ (dedupe) ▸ Arrow.

Dedupe talks to Valkey and lives in :mod:`ollive.ingest.dedupe`; the wiring calls it
between :meth:`IngestPipeline.prepare` and :meth:`PreparedBatch.to_arrow`.

Redaction covers every free text an event can carry (:data:`REDACTED_FIELDS`). Each text is
replaced by its redacted form and the event's ``redactions`` map counts the entity types
found. When redaction of a text fails, ``fail_closed`` rejects the event (listed with the
field path); otherwise the text is dropped (stored empty) and counted as
``REDACTION_FAILED``. Raw text is never stored silently.
"""

from __future__ import annotations

import zlib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import pyarrow as pa

from ollive.ingest.to_arrow import events_to_arrow
from ollive.ingest.validate import AnyEvent, Rejection, decode_body, parse_body
from ollive.pricing import PriceTable, default_price_table, fill_costs

__all__ = ["REDACTED_FIELDS", "IngestPipeline", "PreparedBatch", "TextRedactor", "shard_of"]

#: log_type -> the text fields redaction covers
REDACTED_FIELDS: dict[str, tuple[str, ...]] = {
    "inference": ("input_preview", "output_preview", "tool_calls_summary", "error_message"),
    "tool_execution": ("args_preview", "result_preview", "error_message"),
    "application": ("message",),
    "score": ("comment",),
}
FAILED_ENTITY = "REDACTION_FAILED"


class TextRedactor(Protocol):
    """What the pipeline needs from :class:`ollive.redact.Redactor`.

    ``redact_batch(texts)`` returns one result per text with ``.text`` (redacted), entity
    counts (``.counts``) and an error indicator (``.error``, None when it worked).
    """

    def redact_batch(self, texts: Sequence[str], project: str | None = None) -> Sequence[Any]: ...


def shard_of(request_id: str, shards: int) -> int:
    """The writer shard of an event: a stable hash of its request_id."""
    return zlib.crc32(request_id.encode()) % shards


@dataclass(slots=True)
class PreparedBatch:
    """A validated, priced and redacted body, before dedupe."""

    project: str
    events: list[AnyEvent] = field(default_factory=list)
    redactions: list[dict[str, int]] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)

    @property
    def request_ids(self) -> list[str]:
        return [str(e.request_id) for e in self.events]

    def request_ids_in(self, shards: Collection[int], count: int) -> list[str]:
        """The request_ids of the events that go to ``shards`` (of ``count``, as
        :meth:`to_arrow` splits them)."""
        return [rid for rid in self.request_ids if shard_of(rid, count) in shards]

    def keep(self, mask: Sequence[bool]) -> None:
        """Keep only the events whose ``mask`` entry is true (dedupe drops the rest)."""
        self.events = [e for e, k in zip(self.events, mask, strict=True) if k]
        self.redactions = [r for r, k in zip(self.redactions, mask, strict=True) if k]

    def to_arrow(self, shards: int = 1) -> list[dict[str, pa.Table]]:
        """One ``{table: arrow}`` per writer shard (empty dicts for shards with no event)."""
        parts: list[tuple[list[AnyEvent], list[dict[str, int]]]] = [([], []) for _ in range(shards)]
        for event, red in zip(self.events, self.redactions, strict=True):
            evs, reds = parts[shard_of(str(event.request_id), shards)]
            evs.append(event)
            reds.append(red)
        return [events_to_arrow(self.project, evs, reds) if evs else {} for evs, reds in parts]

    def redaction_totals(self) -> dict[str, int]:
        """Entity type -> count over the kept events (for metrics)."""
        totals: dict[str, int] = {}
        for red in self.redactions:
            for entity, n in red.items():
                totals[entity] = totals.get(entity, 0) + n
        return totals


class IngestPipeline:
    """Validate, price and redact a request body; Ray-free and synchronous."""

    def __init__(
        self,
        redactor: TextRedactor | None,
        prices: PriceTable | None = None,
        max_body_bytes: int = 10_000_000,
        max_events: int = 10_000,
        fail_closed: bool = False,
    ) -> None:
        self.redactor = redactor
        self.prices = prices or default_price_table()
        self.max_body_bytes = max_body_bytes
        self.max_events = max_events
        self.fail_closed = fail_closed

    def prepare(
        self, body: bytes, project: str, content_encoding: str | None = None
    ) -> PreparedBatch:
        """Decode and validate ``body``; raises ContractError (400) or BatchTooLargeError (413)."""
        parsed = parse_body(
            decode_body(body, content_encoding, self.max_body_bytes), self.max_events
        )
        fill_costs(parsed.events, self.prices)
        batch = PreparedBatch(project, redactions=[{} for _ in parsed.events])
        failed = self._redact(parsed.events, batch.redactions, project)
        for pos, loc in self._redact_structured(parsed.events, batch.redactions, project).items():
            failed.setdefault(pos, loc)
        keep = [i not in failed for i in range(len(parsed.events))]
        for pos, loc in sorted(failed.items()):
            parsed.rejected.append(
                Rejection(parsed.indexes[pos], [{"loc": loc, "msg": "redaction failed"}])
            )
        parsed.rejected.sort(key=lambda r: r.index)
        batch.events = list(parsed.events)
        batch.rejected = parsed.rejected
        batch.keep(keep)
        return batch

    def _redact(
        self, events: Sequence[AnyEvent], counts: list[dict[str, int]], project: str
    ) -> dict[int, str]:
        """Redact in place; returns event position -> field path of events to reject."""
        if self.redactor is None:
            return {}
        slots: list[tuple[int, str]] = []
        texts: list[str] = []
        for pos, event in enumerate(events):
            for name in REDACTED_FIELDS[event.log_type]:
                text = getattr(event, name)
                if text:
                    slots.append((pos, name))
                    texts.append(text)
        if not texts:
            return {}
        results = self.redactor.redact_batch(texts, project=project)
        failed: dict[int, str] = {}
        for (pos, name), result in zip(slots, results, strict=True):
            if _error_of(result) is not None:
                if self.fail_closed:
                    failed.setdefault(pos, name)
                else:
                    setattr(events[pos], name, "" if name == "message" else None)
                    counts[pos][FAILED_ENTITY] = counts[pos].get(FAILED_ENTITY, 0) + 1
                continue
            setattr(events[pos], name, result.text)
            for entity, n in _counts_of(result).items():
                counts[pos][entity] = counts[pos].get(entity, 0) + int(n)
        return failed

    # --- string values inside metadata / attributes are redacted too ------------
    def _redact_structured(
        self, events: Sequence[AnyEvent], counts: list[dict[str, int]], project: str
    ) -> dict[int, str]:
        """Redact every string leaf of ``metadata`` (and ``attributes``) in place."""
        if self.redactor is None:
            return {}
        leaves: list[tuple[int, str, Any, Any]] = []  # (event position, path, container, key)
        for pos, event in enumerate(events):
            for name in STRUCTURED_FIELDS:
                value = getattr(event, name, None)
                if value:
                    _string_leaves(value, name, pos, leaves)
        if not leaves:
            return {}
        results = self.redactor.redact_batch([c[k] for _, _, c, k in leaves], project=project)
        failed: dict[int, str] = {}
        for (pos, path, container, key), result in zip(leaves, results, strict=True):
            if _error_of(result) is not None:
                container[key] = ""
                if self.fail_closed:
                    failed.setdefault(pos, path)
                else:
                    counts[pos][FAILED_ENTITY] = counts[pos].get(FAILED_ENTITY, 0) + 1
                continue
            container[key] = result.text
            for entity, n in _counts_of(result).items():
                counts[pos][entity] = counts[pos].get(entity, 0) + int(n)
        return failed


#: the JSON fields whose string values are redacted (nested, any depth)
STRUCTURED_FIELDS = ("metadata", "attributes")


def _string_leaves(node: Any, path: str, pos: int, out: list[tuple[int, str, Any, Any]]) -> None:
    items = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else ()
    )
    for key, value in items:
        sub = f"{path}.{key}" if isinstance(node, dict) else f"{path}[{key}]"
        if isinstance(value, str):
            if value:
                out.append((pos, sub, node, key))
        else:
            _string_leaves(value, sub, pos, out)


def _error_of(result: Any) -> Any:
    """The per-text error indicator of a redaction result (None when it worked)."""
    error = getattr(result, "error", None)
    if error is None and getattr(result, "ok", True) is False:
        return "failed"
    return error


def _counts_of(result: Any) -> Mapping[str, int]:
    counts = getattr(result, "counts", None)
    if counts is not None:
        return counts  # type: ignore[no-any-return]
    out: dict[str, int] = {}
    for finding in getattr(result, "findings", ()) or ():
        entity = str(getattr(finding, "entity_type", None) or getattr(finding, "entity", "PII"))
        out[entity] = out.get(entity, 0) + 1
    return out
