"""PII never stored: the seeded PII corpus through ``/v1/logs`` and ``/v1/traces`` preparation
(real Presidio redactor), inserted into the session warehouse, then every column of every
table scanned for the raw values. And fail-closed: a redaction failure rejects the event.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from ollive.demo.pii_corpus import generate_pii_corpus
from ollive.ingest import IngestPipeline
from ollive.redact import Redactor
from ollive.store.deletion import find_values

T0 = time.time_ns() - 5_000_000_000


@pytest.fixture(scope="module")
def redactor() -> Redactor:
    r = Redactor()
    r.warm()
    return r


@pytest.fixture(scope="module")
def corpus() -> list[tuple[str, list[str]]]:
    """(text, raw PII values) pairs, texts cut to fit a preview."""
    out = []
    for sample in generate_pii_corpus(300, seed=91):
        if not sample.has_pii:
            continue
        values = [sample.text[s.start : s.end] for s in sample.spans]
        end = max(s.end for s in sample.spans)
        start = max(0, end - 480)
        text = sample.text[start:end]
        out.append((text, [v for v in values if v in text and len(v) >= 6]))
    return [(t, v) for t, v in out if v][:60]


def _logs_body(corpus: list[tuple[str, list[str]]], make: Callable[..., dict[str, Any]]) -> bytes:
    events: list[dict[str, Any]] = []
    for i, (text, _) in enumerate(corpus):
        inf = make(
            input_preview=text,
            output_preview=text,
            tool_calls_summary=text[:200],
            status="error",
            error_message=text,
            metadata={"note": text[:300], "nested": {"list": [text[:200]]}},
        )
        rid = lambda: str(uuid.uuid4())  # noqa: E731
        ts = inf["finished_at"]
        events += [
            inf,
            {"log_type": "tool_execution", "request_id": rid(), "tool_name": f"t{i % 3}",
             "started_at": inf["started_at"], "finished_at": ts, "args_preview": text,
             "result_preview": text, "status": "error", "error_message": text[:300]},
            {"log_type": "application", "request_id": rid(), "timestamp": ts, "message": text,
             "attributes": {"extra": text[:300]}},
            {"log_type": "score", "request_id": rid(), "timestamp": ts, "name": "thumbs",
             "value": 1.0, "target_request_id": inf["request_id"], "comment": text},
        ]  # fmt: skip
    return json.dumps({"events": events}).encode()


def _otlp_body(corpus: list[tuple[str, list[str]]]) -> bytes:
    def attr(key: str, value: str) -> dict[str, Any]:
        return {"key": key, "value": {"stringValue": value}}

    spans = []
    for i, (text, _) in enumerate(corpus):
        spans.append(
            {
                "traceId": uuid.uuid4().hex,
                "spanId": uuid.uuid4().hex[:16],
                "name": "chat gpt-4o",
                "kind": 3,
                "startTimeUnixNano": str(T0 + i),
                "endTimeUnixNano": str(T0 + i + 1_000_000),
                "attributes": [
                    attr("gen_ai.operation.name", "chat"),
                    attr("gen_ai.system", "openai"),
                    attr("gen_ai.request.model", "gpt-4o"),
                    attr("gen_ai.prompt", text),
                    attr("gen_ai.completion", text),
                ],
                "status": {"code": 2, "message": text},
            }
        )
    resource = {"attributes": [attr("service.name", "pii-traces")]}
    return json.dumps(
        {"resourceSpans": [{"resource": resource, "scopeSpans": [{"spans": spans}]}]}
    ).encode()


def test_pii_corpus_through_logs_and_traces_is_never_stored(
    warehouse: Any,
    project: str,
    redactor: Redactor,
    corpus: list[tuple[str, list[str]]],
    make_inference: Callable[..., dict[str, Any]],
) -> None:
    from serve.traces import prepare_traces

    pipeline = IngestPipeline(redactor)
    logs = pipeline.prepare(_logs_body(corpus, make_inference), project)
    assert not logs.rejected and len(logs.events) == 4 * len(corpus)
    traces, _ = prepare_traces(pipeline, _otlp_body(corpus), "application/json", None, project)
    assert len(traces.events) == len(corpus)
    for batch in (logs, traces):
        for table, data in batch.to_arrow()[0].items():
            warehouse.insert_arrow(table, data)
    assert warehouse.scalar(f"SELECT count() FROM inference_logs WHERE project = '{project}'") == 2 * len(corpus)  # fmt: skip
    values = sorted({v for _, vs in corpus for v in vs})
    assert len(values) > 50
    assert find_values(warehouse, values, project) == []
    control = find_values(warehouse, ["pii-traces"], project)  # the scan does find stored text
    assert ("inference_logs", "service", "pii-traces") in control
    stored = warehouse.scalar(
        f"SELECT sum(length(input_preview)) FROM inference_logs WHERE project = '{project}'"
    )
    assert stored > 0  # the texts are there, redacted (not simply dropped)


class _FailingRedactor:
    """Wraps the real redactor and fails on texts containing a marker (an injected fault)."""

    def __init__(self, inner: Redactor, marker: str) -> None:
        self.inner, self.marker = inner, marker

    def redact_batch(self, texts: Sequence[str], project: str | None = None) -> list[Any]:
        results = list(self.inner.redact_batch(texts, project=project))
        for i, text in enumerate(texts):
            if self.marker in text:
                results[i] = type("Failed", (), {"text": text, "counts": {}, "error": "boom"})()
        return results


@pytest.mark.parametrize("where", ["input_preview", "metadata"])
def test_fail_closed_rejects_the_event_whose_redaction_failed(
    warehouse: Any,
    project: str,
    redactor: Redactor,
    make_inference: Callable[..., dict[str, Any]],
    where: str,
) -> None:
    secret = "FAILME jane.doe@example.com"
    bad = make_inference(
        **({"input_preview": secret} if where == "input_preview" else {"metadata": {"k": secret}})
    )
    good = make_inference(input_preview="call me at jane.doe@example.com")
    body = json.dumps({"events": [bad, good]}).encode()
    closed = IngestPipeline(_FailingRedactor(redactor, "FAILME"), fail_closed=True)
    batch = closed.prepare(body, project)
    assert [str(e.request_id) for e in batch.events] == [good["request_id"]]
    [rejection] = batch.rejected
    assert rejection.index == 0 and rejection.errors[0]["msg"] == "redaction failed"
    assert rejection.errors[0]["loc"].startswith(where)
    opened = IngestPipeline(_FailingRedactor(redactor, "FAILME"), fail_closed=False)
    kept = opened.prepare(body, project)
    assert len(kept.events) == 2 and kept.redactions[0].get("REDACTION_FAILED") == 1
    for b in (batch, kept):
        for table, data in b.to_arrow()[0].items():
            warehouse.insert_arrow(table, data)
    assert find_values(warehouse, ["FAILME", "jane.doe@example.com"], project) == []
