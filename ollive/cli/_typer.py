"""Typer, or a readable exit when the CLI extras are not installed."""

from __future__ import annotations

import sys

try:
    import typer
except ImportError:  # pragma: no cover - the base install is the SDK alone
    sys.stderr.write(
        "The `ollive` command needs the CLI extras: pip install 'ollive[platform]' "
        "(or 'ollive[all]').\n"
    )
    raise SystemExit(2) from None

__all__ = ["WAREHOUSE_OPTION", "open_resolved", "typer"]

#: the ``--warehouse`` option every command that opens the warehouse takes
WAREHOUSE_OPTION = typer.Option(None, "--warehouse", help="Warehouse URL (default: resolved).")


def open_resolved(url: str | None):  # type: ignore[no-untyped-def]
    """The warehouse of ``url``, else the resolved one (the running platform's actor, or the
    embedded directory), migrated."""
    from ollive.config import get_settings
    from ollive.store import open_warehouse

    return open_warehouse(url, get_settings())
