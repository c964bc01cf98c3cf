"""Integrations with third-party libraries (thin re-exports of :mod:`ollive.sdk.integrations`).

Each module imports its library lazily: importing ``ollive.integrations`` costs nothing.
"""

__all__: list[str] = []
