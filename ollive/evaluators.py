"""``ollive.evaluators``: the public name of :mod:`ollive.evaluate.evaluators` (see docs/evaluate.md).

``import ollive.evaluators`` or ``from ollive.evaluators import …`` load it (and its dependencies) on
first use; ``import ollive`` alone stays light.
"""

from __future__ import annotations

from ollive.evaluate.evaluators import *  # noqa: F403
from ollive.evaluate.evaluators import __all__ as __all__
