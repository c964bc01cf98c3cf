"""``ollive bench otlp`` end to end, briefly: an OpenTelemetry SDK app (BatchSpanProcessor,
OTLP/HTTP protobuf exporter) sends GenAI spans to ``/v1/traces``; every span sent is stored.
Its own embedded platform in a subprocess (it starts and stops a local Ray cluster)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def test_an_otel_app_delivers_every_span_it_sends(tmp_path: Path) -> None:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("OLLIVE_", "RAY_ADDRESS", "OTEL_"))
    }
    env["OLLIVE_HOME"] = str(tmp_path)
    out = subprocess.run(
        [sys.executable, "-m", "ollive.cli", "bench", "otlp", "--spans", "2000"],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    assert figures["bench"] == "otlp"
    # 2000 spans fit the processor's default queue (2048): none is dropped
    assert figures["spans"] == figures["sent"] == figures["stored"] == 2000
    assert figures["stored_equals_sent"] is True
    assert figures["dropped"] == 0 and figures["export_failures"] == 0
    assert figures["export_batches"] >= 2000 // 512
    assert figures["app_spans_per_s"] > 0 and figures["delivered_spans_per_s"] > 0
    assert figures["exporter"]["max_export_batch_size"] == 512
    assert figures["exporter"]["schedule_delay_ms"] == 5000
