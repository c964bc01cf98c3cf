"""LangChain / LangGraph callback handler: chat models and tools as Ollive events.

::

    from ollive.integrations.langchain import CallbackHandler
    handler = CallbackHandler()
    graph.invoke(inputs, config={"callbacks": [handler], "configurable": {"thread_id": "c-1"}})

- every chat model (or LLM) run becomes an ``inference`` event: provider and model from
  LangChain's ``ls_provider``/``ls_model_name`` metadata or the invocation params, usage from
  ``usage_metadata``, tool calls, finish reason, TTFT from the first streamed token;
- every tool run becomes a ``tool_execution`` event whose ``parent_request_id`` is the
  inference that asked for it (matched by ``tool_call_id``; else the latest inference of the
  same root run);
- one trace per root run (a graph invocation), nested under the current ``ollive`` span if
  there is one; chains are not events but keep the parent links of what runs inside them;
- a run started inside ``ollive.conversation`` belongs to it: its inferences become the
  scope's latest inference, so ``@ollive.tool`` functions called afterwards link to them;
- conversation ids from the run's metadata (``conversation_id`` or LangGraph's
  ``thread_id``, ``session_id``, ``user_id``), else the handler's arguments, else the current
  ``ollive.conversation``;
- prompt versions: when a prompt template (``ChatPromptTemplate``, ``PromptTemplate``...)
  runs, its prompt is remembered on its parent run (``prompt | model``: the sequence) and
  every chat model or LLM that starts under that parent afterwards carries it, until
  another template runs there. The name is the template's run name when the user set one
  (``prompt.with_config(run_name="support-answer")`` or ``prompt.name = ...``), else the
  ``prompt_name`` metadata key, else the LangChain Hub repo (``lc_hub_owner/lc_hub_repo``);
  the version is the ``prompt_version`` metadata key, else ``lc_hub_commit_hash``; the hash
  is of the template text (a ``PromptTemplate``'s template; a chat template's messages, one
  per line as ``<role>: <template>``). A default name (the class name, ``ChatPromptTemplate``)
  is not a name: such a template gives only its hash, and only when no ``ollive.prompt`` is
  around the run (an explicit ``ollive.prompt`` is not overridden by a nameless template).

One handler can serve many concurrent runs: state is kept per ``run_id``. It never raises
into LangChain. Do not also decorate the same tools with ``@ollive.tool`` (double events).
"""

from __future__ import annotations

import dataclasses
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler

from ollive.sdk import (
    InferenceSpan,
    Prompt,
    SpanContext,
    ToolSpan,
    count_internal_error,
    current_context,
    current_prompt,
    inference_span,
    is_enabled,
    tool_span,
)
from ollive.sdk.shapes import absorb_response, absorb_usage, get

__all__ = ["CallbackHandler"]

_MAX_OPEN_RUNS = 10_000
_MAX_DEPTH = 64  # how far up the run tree a model looks for the prompt that ran before it
_ID_KEYS = (("conversation_id", "thread_id"), ("session_id", "session"), ("user_id", "user"))


class _Root:
    """What one root run (a graph invocation) shares: its inferences, for linking tools."""

    __slots__ = ("by_tool_call", "last_inference")

    def __init__(self) -> None:
        self.last_inference: InferenceSpan | None = None
        self.by_tool_call: dict[str, InferenceSpan] = {}


class _Run:
    """One LangChain run: its root and parent, the context its children start under, its
    span if any, and the prompt the latest template that ran directly under it made."""

    __slots__ = ("context", "parent", "prompt", "root", "span")

    def __init__(self, root: _Root, context: SpanContext, parent: _Run | None = None) -> None:
        self.root = root
        self.context = context
        self.parent = parent
        self.span: InferenceSpan | ToolSpan | None = None
        self.prompt: Prompt | None = None

    def nearest_prompt(self) -> Prompt | None:
        """The prompt remembered on the closest ancestor run (``prompt | model``)."""
        run, depth = self.parent, 0
        while run is not None and depth < _MAX_DEPTH:
            if run.prompt is not None:
                return run.prompt
            run, depth = run.parent, depth + 1
        return None


