"""The ``ollive`` command: ``ollive up|down|status|demo|dashboard|traffic|bench|migrate|seed|…``.

Wiring only: each command reads :class:`~ollive.config.Settings` once, binds the concrete
parts and calls into the packages. Heavy imports happen inside the commands.
"""

from __future__ import annotations

import json
import sys
from typing import Any

try:
    import typer
except ImportError:  # pragma: no cover - the base install is the SDK alone
    sys.stderr.write(
        "The `ollive` command needs the CLI extras: pip install 'ollive[platform]' "
        "(or 'ollive[all]').\n"
    )
    raise SystemExit(2) from None

from ollive.config import get_settings

app = typer.Typer(
    name="ollive",
    help="Ollive: observability for LLM products.",
    no_args_is_help=True,
    add_completion=False,
)
bench_app = typer.Typer(help="Benchmarks; each ends by printing its figures as one JSON line.")
app.add_typer(bench_app, name="bench")


def emit_figures(figures: dict[str, Any]) -> None:
    """Print a benchmark's figures as one JSON line (the last line of every `ollive bench`)."""
    typer.echo(json.dumps(figures, sort_keys=True, default=str))


# --- commands are registered below, one section per package --------------------------


def main() -> None:
    """Entry point of the ``ollive`` console script."""
    get_settings()  # validate the environment early, with a readable error
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
