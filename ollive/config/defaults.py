"""The built-in defaults every side shares: the embedded platform's demo key and project."""

from __future__ import annotations

__all__ = ["DEMO_API_KEY", "DEMO_PROJECT"]

#: the key the embedded platform accepts out of the box (project ``demo``)
DEMO_API_KEY = "ollive-demo"
#: the project of :data:`DEMO_API_KEY`
DEMO_PROJECT = "demo"
