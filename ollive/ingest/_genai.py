"""GenAI span attributes -> Ollive event fields (OpenTelemetry GenAI semconv and OpenInference).

Used by :mod:`ollive.ingest.otlp`. Attribute names, in order of preference:

============== ================================================ ==================================
field          OpenTelemetry GenAI                              OpenInference
============== ================================================ ==================================
provider       gen_ai.provider.name, gen_ai.system              llm.provider, llm.system
model          gen_ai.response.model, gen_ai.request.model      llm.model_name
tokens         gen_ai.usage.input_tokens / output_tokens        llm.token_count.prompt/completion/total
               (gen_ai.usage.prompt_tokens / completion_tokens)
cached tokens  gen_ai.usage.cache_read.input_tokens             llm.token_count.prompt_details.cache_read
cost           gen_ai.usage.cost                                llm.cost.total
finish reason  gen_ai.response.finish_reasons                   llm.output_messages.0.message.finish_reason
previews       gen_ai.input.messages / output.messages,         input.value / output.value,
               gen_ai.prompt / completion                       llm.input_messages / output_messages
tool           gen_ai.tool.name, gen_ai.tool.call.arguments     tool.name, input.value / output.value
               / .result
ids            gen_ai.conversation.id                           session.id (also the conversation),
               user.id, enduser.id                              user.id
============== ================================================ ==================================

Status: span status ERROR -> ``error`` (``timeout``/``cancelled`` when ``error.type`` says so);
``error.type`` -> error_code, the status message -> error_message.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["GenAISpan", "span_role"]

Role = Literal["inference", "tool", "other"]

_INFERENCE_OPS = {"chat", "text_completion", "generate_content", "embeddings", "completion"}
_TOOL_OPS = {"execute_tool"}
_OI_INFERENCE = {"LLM", "EMBEDDING"}
_OI_TOOL = {"TOOL"}
_INDEXED = re.compile(r"^(llm\.(?:input|output)_messages|gen_ai\.(?:prompt|completion))\.(\d+)\.")
_MAX_TEXT = 4_000  # previews are cut to 500 by the contract; this only bounds the work


def span_role(attrs: dict[str, Any]) -> Role:
    """What a span becomes: an inference, a tool execution, or nothing (``other``)."""
    op = str(attrs.get("gen_ai.operation.name") or "").lower()
    kind = str(attrs.get("openinference.span.kind") or "").upper()
    if op in _TOOL_OPS or kind in _OI_TOOL:
        return "tool"
    if op in _INFERENCE_OPS or kind in _OI_INFERENCE:
        return "inference"
    if not op and not kind and _first(attrs, "gen_ai.request.model", "gen_ai.system"):
        return "inference"  # GenAI semconv before gen_ai.operation.name existed
    return "other"


@dataclass(slots=True)
class GenAISpan:
    """One span, decoded, with the accessors that build its event."""

    trace_id: str
    span_id: str
    parent_span_id: str | None
    request_id: str
    name: str
    scope: str
    started_at: str
    finished_at: str
    attrs: dict[str, Any]
    failed: bool
    status_message: str
    role: Role
    event_attrs: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    ids: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        a = self.attrs
        found = {
            "conversation_id": _first(a, "gen_ai.conversation.id", "conversation.id", "session.id"),
            "session_id": _first(a, "session.id"),
            "user_id": _first(a, "user.id", "enduser.id", "gen_ai.user.id"),
        }
        self.ids = {k: str(v) for k, v in found.items() if v not in (None, "")}

    def has_all_ids(self) -> bool:
        return len(self.ids) == 3

    def adopt_ids(self, ancestor: GenAISpan) -> None:
        for key, value in ancestor.ids.items():
            self.ids.setdefault(key, value)

    def inference_event(self, service: str) -> dict[str, Any]:
        a = self.attrs
        prompt = _int(
            _first(
                a,
                "gen_ai.usage.input_tokens",
                "gen_ai.usage.prompt_tokens",
                "llm.token_count.prompt",
            )
        )
        completion = _int(
            _first(
                a,
                "gen_ai.usage.output_tokens",
                "gen_ai.usage.completion_tokens",
                "llm.token_count.completion",
            )
        )
        total = _int(_first(a, "llm.token_count.total", "gen_ai.usage.total_tokens"))
        cached = _int(
            _first(
                a,
                "gen_ai.usage.cache_read.input_tokens",
                "llm.token_count.prompt_details.cache_read",
            )
        )
        tool_calls = self._tool_calls()
        event = self._common("inference", service) | {
            "provider": str(
                _first(a, "gen_ai.provider.name", "gen_ai.system", "llm.provider", "llm.system")
                or "unknown"
            ),
            "model": str(
                _first(
                    a,
                    "gen_ai.response.model",
                    "gen_ai.request.model",
                    "llm.model_name",
                    "embedding.model_name",
                )
                or "unknown"
            ),
            "prompt_tokens": prompt or 0,
            "completion_tokens": completion or 0,
            "total_tokens": max(total or 0, (prompt or 0) + (completion or 0)),
            "cached_prompt_tokens": min(cached or 0, prompt or 0),
            "cost_usd": _float(_first(a, "llm.cost.total", "gen_ai.usage.cost")),
            "finish_reason": self._finish_reason(),
            "tool_calls_count": len(tool_calls),
            "tool_calls_summary": _bounded_calls(tool_calls) or None,
            "input_preview": self._text(
                "input.value",
                "gen_ai.input.messages",
                "gen_ai.prompt",
                indexed=("llm.input_messages.", "gen_ai.prompt."),
                last=True,
            ),
            "output_preview": self._text(
                "output.value",
                "gen_ai.output.messages",
                "gen_ai.completion",
                indexed=("llm.output_messages.", "gen_ai.completion."),
                last=False,
            ),
        }
        return event

    def tool_event(self, service: str, parent_request_id: str | None) -> dict[str, Any]:
        a = self.attrs
        return self._common("tool_execution", service) | {
            "tool_name": str(_first(a, "gen_ai.tool.name", "tool.name") or self.name or "tool"),
            "parent_request_id": parent_request_id,
            "args_preview": _text(
                _first(a, "gen_ai.tool.call.arguments", "input.value", "tool.parameters")
            ),
            "result_preview": _text(_first(a, "gen_ai.tool.call.result", "output.value")),
        }

    def _common(self, log_type: str, service: str) -> dict[str, Any]:
        status, code = self._status()
        meta = {"otel_span_name": self.name[:200], "otel_scope": self.scope[:200]}
        return {
            "log_type": log_type,
            "request_id": self.request_id,
            "trace_id": self.trace_id,
            "span_id": self.span_id,
            "parent_span_id": self.parent_span_id,
            "service": service,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "status": status,
            "error_code": code,
            "error_message": (self.status_message or None) if status != "ok" else None,
            "metadata": meta,
            **self.ids,
        }

    def _status(self) -> tuple[str, str | None]:
        error_type = _first(self.attrs, "error.type", "exception.type")
        for name, attrs in self.event_attrs:
            if error_type is None and name == "exception":
                error_type = attrs.get("exception.type")
        if not self.failed and error_type is None:
            return "ok", None
        code = str(error_type or "error")[:256]
        lowered = code.lower()
        if "timeout" in lowered or "timedout" in lowered:
            return "timeout", code
        if "cancel" in lowered:
            return "cancelled", code
        return "error", code

    def _finish_reason(self) -> str | None:
        reasons = _first(
            self.attrs,
            "gen_ai.response.finish_reasons",
            "llm.output_messages.0.message.finish_reason",
        )
        if isinstance(reasons, list):
            reasons = reasons[0] if reasons else None
        return str(reasons)[:256] if reasons else None

    def _tool_calls(self) -> list[dict[str, Any]]:
        """The tool calls the model asked for, as the contract's ``{"name", "args_preview"}``."""
        a = self.attrs
        prefix = "llm.output_messages."
        suffix = ".tool_call.function.name"
        calls = [
            {"name": str(v), "args_preview": _text(a.get(k[: -len("name")] + "arguments"))}
            for k, v in sorted(a.items(), key=lambda kv: _index_key(kv[0]))
            if k.startswith(prefix) and k.endswith(suffix)
        ]
        if calls:
            return calls
        for message in _messages(a.get("gen_ai.output.messages")):
            for part in message.get("parts") or []:
                if isinstance(part, dict) and part.get("type") == "tool_call":
                    args = part.get("arguments")
                    calls.append(
                        {"name": str(part.get("name") or "tool"), "args_preview": _text(args)}
                    )
        return calls

    def _text(self, *keys: str, indexed: tuple[str, ...], last: bool) -> str | None:
        """The flattened messages (``prefix.N.....content``): the last one (``last``, the
        newest input turn) or all of them joined; else the first of ``keys`` present."""
        contents = [
            v
            for k, v in sorted(self.attrs.items(), key=lambda kv: _index_key(kv[0]))
            if k.startswith(indexed) and k.endswith("content") and isinstance(v, str) and v
        ]
        if contents:
            return _text(contents[-1] if last else "\n".join(contents))
        return _text(_first(self.attrs, *keys))


