"""The one ``ollive`` Typer app: every noun's commands, merged in one place."""

from __future__ import annotations

from ollive.cli import admin, bench, data, evaluate, export, platform
from ollive.cli._typer import typer
from ollive.config import get_settings

__all__ = ["app", "main"]

app = typer.Typer(
    name="ollive",
    help="Ollive: observability for LLM products.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(platform.app)
app.add_typer(data.app)
app.add_typer(admin.app)
app.add_typer(export.app)
app.add_typer(evaluate.datasets_app, name="datasets")
app.add_typer(evaluate.experiments_app, name="experiments")
app.add_typer(bench.app, name="bench")


def main() -> None:
    """Entry point of the ``ollive`` console script."""
    get_settings()  # validate the environment early, with a readable error
    app()
