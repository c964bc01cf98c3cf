"""LoggingHandler: records become application events with the current ids, without loops."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

import ollive
from ollive.events import parse_event
from tests.sdk.conftest import IngestServer


@pytest.fixture
def handler() -> Iterator[ollive.LoggingHandler]:
    handler = ollive.LoggingHandler(level=logging.DEBUG)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield handler
    root.removeHandler(handler)
    root.setLevel(old_level)


def test_records_carry_trace_and_conversation_ids(
    sdk: IngestServer, handler: ollive.LoggingHandler
) -> None:
    log = logging.getLogger("app.orders")
    log.info("outside anything")
    with ollive.conversation("c-logs", user_id="u-9"):
        log.warning("inside the conversation %s", "scope", extra={"order_id": "A-1"})
        with ollive.inference("openai", "m") as span:
            log.error("inside the inference")
        try:
            raise ValueError("boom")
        except ValueError:
            log.exception("it failed")
    assert ollive.flush(10)
    events = sdk.of_type("application")
    by_message = {e["message"].splitlines()[0]: e for e in events}
    for event in events:
        parse_event(event)
    assert by_message["outside anything"]["trace_id"] is None
    scoped = by_message["inside the conversation scope"]
    assert scoped["level"] == "WARNING" and scoped["logger"] == "app.orders"
    assert scoped["conversation_id"] == "c-logs" and scoped["user_id"] == "u-9"
    assert scoped["attributes"]["order_id"] == "A-1"
    inner = by_message["inside the inference"]
    assert (inner["trace_id"], inner["span_id"]) == (span.trace_id, span.span_id)
    assert scoped["trace_id"] == span.trace_id
    assert "ValueError: boom" in by_message["it failed"]["message"]


def test_sdk_and_http_client_logs_are_not_shipped(
    ingest: IngestServer, handler: ollive.LoggingHandler
) -> None:
    logging.getLogger("httpx").setLevel(logging.DEBUG)
    logging.getLogger("httpcore").setLevel(logging.DEBUG)
    try:
        ingest.answers = [400]  # makes the SDK itself log a warning
        ollive.init(endpoint=ingest.endpoint, flush_interval_s=0.05)
        logging.getLogger("app").info("one")
        assert ollive.flush(10)
        logging.getLogger("app").info("two")
        assert ollive.flush(10)
        assert ollive.flush(10)
    finally:
        logging.getLogger("httpx").setLevel(logging.NOTSET)
        logging.getLogger("httpcore").setLevel(logging.NOTSET)
    assert [e["message"] for e in ingest.of_type("application")] == ["two"]
    assert ingest.requests == 2


def test_handler_is_a_noop_before_init(handler: ollive.LoggingHandler) -> None:
    logging.getLogger("app").info("nobody listens")
    assert ollive.stats()["enqueued"] == 0
