"""The top-level public face of `ollive`, pinned; and importing it stays light."""

from __future__ import annotations

import subprocess
import sys

import ollive

EXPECTED = {
    "LoggingHandler",
    "__version__",
    "connect",
    "conversation",
    "current_inference",
    "flush",
    "inference",
    "init",
    "prompt",
    "score",
    "shutdown",
    "stats",
    "tool",
}


def test_top_level_all_is_pinned() -> None:
    assert set(ollive.__all__) == EXPECTED
    for name in ollive.__all__:
        assert getattr(ollive, name) is not None


def test_import_is_light() -> None:
    code = (
        "import sys, ollive\n"
        "heavy = {'ray', 'chdb', 'presidio_analyzer', 'ibis', 'panel', 'pyarrow', 'langchain_core',"
        " 'openai', 'pandas', 'numpy', 'pydantic_settings'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_ui_loads_panel_on_first_use_and_binds_every_name() -> None:
    """``ollive.ui.auth`` (what ``ollive up`` reads) imports no Panel; the first public name
    used binds them all, ``ui.waterfall`` the function even when a submodule imported its
    module first (a fresh process: this one may have loaded ``ollive.ui`` already)."""
    code = (
        "import sys, types\n"
        "import ollive.ui.auth\n"
        "assert 'panel' not in sys.modules\n"
        "import ollive.ui as ui\n"
        "ui.Dashboard\n"
        "from ollive.ui import pages, trace_view\n"
        "assert ui.waterfall is trace_view.waterfall and ui.PAGES is pages.PAGES\n"
        "print(sorted(n for n in ui.__all__ if isinstance(getattr(ui, n), types.ModuleType)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "[]", out.stdout + out.stderr


def test_submodules_load_on_first_use() -> None:
    assert ollive.events.SCHEMA_VERSION == "1.1"
    assert callable(ollive.store.connect)


def test_configuration_doc_is_current() -> None:
    from ollive.config._doc import DOC_PATH, render_config_doc

    assert DOC_PATH.read_text("utf-8") == render_config_doc(), (
        "run `ollive config --doc` and commit"
    )
