"""Configuration, split the OpenTelemetry way.

- :mod:`ollive.config.sdk`: the SDK's few settings, read from ``OLLIVE_*`` with the stdlib
  only (``import ollive`` stays light);
- :mod:`ollive.config.platform`: :class:`Settings`, every knob of the server side
  (pydantic-settings), read once by the wiring and passed down as typed values;
- :mod:`ollive.config.runfile`: the run file a running platform leaves under ``OLLIVE_HOME``.

``from ollive.config import Settings`` keeps working: the platform settings are imported on
first use, not with this package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from ollive.config.platform import Settings, get_settings

from ollive.config.defaults import DEMO_API_KEY, DEMO_PROJECT

__all__ = ["DEMO_API_KEY", "DEMO_PROJECT", "Settings", "get_settings"]


def __getattr__(name: str) -> Any:
    if name in ("Settings", "get_settings"):
        from ollive.config import platform

        return getattr(platform, name)
    raise AttributeError(f"module 'ollive.config' has no attribute {name!r}")
