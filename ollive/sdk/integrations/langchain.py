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
  ``ollive.conversation``.

One handler can serve many concurrent runs: state is kept per ``run_id``. It never raises
into LangChain. Do not also decorate the same tools with ``@ollive.tool`` (double events).
"""

from __future__ import annotations

import time
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler

from ollive.sdk import api
from ollive.sdk._context import (
    Scope,
    current_scope,
    current_span,
    is_sampled,
    new_span_id,
    new_trace_id,
)
from ollive.sdk._shapes import absorb_response, absorb_usage, get
from ollive.sdk._span import Span as _Span
from ollive.sdk.spans import InferenceSpan, ToolSpan

__all__ = ["CallbackHandler"]

_MAX_OPEN_RUNS = 10_000


class _Root:
    """What one root run (a graph invocation) shares: its trace and its inferences."""

    __slots__ = (
        "by_tool_call",
        "conversation_id",
        "last_inference",
        "sampled",
        "scope",
        "session_id",
        "trace_id",
        "user_id",
    )

    def __init__(
        self, trace_id: str, sampled: bool, ids: tuple[Any, Any, Any], scope: Scope | None = None
    ) -> None:
        self.scope = scope  # the ollive.conversation the run started in, if any
        self.trace_id = trace_id
        self.sampled = sampled
        self.conversation_id, self.session_id, self.user_id = ids
        self.last_inference: InferenceSpan | None = None
        self.by_tool_call: dict[str, InferenceSpan] = {}


class _Run:
    __slots__ = ("parent_span_id", "root", "root_id", "span", "span_id")

    def __init__(
        self, root: _Root, root_id: UUID, span_id: str | None, parent_span_id: str | None
    ) -> None:
        self.root = root
        self.root_id = root_id
        self.span_id = span_id
        self.parent_span_id = parent_span_id
        self.span: _Span | None = None


class CallbackHandler(BaseCallbackHandler):
    """Turns LangChain/LangGraph runs into Ollive events (see the module docstring)."""

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
        self,
        run_id: UUID,
        parent_run_id: UUID | None,
        metadata: dict[str, Any] | None,
        exported: bool,
    ) -> _Run | None:
        parent = self._runs.get(parent_run_id) if parent_run_id is not None else None
        if parent is not None:
            run = _Run(parent.root, parent.root_id, None, parent.span_id)
        else:
            run = self._new_root(run_id, metadata or {})
        run.span_id = new_span_id() if exported else run.parent_span_id
        runs = self._runs
        if (
            len(runs) >= _MAX_OPEN_RUNS
        ):  # runs LangChain never ended (aborted streams): forget the oldest
            runs.pop(next(iter(runs)), None)
        runs[run_id] = run
        return run

    def _new_root(self, run_id: UUID, metadata: dict[str, Any]) -> _Run:
        outer = current_span.get()
        scope = current_scope.get()
        rt = api._runtime
        parent_span_id = None
        if outer is not None:
            trace_id, sampled, parent_span_id = outer.trace_id, outer.sampled, outer.span_id
        elif scope is not None:
            trace_id, sampled = scope.trace_id, scope.sampled
        else:
            trace_id = new_trace_id()
            sampled = rt is None or is_sampled(trace_id, rt.sample_rate)
        context = outer or scope
        ids = tuple(
            metadata.get(key) or metadata.get(alias) or default or getattr(context, key, None)
            for key, alias, default in zip(
                ("conversation_id", "session_id", "user_id"),
                ("thread_id", "session", "user"),
                self._ids,
                strict=True,
            )
        )
        if scope is None and outer is not None:
            scope = outer._scope
        root = _Root(trace_id, sampled, ids, scope)  # type: ignore[arg-type]
        return _Run(root, run_id, None, parent_span_id)

    def _close(self, run_id: UUID) -> _Run | None:
        return self._runs.pop(run_id, None)

    def _begin(self, span: _Span, run: _Run) -> None:
        root = run.root
        span.trace_id = root.trace_id
        span.span_id = run.span_id or new_span_id()
        span.parent_span_id = run.parent_span_id
        span.sampled = root.sampled
        span.conversation_id, span.session_id, span.user_id = (
            _str(root.conversation_id),
            _str(root.session_id),
            _str(root.user_id),
        )
        span.started_at = time.time()
        span._t0 = time.perf_counter()
        if isinstance(span, InferenceSpan):
            # so @ollive.tool functions called later in the same conversation link to it
            span._scope = root.scope
        run.span = span

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
            span._rt.processor.count_internal_error()
        span._finish(exc)

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
        rt = api._runtime
        if rt is None:
            return
        try:
            run = self._open(run_id, parent_run_id, metadata, exported=True)
            if run is None:
                return
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
            span = InferenceSpan(
                rt, str(provider or "langchain"), str(model or params.get("_type") or "unknown")
            )
            span.set_input(prompt)
            self._begin(span, run)
        except Exception:
            rt.processor.count_internal_error()

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
        rt = api._runtime
        if rt is None:
            return
        try:
            run = self._open(run_id, parent_run_id, metadata, exported=True)
            if run is None:
                return
            name = (serialized or {}).get("name") or kwargs.get("name") or "tool"
            span = ToolSpan(rt, str(name), (inputs if inputs is not None else input_str,))
            call_id = kwargs.get("tool_call_id")
            root = run.root
            span._parent_inference = (
                root.by_tool_call.get(call_id) if call_id else None
            ) or root.last_inference
            if call_id:
                span.set_metadata(tool_call_id=call_id)
            self._begin(span, run)
        except Exception:
            rt.processor.count_internal_error()

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
        rt = api._runtime
        if rt is None:
            return
        try:
            self._open(run_id, parent_run_id, metadata, exported=False)
        except Exception:
            rt.processor.count_internal_error()

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
