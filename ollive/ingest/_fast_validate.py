"""A fast path for validating events that pydantic need not see.

Pydantic costs 13-16 us an event, about half of it in the models' Python validators. Most
events are plain: the types they should have, within bounds, with the usual timestamp form.
For those, :func:`vouch_for` checks the field types and bounds with msgspec (C) and the
cross-field rules of :mod:`ollive.events` in plain Python, then builds the very model
instances pydantic would have built.

The rule that keeps decisions identical: this path only ever *accepts*. An event it is not
sure of (a failed check, an unusual type, a timestamp in another form...)
comes back as ``None`` and the caller hands it to :func:`ollive.events.parse_event`, which
decides and words the errors. So every check here may be stricter than the model's, never
looser, and every accepted value must equal pydantic's.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from pydantic import BaseModel

from ollive.events import (
    LATENCY_TOLERANCE_MS,
    MAX_MESSAGE_CHARS,
    MAX_MILLIS,
    MAX_NAME_CHARS,
    MAX_PREVIEW_CHARS,
    MAX_PROMPT_VERSION_CHARS,
    ApplicationEvent,
    InferenceEvent,
    ScoreEvent,
    ToolExecutionEvent,
    # the contract's own checks, shared rather than copied so that they cannot drift
    check_metadata,
    check_time,
    tool_calls_text,
)

__all__ = ["vouch_for"]

AnyEvent = InferenceEvent | ToolExecutionEvent | ApplicationEvent | ScoreEvent

# The one timestamp form taken here: RFC 3339 with an explicit offset and at most microseconds,
# on which msgspec's and pydantic's parsers agree. Anything else (unix numbers, a space for "T",
# nanoseconds, no offset) is pydantic's to read.
_TIMESTAMP = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
    r"(?:\.[0-9]{1,6})?(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])"
)
# fullmatch, not the model's ``match`` with ``$``: a trailing newline is left to pydantic
_HEX32 = re.compile("[0-9a-f]{32}")
_HEX16 = re.compile("[0-9a-f]{16}")
_LEVELS = frozenset({"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"})
_LEVEL_ALIASES = {"WARN": "WARNING", "FATAL": "CRITICAL"}

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_NAME_CHARS)]
OptionalName = Annotated[str, msgspec.Meta(max_length=MAX_NAME_CHARS)] | None
Millis = Annotated[float, msgspec.Meta(ge=0, le=MAX_MILLIS)]
Tokens = Annotated[int, msgspec.Meta(ge=0, le=100_000_000)]


class _BaseStruct(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The fields of ``ollive.events._Base``, in its order (the models' ``__dict__`` order)."""

    schema_version: Literal["1.0", "1.1"] = "1.0"
    request_id: UUID
    trace_id: str | None = None  # the W3C formats are checked in Python, with the non-zero rule
    span_id: str | None = None
    parent_span_id: str | None = None
    conversation_id: OptionalName = None
    session_id: OptionalName = None
    user_id: OptionalName = None
    service: Name = "default"
    metadata: dict[str, Any] = msgspec.field(default_factory=dict)


class _TimedStruct(_BaseStruct, kw_only=True):
    started_at: datetime  # only in the form of _TIMESTAMP
    finished_at: datetime
    latency_ms: Millis | None = None
    status: Literal["ok", "error", "cancelled", "timeout"] = "ok"
    error_code: OptionalName = None
    error_message: str | None = None  # cut, never rejected for length


class _InferenceStruct(_TimedStruct, kw_only=True):
    log_type: Literal["inference"] = "inference"
    provider: Name
    model: Name
    ttft_ms: Millis | None = None
    stream: bool = False
    prompt_tokens: Tokens = 0
    completion_tokens: Tokens = 0
    total_tokens: Tokens | None = None
    cached_prompt_tokens: Tokens = 0
    cost_usd: Annotated[float, msgspec.Meta(ge=0, le=1_000_000)] | None = None
    finish_reason: OptionalName = None
    tool_calls_count: Annotated[int, msgspec.Meta(ge=0, le=10_000)] = 0
    tool_calls_summary: Any = None  # the model's own plain validator reads it
    input_preview: str | None = None
    output_preview: str | None = None
    prompt_name: OptionalName = None
    prompt_version: (
        Annotated[str, msgspec.Meta(max_length=MAX_PROMPT_VERSION_CHARS)] | int | None
    ) = None
    prompt_hash: str | None = None


class _ToolExecutionStruct(_TimedStruct, kw_only=True):
    log_type: Literal["tool_execution"] = "tool_execution"
    parent_request_id: UUID | None = None
    tool_name: Name
    args_preview: str | None = None
    result_preview: str | None = None


