"""``ollive.experiments``: the public name of :mod:`ollive.evaluate.experiments` (see docs/evaluate.md).

``import ollive.experiments`` or ``from ollive.experiments import …`` load it (and its dependencies) on
first use; ``import ollive`` alone stays light.
"""

from __future__ import annotations

from ollive.evaluate.experiments import *  # noqa: F403
from ollive.evaluate.experiments import __all__ as __all__
