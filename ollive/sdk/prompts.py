"""Prompt versions: which prompt template an inference was made from (contract v1.1).

::

    SUPPORT = ollive.prompt("support-answer", version=3, template=SUPPORT_TEMPLATE)

    with SUPPORT:  # or @SUPPORT on a function, or `async with SUPPORT:`
        with ollive.inference("openai", "gpt-4o-mini") as span:
            ...

Every inference span *started* inside carries ``prompt_name``, ``prompt_version`` and
``prompt_hash`` (the first 16 hex digits of the SHA-256 of the template text, see
:func:`ollive.events.template_hash`). The hash is computed once per :class:`Prompt` object,
so a prompt made once at import time and entered on every request costs one context-variable
write per ``with`` and one read per span start. Nested prompts: the innermost wins; a span's
own :meth:`~ollive.sdk.spans.InferenceSpan.set_prompt` wins over the context. Like
``ollive.conversation``, the prompt follows ``await`` and the tasks created inside, and one
``Prompt`` object may be entered by many threads and tasks at once.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from ollive.events import MAX_NAME_CHARS, MAX_PROMPT_VERSION_CHARS, template_hash
from ollive.sdk import _render
from ollive.sdk._context import current_prompt, enter_prompt, exit_prompt
from ollive.sdk._wrappers import wrap

__all__ = ["Prompt"]

F = TypeVar("F", bound=Callable[..., Any])
_hash = functools.lru_cache(maxsize=256)(template_hash)  # a template text is hashed once


class Prompt:
    """A prompt template's identity: ``name``, ``version`` (text: ``3`` becomes ``"3"``) and
    ``template_hash`` (``None`` without a template). What ``ollive.prompt(...)`` returns: a
    context manager (sync and async) and a decorator (sync, async and generator functions).

    Constructing one never raises: a template that is not a string is hashed as ``str()``
    of it, and one that cannot be turned into text gets no hash.
    """

    __slots__ = ("_json", "name", "template_hash", "version")

    def __init__(
        self, name: str, version: str | int | None = None, template: str | None = None
    ) -> None:
        self.name = "" if name is None else str(name)[:MAX_NAME_CHARS]
        self.version = None if version is None else str(version)[:MAX_PROMPT_VERSION_CHARS]
        self.template_hash = _template_hash(template)
        self._json: str | None = None

    def __repr__(self) -> str:
        return (
            f"Prompt(name={self.name!r}, version={self.version!r}, "
            f"template_hash={self.template_hash!r})"
        )

    def __enter__(self) -> Prompt:
        enter_prompt(self)
        return self

    def __exit__(self, *exc: Any) -> None:
        exit_prompt()

    async def __aenter__(self) -> Prompt:
        return self.__enter__()

    async def __aexit__(self, *exc: Any) -> None:
        exit_prompt()

    def __call__(self, fn: F) -> F:
        """Run each call of ``fn`` inside this prompt (generators: while their body runs)."""
        return wrap(fn, self._begin)  # type: ignore[return-value]

    def _begin(self, args: tuple[Any, ...], kwargs: dict[str, Any], activate: bool) -> Any:
        scope = _Activation(self)
        if activate:
            scope.token = current_prompt.set(self)
        return scope

    def fields_json(self) -> str:
        """The event's prompt fields as a JSON fragment (``,"prompt_name":…``; empty when
        there is nothing to say). Rendered once, on the export thread."""
        text = self._json
        if text is None:
            parts = []
            if self.name:
                parts.append(f',"prompt_name":{_render.quote(self.name)}')
            if self.version:
                parts.append(f',"prompt_version":{_render.quote(self.version)}')
            if self.template_hash is not None:
                parts.append(f',"prompt_hash":"{self.template_hash}"')
            text = self._json = "".join(parts)
        return text


class _Activation:
    """One decorated call inside a prompt: the life cycle ``wrap`` drives (as for a span)."""

    __slots__ = ("prompt", "token")

    def __init__(self, prompt: Prompt) -> None:
        self.prompt = prompt
        self.token: Any = None

    def activate(self) -> Any:
        return current_prompt.set(self.prompt)

    def deactivate(self, token: Any) -> None:
        try:  # noqa: SIM105 - never raises into the app
            current_prompt.reset(token)
        except (ValueError, RuntimeError):  # made in another context, or already used
            pass

    def end(self, error: BaseException | None = None, result: Any = None) -> None:
        token, self.token = self.token, None
        if token is not None:
            self.deactivate(token)


def _template_hash(template: Any) -> str | None:
    if template is None:
        return None
    try:
        return _hash(template if isinstance(template, str) else str(template))
    except Exception:  # fail open: an object whose str() raises gets no hash
        return None