class _ApplicationStruct(_BaseStruct, kw_only=True):
    log_type: Literal["application"] = "application"
    timestamp: datetime
    level: str = "INFO"  # normalised and checked in Python, as the model's before-validator
    logger: Annotated[str, msgspec.Meta(max_length=MAX_NAME_CHARS)] = ""
    message: str = ""
    attributes: dict[str, Any] = msgspec.field(default_factory=dict)


class _ScoreStruct(_BaseStruct, kw_only=True):
    log_type: Literal["score"] = "score"
    timestamp: datetime
    target_request_id: UUID
    name: Name
    value: Annotated[float, msgspec.Meta(ge=-1e12, le=1e12)]
    comment: str | None = None
    source: Literal["user", "model", "human"] = "user"


class _Unsure(ValueError):
    """This path cannot vouch for the event: pydantic decides, and words the errors."""


def _cut(value: str | None, limit: int) -> str | None:
    """The model's ``_cut``: longer text is shortened to ``limit`` characters with "…"."""
    if value is not None and len(value) > limit:
        return value[: limit - 1] + "…"
    return value


def _check_base(values: dict[str, Any]) -> None:
    """``_Base``: W3C ids (lowercase hex, not all zero) and bounded metadata."""
    trace_id, span_id, parent = values["trace_id"], values["span_id"], values["parent_span_id"]
    if trace_id is not None and (not _HEX32.fullmatch(trace_id) or trace_id == "0" * 32):
        raise _Unsure("trace_id")
    for span in (span_id, parent):
        if span is not None and (not _HEX16.fullmatch(span) or span == "0" * 16):
            raise _Unsure("span_id")
    if values["metadata"]:  # an empty mapping always passes
        check_metadata(values["metadata"])


def _check_timed(values: dict[str, Any], given: set[str]) -> None:
    """``_Timed``: bounded timestamps in UTC; ``_timing``: the latency agrees with them, or is
    filled from them."""
    _check_base(values)
    started = values["started_at"] = check_time(values["started_at"])
    finished = values["finished_at"] = check_time(values["finished_at"])
    span_ms = (finished - started).total_seconds() * 1000
    if span_ms < 0:
        raise _Unsure("finished_at")
    latency = values["latency_ms"]
    if latency is None:
        if span_ms > MAX_MILLIS:
            raise _Unsure("latency_ms")
        values["latency_ms"] = span_ms
        given.add("latency_ms")  # pydantic counts a validator's assignment as set
    elif abs(latency - span_ms) > LATENCY_TOLERANCE_MS + 0.01 * span_ms:
        raise _Unsure("latency_ms")
    values["error_message"] = _cut(values["error_message"], MAX_MESSAGE_CHARS)


def _check_inference(values: dict[str, Any], given: set[str]) -> None:
    """``InferenceEvent``: the prompt fields and ``_version``, ``_usage``, the tool-call
    summary (by the model's own validator) and the previews."""
    _check_timed(values, given)
    version, digest = values["prompt_version"], values["prompt_hash"]
    if type(version) is int:  # stored as its decimal text
        version = values["prompt_version"] = str(version)
        if len(version) > MAX_PROMPT_VERSION_CHARS:
            raise _Unsure("prompt_version")
    if digest is not None and not _HEX16.fullmatch(digest):
        raise _Unsure("prompt_hash")
    if "schema_version" not in given and (
        values["prompt_name"] is not None or version is not None or digest is not None
    ):
        values["schema_version"] = "1.1"
        given.add("schema_version")
    prompt, floor = values["prompt_tokens"], values["prompt_tokens"] + values["completion_tokens"]
    if values["total_tokens"] is None:
        values["total_tokens"] = floor
        given.add("total_tokens")
    elif values["total_tokens"] < floor:
        raise _Unsure("total_tokens")
    if values["cached_prompt_tokens"] > prompt:
        raise _Unsure("cached_prompt_tokens")
    ttft = values["ttft_ms"]
    if ttft is not None and ttft > values["latency_ms"] + LATENCY_TOLERANCE_MS:
        raise _Unsure("ttft_ms")
    if values["tool_calls_summary"] is not None:
        values["tool_calls_summary"] = tool_calls_text(values["tool_calls_summary"])
    values["input_preview"] = _cut(values["input_preview"], MAX_PREVIEW_CHARS)
    values["output_preview"] = _cut(values["output_preview"], MAX_PREVIEW_CHARS)


