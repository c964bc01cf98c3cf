"""docs/configuration.md, generated from :class:`~ollive.config.Settings` (``ollive config --doc``)."""

from __future__ import annotations

from pathlib import Path

from ollive.config.platform import Settings

__all__ = ["DOC_PATH", "render_config_doc"]

DOC_PATH = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def render_config_doc() -> str:
    """Every setting: its environment variable, default and description."""
    lines = [
        "# Configuration",
        "",
        "Every knob of Ollive is one field of `ollive.config.Settings` (pydantic-settings), read",
        "from `OLLIVE_<NAME>` environment variables. `ollive config` prints the effective values.",
        "This page is generated (`ollive config --doc`); a test fails when it is stale.",
        "",
        "| variable | default | what it does |",
        "| --- | --- | --- |",
    ]
    for name, field in Settings.model_fields.items():
        default = field.default
        if name == "home":
            default = "~/.ollive"
        shown = "" if default is None else f"`{default}`"
        description = (field.description or "").replace("|", "\\|")
        lines.append(f"| `OLLIVE_{name.upper()}` | {shown} | {description} |")
    return "\n".join(lines) + "\n"