def _bounded_calls(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Whole entries while they fit the contract's bounds (128 entries, 16 KiB of JSON)."""
    out: list[dict[str, Any]] = []
    size = 2
    for call in calls[:128]:
        entry = {"name": call["name"][:256] or "tool", "args_preview": call["args_preview"]}
        if entry["args_preview"] is not None:
            entry["args_preview"] = entry["args_preview"][:500]
        size += len(json.dumps(entry, ensure_ascii=False).encode()) + 1
        if size > 12_000:
            break
        out.append(entry)
    return out


def _first(attrs: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        value = attrs.get(key)
        if value not in (None, "", []):
            return value
    return None


def _int(value: Any) -> int | None:
    try:
        return max(0, int(value)) if value is not None else None
    except (TypeError, ValueError):
        return None


def _float(value: Any) -> float | None:
    try:
        number = float(value) if value is not None else None
    except (TypeError, ValueError):
        return None
    return number if number is not None and 0 <= number < 1e6 else None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        value = json.dumps(value, ensure_ascii=False, default=str)
    return value[:_MAX_TEXT] or None


def _messages(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return []
    return [m for m in value if isinstance(m, dict)] if isinstance(value, list) else []


def _index_key(key: str) -> tuple[str, int, str]:
    match = _INDEXED.match(key)
    if not match:
        return (key, -1, "")
    return (match[1], int(match[2]), key[match.end() :])
