"""``from ollive.integrations.langchain import CallbackHandler`` (see :mod:`ollive.sdk.integrations.langchain`)."""

from ollive.sdk.integrations.langchain import CallbackHandler

__all__ = ["CallbackHandler"]
