"""``ollive.datasets``: the public name of :mod:`ollive.evaluate.datasets` (see docs/evaluate.md).

``import ollive.datasets`` or ``from ollive.datasets import …`` load it (and its dependencies) on
first use; ``import ollive`` alone stays light.
"""

from __future__ import annotations

from ollive.evaluate.datasets import *  # noqa: F403
from ollive.evaluate.datasets import __all__ as __all__
