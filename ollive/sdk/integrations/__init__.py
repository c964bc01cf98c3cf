"""Integrations: ``langchain.CallbackHandler`` (LangChain, LangGraph) and ``openai.instrument``.

Each submodule imports its library only when used.
"""

__all__: list[str] = []
