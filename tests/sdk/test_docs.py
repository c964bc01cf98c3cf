"""The copy-paste example of docs/sdk.md runs and ships what it says (in a subprocess)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.sdk.conftest import IngestServer

DOC = Path(__file__).resolve().parents[2] / "docs" / "sdk.md"


def test_the_guide_example_ships_one_event_of_each_kind(ingest: IngestServer) -> None:
    match = re.search(r"## Copy-paste example\n\n```python\n(.*?)```", DOC.read_text("utf-8"), re.S)
    assert match, "docs/sdk.md lost its example"
    code = match.group(1).replace("http://localhost:8000/v1", ingest.endpoint)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "Your order A-1 has shipped." in out.stdout
    assert not ingest.invalid
    counts = {
        t: len(ingest.of_type(t)) for t in ("inference", "tool_execution", "application", "score")
    }
    assert counts == {"inference": 1, "tool_execution": 1, "application": 1, "score": 1}
    (tool,) = ingest.of_type("tool_execution")
    (inference,) = ingest.of_type("inference")
    assert tool["parent_request_id"] == inference["request_id"]
