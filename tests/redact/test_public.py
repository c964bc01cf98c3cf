"""ollive.redact's public face, and that the engine stands alone (ring 2, no wiring)."""

from __future__ import annotations

import subprocess
import sys

import ollive.redact as redact


def test_public_names() -> None:
    assert sorted(redact.__all__) == [
        "DEFAULT_LOCALES",
        "DEFAULT_POLICY",
        "Finding",
        "NER_ENTITIES",
        "Operator",
        "PATTERN_ENTITIES",
        "Policy",
        "RedactionPolicy",
        "RedactionResult",
        "Redactor",
        "load_policies",
        "wants_ner",
    ]
    assert redact.RedactionPolicy is redact.Policy
    assert isinstance(redact.DEFAULT_POLICY, redact.Policy)


def test_the_engine_imports_no_other_room() -> None:
    script = (
        "import sys, ollive.redact, ollive.redact._gates, ollive.redact._recognizers\n"
        "bad = ('ollive.ingest', 'ollive.store', 'ollive.demo', 'ollive.bench', 'ollive.cli',"
        " 'serve')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'serve'"
        " or m.startswith(bad[:-1])))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"
