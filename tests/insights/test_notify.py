"""Firings go to a JSON-lines file when no webhook is configured, de-duplicated."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from ollive.insights.alerts import Firing
from ollive.insights.notify import FileNotifier


def _firing(value: str) -> Firing:
    now = datetime(2026, 11, 28, tzinfo=UTC)
    return Firing("errors", "error_rate", "model", value, 0.5, None, None, None, now)


def test_file_notifier_appends_once_per_fingerprint(tmp_path: Path) -> None:
    notifier = FileNotifier(tmp_path / "alerts.log")
    assert len(notifier.notify([_firing("gpt-4o"), _firing("o4-mini")])) == 2
    assert notifier.notify([_firing("gpt-4o")]) == []  # repeated: not written again
    lines = [json.loads(line) for line in (tmp_path / "alerts.log").read_text().splitlines()]
    assert [entry["value"] for entry in lines] == ["gpt-4o", "o4-mini"]
    assert notifier.failures == 0