class CallbackHandler(BaseCallbackHandler):
    """Turns LangChain/LangGraph runs into Ollive events (see the module docstring).

    Built only on the public integration hooks of :mod:`ollive.sdk`.
    """

    run_inline = True  # cheap and non-blocking: no need for LangChain's executor hop
    raise_error = False

    def __init__(
        self,
        *,
        provider: str | None = None,
        conversation_id: str | None = None,
        session_id: str | None = None,
        user_id: str | None = None,
    ) -> None:
        super().__init__()
        self._provider = provider
        self._ids = (conversation_id, session_id, user_id)
        self._runs: dict[UUID, _Run] = {}

    # --- bookkeeping -------------------------------------------------------------------------
    def _open(
        self, run_id: UUID, parent_run_id: UUID | None, metadata: dict[str, Any] | None
    ) -> _Run:
        parent = self._runs.get(parent_run_id) if parent_run_id is not None else None
        if parent is not None:
            run = _Run(parent.root, parent.context, parent)
        else:
            run = _Run(_Root(), self._root_context(metadata or {}))
        runs = self._runs
        if len(runs) >= _MAX_OPEN_RUNS:  # runs LangChain never ended (aborted streams)
            runs.pop(next(iter(runs)), None)
        runs[run_id] = run
        return run

    def _root_context(self, metadata: dict[str, Any]) -> SpanContext:
        """The current ollive span's, conversation's or a new trace's context, with the
        conversation ids of the run's metadata, else of the handler, else of that context."""
        context = current_context()
        conversation_id, session_id, user_id = (
            _str(metadata.get(key) or metadata.get(alias) or default or getattr(context, key))
            for (key, alias), default in zip(_ID_KEYS, self._ids, strict=True)
        )
        return dataclasses.replace(
            context, conversation_id=conversation_id, session_id=session_id, user_id=user_id
        )

    def _close(self, run_id: UUID) -> _Run | None:
        return self._runs.pop(run_id, None)

    def _begin(self, span: InferenceSpan | ToolSpan, run: _Run) -> None:
        span.start(parent=run.context)
        run.span = span
        run.context = span.context  # what runs inside this one nest under

    def _end(self, run_id: UUID, exc: BaseException | None = None, result: Any = None) -> None:
        run = self._close(run_id)
        if run is None or run.span is None:
            return
        span = run.span
        try:
            if isinstance(span, InferenceSpan) and exc is None:
                self._absorb_llm_result(span, run.root, result)
            elif isinstance(span, ToolSpan) and exc is None:
                span.set_result(get(result, "content", result))
        except Exception:
            count_internal_error()
        span.end(exc)

    def _absorb_llm_result(self, span: InferenceSpan, root: _Root, response: Any) -> None:
        generations = get(response, "generations") or [[]]
        generation = generations[0][0] if generations and generations[0] else None
        message = get(generation, "message")
        if message is not None:
            absorb_response(span, message)
        elif generation is not None:
            span.set_output(get(generation, "text"))
        info = get(generation, "generation_info") or {}
        if span.finish_reason is None and info.get("finish_reason"):
            span.set_finish_reason(info["finish_reason"])
        if not span.prompt_tokens and not span.completion_tokens:
            llm_output = get(response, "llm_output") or {}
            absorb_usage(span, llm_output.get("token_usage") or llm_output.get("usage"))
        root.last_inference = span
        for call in get(message, "tool_calls") or ():
            call_id = get(call, "id")
            if call_id:
                root.by_tool_call[call_id] = span

    def _start_llm(
        self,
        serialized: dict[str, Any] | None,
        prompt: Any,
        run_id: UUID,
        parent_run_id: UUID | None,
        metadata: dict[str, Any] | None,
        kwargs: dict[str, Any],
    ) -> None:
        if not is_enabled():
            return
        try:
            run = self._open(run_id, parent_run_id, metadata)
            meta = metadata or {}
            params = kwargs.get("invocation_params") or {}
            model = meta.get("ls_model_name") or params.get("model") or params.get("model_name")
            model = (
                model
                or get(get(serialized, "kwargs"), "model")
                or get(get(serialized, "kwargs"), "model_name")
            )
            provider = self._provider or meta.get("ls_provider") or params.get("_type")
            if not provider and serialized and serialized.get("id"):
                provider = serialized["id"][-1]
            span = inference_span(
                str(provider or "langchain"),
                str(model or params.get("_type") or "unknown"),
                input=prompt,
            )
            if span is not None:
                template = run.nearest_prompt()
                if template is not None and (
                    template.name or template.version or current_prompt() is None
                ):
                    span.set_prompt(template)
                self._begin(span, run)
        except Exception:
            count_internal_error()

    # --- LangChain callbacks ---------------------------------------------------------------------
    def on_chat_model_start(
        self,
        serialized: dict[str, Any],
        messages: list[list[Any]],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        self._start_llm(
            serialized, messages[0] if messages else None, run_id, parent_run_id, metadata, kwargs
        )

    def on_llm_start(
        self,
        serialized: dict[str, Any],
        prompts: list[str],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        self._start_llm(
            serialized, prompts[-1] if prompts else None, run_id, parent_run_id, metadata, kwargs
        )

    def on_llm_new_token(
        self,
        token: Any,
        *,
        chunk: Any = None,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        **kwargs: Any,
    ) -> None:
        run = self._runs.get(run_id)
        if run is not None and isinstance(run.span, InferenceSpan):
            run.span.record_first_token()

    def on_llm_end(
        self, response: Any, *, run_id: UUID, parent_run_id: UUID | None = None, **kwargs: Any
    ) -> None:
        self._end(run_id, None, response)

    def on_llm_error(
        self,
        error: BaseException,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> None:
        self._end(run_id, error)

    def on_tool_start(
        self,
        serialized: dict[str, Any],
        input_str: str,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        inputs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        if not is_enabled():
            return
        try:
            run = self._open(run_id, parent_run_id, metadata)
            name = (serialized or {}).get("name") or kwargs.get("name") or "tool"
            span = tool_span(str(name), args=(inputs if inputs is not None else input_str,))
            if span is None:
                return
            call_id = kwargs.get("tool_call_id")
            if call_id:
                span.set_metadata(tool_call_id=call_id)
            self._begin(span, run)
            root = run.root
            span.set_parent_inference(
                (root.by_tool_call.get(call_id) if call_id else None) or root.last_inference
            )
        except Exception:
            count_internal_error()

    def on_tool_end(
        self, output: Any, *, run_id: UUID, parent_run_id: UUID | None = None, **kwargs: Any
    ) -> None:
        self._end(run_id, None, output)

    def on_tool_error(
        self,
        error: BaseException,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> None:
        self._end(run_id, error)

    def on_chain_start(
        self,
        serialized: dict[str, Any],
        inputs: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        if not is_enabled():
            return
        try:
            run = self._open(run_id, parent_run_id, metadata)
            if run.parent is not None and _is_prompt_template(serialized, kwargs):
                run.parent.prompt = _template_prompt(serialized, metadata or {}, kwargs)
        except Exception:
            count_internal_error()

    def on_chain_end(
        self, outputs: Any, *, run_id: UUID, parent_run_id: UUID | None = None, **kwargs: Any
    ) -> None:
        self._close(run_id)

    def on_chain_error(
        self,
        error: BaseException,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> None:
        self._close(run_id)


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _class_name(serialized: Any) -> str:
    ids = serialized.get("id") if isinstance(serialized, dict) else None
    return str(ids[-1]) if isinstance(ids, list) and ids else ""


def _is_prompt_template(serialized: Any, kwargs: dict[str, Any]) -> bool:
    if kwargs.get("run_type") == "prompt":
        return True
    ids = serialized.get("id") if isinstance(serialized, dict) else None
    return isinstance(ids, list) and "prompts" in ids[:-1]


def _template_prompt(
    serialized: Any, metadata: dict[str, Any], kwargs: dict[str, Any]
) -> Prompt | None:
    """The prompt a template run names (see the module docstring), or None."""
    run_name = str(kwargs.get("name") or "")
    if run_name == _class_name(serialized) or run_name.endswith("PromptTemplate"):
        run_name = ""  # LangChain's default: the class name, not the user's
    hub = metadata.get("lc_hub_repo")
    if hub and metadata.get("lc_hub_owner") not in (None, "", "-"):
        hub = f"{metadata['lc_hub_owner']}/{hub}"
    name = metadata.get("prompt_name") or run_name or hub or ""
    version = metadata.get("prompt_version") or metadata.get("lc_hub_commit_hash")
    template = _template_text(serialized)
    if not (name or version or template):
        return None
    return Prompt(str(name), version, template)


def _template_text(serialized: Any) -> str | None:
    """A template's text from its serialized form: a ``PromptTemplate``'s template; a chat
    template's messages one per line, ``<role>: <template>`` (placeholders as ``{name}``)."""
    lines: list[str] = []
    _collect_templates(serialized, "", lines, 0)
    return "\n".join(lines) or None


def _collect_templates(node: Any, role: str, out: list[str], depth: int) -> None:
    if depth > _MAX_DEPTH:
        return
    if isinstance(node, list):
        for item in node:
            _collect_templates(item, role, out, depth + 1)
        return
    kwargs = node.get("kwargs") if isinstance(node, dict) else None
    if not isinstance(kwargs, dict):
        return
    kind = _class_name(node)
    if kind == "MessagesPlaceholder":
        out.append(f"placeholder: {{{kwargs.get('variable_name')}}}")
        return
    if kind.endswith("MessagePromptTemplate"):
        role = str(kwargs.get("role") or kind.removesuffix("MessagePromptTemplate").lower())
    elif kind.endswith("Message") and isinstance(kwargs.get("content"), str):
        out.append(
            f"{kwargs.get('role') or kind.removesuffix('Message').lower()}: {kwargs['content']}"
        )
        return
    template = kwargs.get("template")
    if isinstance(template, str):
        out.append(f"{role}: {template}" if role else template)
        return
    for value in kwargs.values():
        _collect_templates(value, role, out, depth + 1)
