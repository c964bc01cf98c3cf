"""The ``ollive`` command, one module per noun (wiring, ring 3).

- :mod:`ollive.cli.platform`: ``up``, ``down``, ``status``, ``demo``, ``ingest``,
  ``dashboard``, ``traffic``;
- :mod:`ollive.cli.data`: ``schema``, ``config``, ``migrate``, ``seed``, ``dlq``;
- :mod:`ollive.cli.admin`: ``keys``, ``delete``, ``retention``;
- :mod:`ollive.cli.bench`: ``bench …`` (each ends with one JSON line);
- :mod:`ollive.cli.app`: the one Typer app that holds them, and :func:`main`.

Each command reads :class:`~ollive.config.Settings` once, binds the concrete parts and
calls into the packages; heavy imports happen inside the commands.
"""

from __future__ import annotations

from ollive.cli.app import app, main

__all__ = ["app", "main"]
