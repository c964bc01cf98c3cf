"""Spans: what ``ollive.inference`` and ``ollive.tool`` hand you while a call runs.

A span is cheap on the caller's thread: starting it reads two context variables (an
inference a third: the current ``ollive.prompt``) and the clocks; its setters store
references; ending it appends the span itself to the processor's queue. Previews,
timestamps and the event's JSON are rendered later, on the export thread (so pass strings,
or objects you do not mutate afterwards, to the ``set_*`` methods).

``request_id`` (a UUIDv7) is made the first time someone asks for it, by the app or by the
exporter, and never changes afterwards.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ollive.sdk import _render
from ollive.sdk._context import current_prompt
from ollive.sdk._span import Span as _Span
from ollive.sdk.prompts import Prompt

if TYPE_CHECKING:  # pragma: no cover
    from ollive.sdk._runtime import Runtime

__all__ = ["InferenceSpan", "NoopSpan", "ToolSpan"]

_perf = time.perf_counter
_q = _render.quote
_prompt_now = current_prompt.get
_model_fragments: dict[tuple[str, str], str] = {}


def _model_json(provider: Any, model: Any) -> str:
    """``,"provider":…,"model":…`` as JSON text, cached: a service uses few models."""
    key = (str(provider), str(model))
    text = _model_fragments.get(key)
    if text is None:
        if len(_model_fragments) >= 1_024:
            _model_fragments.clear()
        text = f',"provider":{_q(_render.name(key[0]))},"model":{_q(_render.name(key[1]))}'
        _model_fragments[key] = text
    return text


class InferenceSpan(_Span):
    """One model call. Use the ``set_*`` methods while it runs; everything is optional."""

    _log_type = "inference"
    provider: str = "unknown"
    model: str = "unknown"
    stream: bool = False
    ttft_s: float | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int | None = None
    cached_prompt_tokens: int = 0
    cost_usd: float | None = None
    finish_reason: str | None = None
    tool_calls_count: int = 0
    _tool_calls: Any = None
    _input: Any = None
    _output: Any = None
    _chunks: list[str] | None = None
    _chunk_chars: int = 0
    _prompt: Prompt | None = None

    def __init__(self, runtime: Runtime, provider: str, model: str) -> None:
        self._rt = runtime
        self.provider = provider
        self.model = model

    def set_input(self, value: Any) -> None:
        """The prompt: a string, or chat messages (the last one is previewed)."""
        self._input = value

    def set_output(self, value: Any) -> None:
        """The completion text (previewed, at most 500 characters)."""
        self._output = value

    def set_model(self, model: str, provider: str | None = None) -> None:
        """Correct the model (e.g. the dated name the provider answered with)."""
        self.model = model
        if provider is not None:
            self.provider = provider

    def set_usage(
        self,
        prompt_tokens: int = 0,
        completion_tokens: int = 0,
        total_tokens: int | None = None,
        cached_prompt_tokens: int = 0,
    ) -> None:
        """Token usage; ``total_tokens`` defaults to prompt + completion."""
        self.prompt_tokens = prompt_tokens or 0
        self.completion_tokens = completion_tokens or 0
        self.total_tokens = total_tokens
        self.cached_prompt_tokens = cached_prompt_tokens or 0

    def set_prompt(
        self, name: str | Prompt, version: str | int | None = None, template: str | None = None
    ) -> None:
        """The prompt template this call was made from (contract v1.1): its ``name``,
        ``version`` and the hash of its ``template`` text; or a :class:`Prompt` from
        ``ollive.prompt(...)`` (its hash is already computed). Wins over the current
        ``ollive.prompt``, whether called before or after :meth:`start`."""
        self._prompt = name if isinstance(name, Prompt) else Prompt(name, version, template)

    @property
    def prompt(self) -> Prompt | None:
        """The prompt this call carries: set with :meth:`set_prompt`, else the ``ollive.prompt``
        current when the span started; ``None`` when there is none."""
        return self._prompt

    def set_cost(self, cost_usd: float) -> None:
        """The call's cost, when you know it better than ingest's price table."""
        self.cost_usd = cost_usd

    def set_finish_reason(self, reason: str | None) -> None:
        """Why the model stopped (``stop``, ``length``, ``tool_calls``, ...)."""
        self.finish_reason = reason

    def set_tool_calls(self, calls: Sequence[Any]) -> None:
        """The tool calls the model asked for: names, OpenAI-shaped dicts or LangChain dicts."""
        self.tool_calls_count = len(calls)
        self._tool_calls = calls

    def record_first_token(self) -> None:
        """Mark the first streamed token (TTFT); later calls are ignored."""
        if self.ttft_s is None:
            self.ttft_s = _perf() - self._t0
            self.stream = True

    def _add_chunk(self, chunk: Any) -> None:
        if self.ttft_s is None:
            self.ttft_s = _perf() - self._t0
            self.stream = True
        if isinstance(chunk, str) and self._chunk_chars <= 500:
            if self._chunks is None:
                self._chunks = []
            self._chunks.append(chunk)
            self._chunk_chars += len(chunk)

    def _link(self, parent: Any) -> None:
        if self._prompt is None:
            self._prompt = _prompt_now()

    def _on_end(self) -> None:
        scope = self._scope
        if scope is not None:
            scope.last_inference = self

    def _absorb(self, result: Any) -> None:
        if isinstance(result, str):
            if self._output is None:
                self._output = result
            return
        from ollive.sdk.shapes import absorb_response

        absorb_response(self, result)

    def to_json(self, service: str) -> str:
        """The contract's ``inference`` event as JSON text (called on the export thread).

        ``schema_version`` is "1.1" only when the event carries prompt fields, so a server
        that knows only v1.0 keeps accepting everything else.
        """
        prompt_fields = self._prompt.fields_json() if self._prompt is not None else ""
        parts = self._common_json(service, "1.1" if prompt_fields else "1.0")
        output = self._output
        if output is None and self._chunks:
            output = "".join(self._chunks)
        prompt = max(int(self.prompt_tokens), 0)
        completion = max(int(self.completion_tokens), 0)
        total = self.total_tokens
        total = prompt + completion if total is None else max(int(total), prompt + completion)
        parts.append(
            f"{_model_json(self.provider, self.model)}"
            f',"prompt_tokens":{prompt},"completion_tokens":{completion},"total_tokens":{total}'
        )
        if self.stream:
            parts.append(',"stream":true')
        if self.ttft_s is not None:
            ttft_ms = min(round(self.ttft_s * 1000, 3), round(self.latency_s * 1000, 3))
            parts.append(f',"ttft_ms":{max(ttft_ms, 0.0)!r}')
        if self.cached_prompt_tokens:
            parts.append(
                f',"cached_prompt_tokens":{min(max(int(self.cached_prompt_tokens), 0), prompt)}'
            )
        if self.finish_reason is not None:
            parts.append(f',"finish_reason":{_q(_render.name(self.finish_reason))}')
        if self.tool_calls_count:
            parts.append(f',"tool_calls_count":{min(int(self.tool_calls_count), 10_000)}')
            summary = _tool_calls_summary(self._tool_calls)
            if summary is not None:
                parts.append(f',"tool_calls_summary":{summary}')  # a JSON list
        if self._input is not None:
            parts.append(f',"input_preview":{_q(_render.preview(self._input) or "")}')
        if output is not None:
            parts.append(f',"output_preview":{_q(_render.preview(output) or "")}')
        if self.cost_usd is not None:
            parts.append(f',"cost_usd":{_render.dumps(max(float(self.cost_usd), 0.0))}')
        if prompt_fields:
            parts.append(prompt_fields)
        parts.append("}")
        return "".join(parts)


def _tool_call_entry(call: Any) -> dict[str, Any]:
    """One ``{"name", "args_preview"}`` entry of the contract's ``tool_calls_summary``."""
    name: Any
    args: Any = None
    if isinstance(call, str):
        name = call
    elif isinstance(call, dict):
        fn = call.get("function")
        if isinstance(fn, dict):  # OpenAI: {"function": {"name", "arguments"}}
            name, args = fn.get("name"), fn.get("arguments")
        else:  # LangChain: {"name", "args"}
            name, args = call.get("name"), call.get("args", call.get("arguments"))
    elif (fn := getattr(call, "function", None)) is not None:  # OpenAI SDK objects
        name, args = getattr(fn, "name", None), getattr(fn, "arguments", None)
    else:
        name = getattr(call, "name", call)
    shown = _render.preview(args, 200) if args not in (None, "", {}) else None
    return {"name": _render.name(name, "tool"), "args_preview": shown}


