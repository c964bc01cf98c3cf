"""Helpers for the pure ingest tests: a valid inference event as JSON-ready dict."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest


def inference(**over: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    event = {
        "log_type": "inference",
        "request_id": str(uuid.uuid4()),
        "provider": "openai",
        "model": "gpt-4o-mini",
        "started_at": (now - timedelta(seconds=1)).isoformat(),
        "finished_at": now.isoformat(),
        "prompt_tokens": 10,
        "completion_tokens": 5,
    }
    event.update(over)
    return event


@pytest.fixture
def make_inference() -> Callable[..., dict[str, Any]]:
    """``make_inference(**overrides)``: a valid inference event (a fresh request_id)."""
    return inference
