"""Duck-typed readers for the response shapes the SDK meets (no third-party imports).

- OpenAI chat completions (objects or dicts): ``choices[0].message``, ``usage``;
- OpenAI stream chunks: ``choices[0].delta``, a final ``usage`` chunk;
- LangChain messages: ``content``, ``usage_metadata``, ``tool_calls``, ``response_metadata``.

Public, for integrations: each function writes what it finds onto an inference span through
its ``set_*`` methods (any object with those methods will do).
"""

from __future__ import annotations

from typing import Any

__all__ = ["absorb_chunk", "absorb_response", "absorb_usage", "finish_stream", "get"]


def get(obj: Any, key: str, default: Any = None) -> Any:
    """``obj[key]`` for dicts, ``obj.key`` otherwise."""
    if obj is None:
        return default
    if isinstance(obj, dict):
        return obj.get(key, default)
    return getattr(obj, key, default)


def absorb_usage(span: Any, usage: Any) -> None:
    """OpenAI ``usage`` or LangChain ``usage_metadata`` onto an inference span."""
    if usage is None:
        return
    prompt = get(usage, "prompt_tokens")
    if prompt is not None:  # OpenAI
        details = get(usage, "prompt_tokens_details")
        span.set_usage(
            prompt or 0,
            get(usage, "completion_tokens") or 0,
            get(usage, "total_tokens"),
            get(details, "cached_tokens") or 0,
        )
        return
    prompt = get(usage, "input_tokens")
    if prompt is not None:  # LangChain usage_metadata / OpenAI responses API
        details = get(usage, "input_token_details") or get(usage, "input_tokens_details")
        cached = get(details, "cache_read") or get(details, "cached_tokens") or 0
        span.set_usage(
            prompt or 0, get(usage, "output_tokens") or 0, get(usage, "total_tokens"), cached
        )


def absorb_response(span: Any, result: Any) -> None:
    """Usage, output, finish reason and tool calls of a completion or a LangChain message."""
    choices = get(result, "choices")
    if choices:  # OpenAI chat completion
        choice = choices[0]
        message = get(choice, "message")
        span.set_finish_reason(get(choice, "finish_reason"))
        if message is not None:
            content = get(message, "content")
            if content is not None:
                span.set_output(content)
            calls = get(message, "tool_calls")
            if calls:
                span.set_tool_calls(calls)
        absorb_usage(span, get(result, "usage"))
        return
    usage = get(result, "usage_metadata")
    if usage is not None or get(result, "response_metadata") is not None:  # LangChain message
        content = get(result, "content")
        if content:
            span.set_output(content if isinstance(content, str) else str(content))
        calls = get(result, "tool_calls")
        if calls:
            span.set_tool_calls(calls)
        meta = get(result, "response_metadata") or {}
        reason = get(meta, "finish_reason") or get(meta, "stop_reason")
        if reason:
            span.set_finish_reason(reason)
        absorb_usage(span, usage)
        return
    absorb_usage(span, get(result, "usage"))


def absorb_chunk(span: Any, chunk: Any, state: dict[str, Any]) -> None:
    """One OpenAI stream chunk: first token, text, tool calls, finish reason, final usage.

    ``state`` carries what spans chunks: ``text`` (list of str), ``tools`` (index -> name).
    """
    usage = get(chunk, "usage")
    if usage is not None:
        absorb_usage(span, usage)
    for choice in get(chunk, "choices") or ():
        delta = get(choice, "delta")
        content = get(delta, "content")
        if content:
            span.record_first_token()
            text = state.setdefault("text", [])
            if state.get("chars", 0) <= 500:
                text.append(content)
                state["chars"] = state.get("chars", 0) + len(content)
        for call in get(delta, "tool_calls") or ():
            span.record_first_token()
            fn = get(call, "function")
            index = get(call, "index", 0)
            tools = state.setdefault("tools", {})
            if index not in tools:
                tools[index] = {"name": get(fn, "name") or "", "arguments": ""}
            if get(fn, "arguments"):
                tools[index]["arguments"] += get(fn, "arguments")
        reason = get(choice, "finish_reason")
        if reason:
            span.set_finish_reason(reason)


def finish_stream(span: Any, state: dict[str, Any]) -> None:
    """Write what a stream accumulated onto the span (output preview, tool calls)."""
    if state.get("text"):
        span.set_output("".join(state["text"]))
    tools = state.get("tools")
    if tools:
        span.set_tool_calls([{"function": tools[i]} for i in sorted(tools)])