def _tool_calls_summary(calls: Any) -> str | None:
    """The documented list of ``{"name", "args_preview"}`` objects, as JSON (at most 16)."""
    if not calls:
        return None
    try:
        entries = [_tool_call_entry(c) for c in list(calls)[:16]]
        return json.dumps(entries, ensure_ascii=False, separators=(",", ":"))
    except Exception:
        return None


class ToolSpan(_Span):
    """One tool call, linked to the inference that asked for it (see ``parent_request_id``)."""

    _log_type = "tool_execution"
    tool_name: str = "tool"
    _args: tuple[Any, ...] = ()
    _kwargs: dict[str, Any] | None = None
    _result: Any = None
    _parent_inference: Any = None

    def __init__(
        self,
        runtime: Runtime,
        tool_name: str,
        args: tuple[Any, ...] = (),
        kwargs: dict[str, Any] | None = None,
    ) -> None:
        self._rt = runtime
        self.tool_name = tool_name
        self._args = args
        self._kwargs = kwargs

    def _link(self, parent: Any) -> None:
        # Rule: the enclosing inference; else the enclosing tool's inference; else the most
        # recent inference that finished in the same conversation scope (agent loops).
        if isinstance(parent, InferenceSpan):
            self._parent_inference = parent
        elif isinstance(parent, ToolSpan):
            self._parent_inference = parent._parent_inference
        elif self._scope is not None:
            self._parent_inference = self._scope.last_inference

    @property
    def parent_request_id(self) -> str | None:
        """request_id of the inference this tool call is linked to (None when there is none)."""
        parent = self._parent_inference
        return None if parent is None else parent.request_id

    def set_parent_inference(self, inference: InferenceSpan | None) -> None:
        """Link this tool call to the inference that asked for it (``None``: to none)."""
        self._parent_inference = inference

    def set_args(self, value: Any) -> None:
        """Replace the arguments preview source."""
        self._args, self._kwargs = (value,), None

    def set_result(self, value: Any) -> None:
        """The tool's result (previewed, at most 500 characters)."""
        self._result = value

    def _absorb(self, result: Any) -> None:
        if self._result is None:
            self._result = result

    def to_json(self, service: str) -> str:
        """The contract's ``tool_execution`` event as JSON text (export thread)."""
        parts = self._common_json(service)
        parts.append(f',"tool_name":{_q(_render.name(self.tool_name, "tool"))}')
        parent = self.parent_request_id
        if parent is not None:
            parts.append(f',"parent_request_id":"{parent}"')
        args = _render.args_preview(self._args, self._kwargs or {})
        if args is not None:
            parts.append(f',"args_preview":{_q(args)}')
        if self._result is not None:
            parts.append(f',"result_preview":{_q(_render.preview(self._result) or "")}')
        parts.append("}")
        return "".join(parts)


class NoopSpan:
    """What the API hands out before ``ollive.init``, when disabled, or when not sampled away.

    Every setter and life-cycle method (``start``, ``end``, ``activate``, ``deactivate``)
    does nothing; ``request_id`` is ``None``.
    """

    request_id: str | None = None
    parent_request_id: str | None = None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("set_") or name in _NOOP_METHODS:
            return _nothing
        raise AttributeError(name)

    def __enter__(self) -> NoopSpan:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    async def __aenter__(self) -> NoopSpan:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        return None


_NOOP_METHODS = frozenset(
    {"record_first_token", "record_exception", "start", "end", "activate", "deactivate"}
)


def _nothing(*args: Any, **kwargs: Any) -> None:
    return None


NOOP_SPAN = NoopSpan()
