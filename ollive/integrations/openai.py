"""``from ollive.integrations.openai import instrument`` (see :mod:`ollive.sdk.integrations.openai`)."""

from ollive.sdk.integrations.openai import instrument

__all__ = ["instrument"]
