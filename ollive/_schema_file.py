"""The exported JSON Schema of the wire contract (``ollive schema`` writes it)."""

from __future__ import annotations

import json
from pathlib import Path

from ollive.events import event_json_schema

__all__ = ["SCHEMA_PATH", "render_schema"]

SCHEMA_PATH = Path(__file__).resolve().parent / "schema" / "events-v1.json"


def render_schema() -> str:
    """The schema file's exact text (sorted keys, 2-space indent, trailing newline)."""
    return json.dumps(event_json_schema(), indent=2, sort_keys=True) + "\n"