def _check_tool_execution(values: dict[str, Any], given: set[str]) -> None:
    """``ToolExecutionEvent``: the timing rules and the cut previews."""
    _check_timed(values, given)
    values["args_preview"] = _cut(values["args_preview"], MAX_PREVIEW_CHARS)
    values["result_preview"] = _cut(values["result_preview"], MAX_PREVIEW_CHARS)


def _check_application(values: dict[str, Any], given: set[str]) -> None:
    """``ApplicationEvent``: a bounded timestamp, the level spelled out (``_level``), a cut
    message, bounded attributes."""
    _check_base(values)
    values["timestamp"] = check_time(values["timestamp"])
    level = values["level"].upper()
    level = values["level"] = _LEVEL_ALIASES.get(level, level)
    if level not in _LEVELS:
        raise _Unsure("level")
    values["message"] = _cut(values["message"], MAX_MESSAGE_CHARS)
    if values["attributes"]:  # an empty mapping always passes
        check_metadata(values["attributes"])


def _check_score(values: dict[str, Any], given: set[str]) -> None:
    """``ScoreEvent``: a bounded timestamp and a cut comment (the struct's bounds already
    make ``value`` finite: NaN and infinities fail them)."""
    _check_base(values)
    values["timestamp"] = check_time(values["timestamp"])
    values["comment"] = _cut(values["comment"], MAX_MESSAGE_CHARS)


@dataclass(frozen=True, slots=True)
class _Shape:
    """One event type: its msgspec mirror, its timestamp fields, its Python rules and the
    model to build."""

    struct: type[msgspec.Struct]
    timestamps: tuple[str, ...]
    check: Callable[[dict[str, Any], set[str]], None]
    model: type[BaseModel]


_TIMED = ("started_at", "finished_at")
_SHAPES = {
    "inference": _Shape(_InferenceStruct, _TIMED, _check_inference, InferenceEvent),
    "tool_execution": _Shape(
        _ToolExecutionStruct, _TIMED, _check_tool_execution, ToolExecutionEvent
    ),
    "application": _Shape(_ApplicationStruct, ("timestamp",), _check_application, ApplicationEvent),
    "score": _Shape(_ScoreStruct, ("timestamp",), _check_score, ScoreEvent),
}


def _check_mirrors() -> None:
    """Fail at import when a model and its mirror drift apart, or when a model gains what
    :func:`_construct` does not build (a post-init hook, private attributes, extras)."""
    for shape in _SHAPES.values():
        model = shape.model
        if shape.struct.__struct_fields__ != tuple(model.model_fields):
            raise RuntimeError(f"{shape.struct.__name__} no longer mirrors {model.__name__}")
        if (
            model.__pydantic_post_init__ is not None
            or model.__private_attributes__
            or model.model_config.get("extra") != "forbid"
        ):
            raise RuntimeError(f"{model.__name__} needs more than the fast path builds")


_check_mirrors()
_set = object.__setattr__


def _construct(model: type[BaseModel], values: dict[str, Any], given: set[str]) -> Any:
    """What ``model.model_construct(given, **values)`` builds when ``values`` holds every
    field, in order: the same four attributes, without its per-field default lookup, which
    alone costs about as much as validating the event."""
    event = model.__new__(model)
    _set(event, "__dict__", values)
    _set(event, "__pydantic_fields_set__", given)
    _set(event, "__pydantic_extra__", None)
    _set(event, "__pydantic_private__", None)
    return event


def _vouch(item: Any) -> AnyEvent | None:
    if type(item) is not dict:
        return None
    tag = item.get("log_type")
    shape = _SHAPES.get(tag) if type(tag) is str else None
    if shape is None:
        return None
    for name in shape.timestamps:
        text = item.get(name)
        if type(text) is not str or not _TIMESTAMP.fullmatch(text):
            return None
    given = set(item)
    try:
        values = msgspec.structs.asdict(msgspec.convert(item, shape.struct, strict=True))
        shape.check(values, given)
    except ValueError:  # msgspec.ValidationError, _Unsure and the contract's own checks
        return None
    event: AnyEvent = _construct(shape.model, values, given)
    return event


def vouch_for(items: Sequence[Any]) -> list[AnyEvent | None]:
    """For each item, the event pydantic would build from it, or ``None`` where this path is
    not sure (pydantic must then decide). Items are not changed.

    Items are events as orjson decodes them: its text is valid Unicode. The standard
    library's parser lets lone surrogates through, which pydantic refuses and msgspec does
    not look for, so bodies it decoded must not come here.
    """
    return [_vouch(item) for item in items]
