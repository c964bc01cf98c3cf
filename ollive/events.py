"""The wire contract, v1: what an instrumented app sends to ``POST /v1/logs``.

Four event types, discriminated by ``log_type``:

- :class:`InferenceEvent` (``"inference"``): one model call;
- :class:`ToolExecutionEvent` (``"tool_execution"``): one tool call, linked to its inference;
- :class:`ApplicationEvent` (``"application"``): one log record;
- :class:`ScoreEvent` (``"score"``): feedback or an evaluation about another event.

Versions (``schema_version``): ``"1.0"``, and ``"1.1"``, which adds the optional
``prompt_name``, ``prompt_version`` and ``prompt_hash`` of an inference (see
:func:`template_hash`). Every v1.0 event is a valid v1.1 event; a server that knows only 1.0
answers a ``"1.1"`` event with a clear error rather than storing half of it, which is why
the SDK sends ``"1.1"`` only on inferences that carry prompt fields.

The project (tenant) of an event is never part of the body: ingest takes it from the API key.
Previews are cut to :data:`MAX_PREVIEW_CHARS`, never rejected for length. The JSON Schema
exported from these models lives in ``ollive/schema/events-v1.json`` (``ollive schema``).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, TypeAlias
from uuid import UUID

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from ollive.errors import ContractError

__all__ = [
    "MAX_MESSAGE_CHARS",
    "MAX_METADATA_BYTES",
    "MAX_METADATA_DEPTH",
    "MAX_PREVIEW_CHARS",
    "MAX_PROMPT_VERSION_CHARS",
    "SCHEMA_VERSION",
    "SCHEMA_VERSIONS",
    "ApplicationEvent",
    "Event",
    "EventBatch",
    "InferenceEvent",
    "LogLevel",
    "LogType",
    "MAX_TOOL_CALLS",
    "MAX_TOOL_CALLS_SUMMARY_BYTES",
    "TOOL_CALLS_SUMMARY_EXAMPLE",
    "ScoreEvent",
    "ScoreSource",
    "Status",
    "ToolCallSummary",
    "ToolExecutionEvent",
    "event_json_schema",
    "format_errors",
    "parse_event",
    "template_hash",
]

#: the newest contract version this code reads and writes
SCHEMA_VERSION: Literal["1.1"] = "1.1"
#: every version accepted, oldest first (an event without ``schema_version`` is read as 1.0)
SCHEMA_VERSIONS = ("1.0", "1.1")
MAX_PREVIEW_CHARS = 500
MAX_MESSAGE_CHARS = 4_000
MAX_NAME_CHARS = 256
MAX_PROMPT_VERSION_CHARS = 64
MAX_METADATA_BYTES = 16_384
MAX_METADATA_DEPTH = 5
MAX_TOOL_CALLS = 128  # entries of tool_calls_summary
MAX_TOOL_CALLS_SUMMARY_BYTES = MAX_METADATA_BYTES  # tool_calls_summary as stored JSON text
LATENCY_TOLERANCE_MS = 50.0  # wall clock vs. monotonic clock, plus rounding
_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
_LATEST = datetime(2100, 1, 1, tzinfo=UTC)
_HEX32 = re.compile(r"^[0-9a-f]{32}$")
_HEX16 = re.compile(r"^[0-9a-f]{16}$")

LogType: TypeAlias = Literal["inference", "tool_execution", "application", "score"]
Status: TypeAlias = Literal["ok", "error", "cancelled", "timeout"]
LogLevel: TypeAlias = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
ScoreSource: TypeAlias = Literal["user", "model", "human"]
SchemaVersion: TypeAlias = Literal["1.0", "1.1"]


def template_hash(template: str) -> str:
    """The ``prompt_hash`` of a prompt template: the first 16 hex digits of the SHA-256 of
    its text (UTF-8). The same text gives the same hash in every SDK and at ingest."""
    return hashlib.sha256(template.encode("utf-8")).hexdigest()[:16]


def _cut(limit: int) -> BeforeValidator:
    def cut(value: Any) -> Any:
        if isinstance(value, str) and len(value) > limit:
            return value[: limit - 1] + "…"
        return value

    return BeforeValidator(cut)


Preview = Annotated[str | None, _cut(MAX_PREVIEW_CHARS)]
Message = Annotated[str | None, _cut(MAX_MESSAGE_CHARS)]
Name = Annotated[str, Field(min_length=1, max_length=MAX_NAME_CHARS)]
OptionalName = Annotated[str | None, Field(max_length=MAX_NAME_CHARS)]
MAX_MILLIS = 86_400_000  # one day
Millis = Annotated[float, Field(ge=0, le=MAX_MILLIS)]
Tokens = Annotated[int, Field(ge=0, le=100_000_000)]


def _version_text(value: Any) -> Any:
    """An integer prompt version is stored as its decimal text (``3`` -> ``"3"``)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


PromptVersion = Annotated[
    Annotated[str, Field(max_length=MAX_PROMPT_VERSION_CHARS)] | None,
    BeforeValidator(
        _version_text,
        json_schema_input_type=Annotated[str, Field(max_length=MAX_PROMPT_VERSION_CHARS)]
        | int
        | None,
    ),
]


def _depth(value: Any, level: int = 1) -> int:
    if isinstance(value, dict):
        return max([level, *(_depth(v, level + 1) for v in value.values())])
    if isinstance(value, list):
        return max([level, *(_depth(v, level + 1) for v in value)])
    return level - 1


def check_metadata(value: dict[str, Any]) -> dict[str, Any]:
    if _depth(value) > MAX_METADATA_DEPTH:
        raise ValueError(f"metadata is nested deeper than {MAX_METADATA_DEPTH} levels")
    try:
        size = len(json.dumps(value, allow_nan=False, ensure_ascii=False).encode())
    except (TypeError, ValueError) as exc:
        raise ValueError(f"metadata must be plain JSON (no NaN/Infinity): {exc}") from None
    if size > MAX_METADATA_BYTES:
        raise ValueError(f"metadata is {size} bytes as JSON; the limit is {MAX_METADATA_BYTES}")
    return value


def check_time(value: datetime) -> datetime:
    if not _EARLIEST <= value < _LATEST:
        raise ValueError("timestamp must be between 2000-01-01 and 2100-01-01")
    return value.astimezone(UTC)


class ToolCallSummary(BaseModel):
    """One entry of ``InferenceEvent.tool_calls_summary``: a tool the model asked for."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    name: Name = Field(description="The tool's name.")
    args_preview: Preview = Field(
        None, description="The call's arguments as text (usually JSON), cut to 500 characters."
    )


TOOL_CALLS_SUMMARY_EXAMPLE = (
    '[{"name": "get_current_time", "args_preview": "{\\"tz\\": \\"UTC\\"}"}]'
)
_TOOL_CALLS_EXPECTED = (
    'expected a list of {"name", "args_preview"} objects, e.g. ' + TOOL_CALLS_SUMMARY_EXAMPLE
)
_TOOL_CALLS = TypeAdapter(list[ToolCallSummary])


def _tool_calls_json(calls: list[ToolCallSummary]) -> str:
    text = json.dumps([c.model_dump() for c in calls], ensure_ascii=False, separators=(",", ":"))
    size = len(text.encode())
    if size > MAX_TOOL_CALLS_SUMMARY_BYTES:
        raise ValueError(
            f"tool_calls_summary is {size} bytes as JSON; the limit is "
            f"{MAX_TOOL_CALLS_SUMMARY_BYTES}"
        )
    return text


def _check_tool_calls(value: list[Any]) -> str:
    if len(value) > MAX_TOOL_CALLS:
        raise ValueError(
            f"tool_calls_summary has {len(value)} entries; the limit is {MAX_TOOL_CALLS}"
        )
    try:
        calls = _TOOL_CALLS.validate_python(value)
    except ValidationError as exc:
        found = "; ".join(f"{e['loc']}: {e['msg']}" for e in format_errors(exc)[:3])
        raise ValueError(f"{_TOOL_CALLS_EXPECTED} ({found})") from None
    return _tool_calls_json(calls)


def tool_calls_text(value: Any) -> str | None:
    """The documented list of ``{"name", "args_preview"}`` objects -> compact JSON text.

    For compatibility a string is accepted too: a JSON array of such objects is checked and
    stored like the list; any other text (what SDKs before the list form sent) is stored as
    it came, cut to :data:`MAX_PREVIEW_CHARS`.
    """
    if value is None:
        return None
    if isinstance(value, list):
        return _check_tool_calls(value)
    if isinstance(value, str):
        if value.lstrip().startswith("["):
            try:
                decoded = json.loads(value)
                if isinstance(decoded, list):
                    return _tool_calls_json(_TOOL_CALLS.validate_python(decoded))
            # not the list form: free text (RecursionError: thousands of nested brackets)
            except (ValueError, ValidationError, RecursionError):
                pass
        return value[: MAX_PREVIEW_CHARS - 1] + "…" if len(value) > MAX_PREVIEW_CHARS else value
    raise ValueError(f"{_TOOL_CALLS_EXPECTED}; got {type(value).__name__}")


ToolCallsSummary = Annotated[
    str | None,
    PlainValidator(
        tool_calls_text,
        json_schema_input_type=Annotated[list[ToolCallSummary], Field(max_length=MAX_TOOL_CALLS)]
        | str
        | None,
    ),
]


class _Base(BaseModel):
    """Fields every event carries."""

    model_config = ConfigDict(
        extra="forbid",
        allow_inf_nan=False,
        str_max_length=100_000,
        frozen=False,
        ser_json_inf_nan="null",
    )

    schema_version: SchemaVersion = Field(
        "1.0",
        description=(
            'The contract version the event was written for: "1.0", or "1.1" (adds the prompt '
            'fields of an inference). Absent: "1.0", or "1.1" for an inference with prompt fields.'
        ),
    )
    request_id: UUID = Field(description="Unique id of this event; UUIDv7 recommended.")
    trace_id: str | None = Field(None, description="W3C trace id: 32 lowercase hex digits.")
    span_id: str | None = Field(None, description="W3C span id: 16 lowercase hex digits.")
    parent_span_id: str | None = None
    conversation_id: OptionalName = None
    session_id: OptionalName = None
    user_id: OptionalName = None
    service: Name = "default"
    metadata: dict[str, Any] = Field(default_factory=dict)

    @field_validator("trace_id")
    @classmethod
    def _trace_id(cls, value: str | None) -> str | None:
        if value is not None and (not _HEX32.match(value) or value == "0" * 32):
            raise ValueError("must be 32 lowercase hex digits, not all zero (W3C trace-context)")
        return value

    @field_validator("span_id", "parent_span_id")
    @classmethod
    def _span_id(cls, value: str | None) -> str | None:
        if value is not None and (not _HEX16.match(value) or value == "0" * 16):
            raise ValueError("must be 16 lowercase hex digits, not all zero (W3C trace-context)")
        return value

    @field_validator("metadata")
    @classmethod
    def _metadata(cls, value: dict[str, Any]) -> dict[str, Any]:
        return check_metadata(value)


class _Timed(_Base):
    """Events with a start and an end: latency must agree with the timestamps."""

    started_at: AwareDatetime
    finished_at: AwareDatetime
    latency_ms: Millis | None = Field(
        None, description="Filled from the timestamps when absent; must agree with them."
    )
    status: Status = "ok"
    error_code: OptionalName = None
    error_message: Message = None

    @field_validator("started_at", "finished_at")
    @classmethod
    def _bounded(cls, value: datetime) -> datetime:
        return check_time(value)

    @model_validator(mode="after")
    def _timing(self) -> _Timed:
        span_ms = (self.finished_at - self.started_at).total_seconds() * 1000
        if span_ms < 0:
            raise ValueError("finished_at must not be before started_at")
        if self.latency_ms is None:
            if span_ms > MAX_MILLIS:  # the derived latency obeys the bound a given one does
                raise ValueError(
                    f"finished_at - started_at = {span_ms:g} ms is longer than a day "
                    f"(latency_ms <= {MAX_MILLIS})"
                )
            self.latency_ms = span_ms
        elif abs(self.latency_ms - span_ms) > LATENCY_TOLERANCE_MS + 0.01 * span_ms:
            raise ValueError(
                f"latency_ms={self.latency_ms:g} disagrees with finished_at - started_at "
                f"= {span_ms:g} ms (tolerance {LATENCY_TOLERANCE_MS:g} ms + 1%)"
            )
        return self


class InferenceEvent(_Timed):
    """One model call."""

    log_type: Literal["inference"] = "inference"
    provider: Name
    model: Name
    ttft_ms: Millis | None = Field(None, description="Time to first token, for streams.")
    stream: bool = False
    prompt_tokens: Tokens = 0
    completion_tokens: Tokens = 0
    total_tokens: Tokens | None = Field(None, description="prompt + completion when absent.")
    cached_prompt_tokens: Tokens = 0
    cost_usd: Annotated[float, Field(ge=0, le=1_000_000)] | None = Field(
        None, description="Filled from the price table at ingest when absent."
    )
    finish_reason: OptionalName = None
    tool_calls_count: Annotated[int, Field(ge=0, le=10_000)] = 0
    tool_calls_summary: ToolCallsSummary = Field(
        None,
        description=(
            'The tool calls the model asked for: a list of {"name", "args_preview"} objects '
            "(at most 128, 16 KiB as JSON), stored as JSON text. A plain string is accepted "
            "for compatibility and stored as it came (cut to 500 characters)."
        ),
        examples=[json.loads(TOOL_CALLS_SUMMARY_EXAMPLE)],
    )
    input_preview: Preview = None
    output_preview: Preview = None
    prompt_name: OptionalName = Field(
        None,
        description=(
            'v1.1: the name of the prompt template the call was made from (e.g. "support-answer").'
        ),
    )
    prompt_version: PromptVersion = Field(
        None,
        description=(
            "v1.1: the version of that template (text, at most 64 characters; an integer "
            'is stored as its decimal text: 3 -> "3").'
        ),
    )
    prompt_hash: str | None = Field(
        None,
        description=(
            "v1.1: the template's hash: the first 16 lowercase hex digits of the SHA-256 "
            "of the template text (UTF-8)."
        ),
        json_schema_extra={"pattern": _HEX16.pattern},
    )

    @field_validator("prompt_hash")
    @classmethod
    def _prompt_hash(cls, value: str | None) -> str | None:
        if value is not None and not _HEX16.match(value):
            raise ValueError(
                "must be 16 lowercase hex digits: the first 16 of the SHA-256 of the template "
                "text (UTF-8)"
            )
        return value

    @model_validator(mode="after")
    def _version(self) -> InferenceEvent:
        """An inference with prompt fields and no ``schema_version`` is read as v1.1."""
        if "schema_version" not in self.model_fields_set and (
            self.prompt_name is not None
            or self.prompt_version is not None
            or self.prompt_hash is not None
        ):
            self.schema_version = "1.1"
        return self

    @model_validator(mode="after")
    def _usage(self) -> InferenceEvent:
        floor = self.prompt_tokens + self.completion_tokens
        if self.total_tokens is None:
            self.total_tokens = floor
        elif self.total_tokens < floor:
            raise ValueError(
                f"total_tokens={self.total_tokens} is less than prompt_tokens + "
                f"completion_tokens = {floor}"
            )
        if self.cached_prompt_tokens > self.prompt_tokens:
            raise ValueError("cached_prompt_tokens must not exceed prompt_tokens")
        latency = self.latency_ms
        if (
            self.ttft_ms is not None
            and latency is not None
            and self.ttft_ms > latency + LATENCY_TOLERANCE_MS
        ):
            raise ValueError("ttft_ms must not exceed latency_ms")
        return self


class ToolExecutionEvent(_Timed):
    """One tool call, linked to the inference that asked for it."""

    log_type: Literal["tool_execution"] = "tool_execution"
    parent_request_id: UUID | None = Field(
        None, description="request_id of the inference that asked for this tool call."
    )
    tool_name: Name
    args_preview: Preview = None
    result_preview: Preview = None


class ApplicationEvent(_Base):
    """One application log record."""

    log_type: Literal["application"] = "application"
    timestamp: AwareDatetime
    level: LogLevel = "INFO"
    logger: Annotated[str, Field(max_length=MAX_NAME_CHARS)] = ""
    message: Annotated[str, _cut(MAX_MESSAGE_CHARS)] = ""
    attributes: dict[str, Any] = Field(default_factory=dict)

    @field_validator("timestamp")
    @classmethod
    def _bounded(cls, value: datetime) -> datetime:
        return check_time(value)

    @field_validator("attributes")
    @classmethod
    def _attributes(cls, value: dict[str, Any]) -> dict[str, Any]:
        return check_metadata(value)

    @field_validator("level", mode="before")
    @classmethod
    def _level(cls, value: Any) -> Any:
        if isinstance(value, str):
            upper = value.upper()
            return {"WARN": "WARNING", "FATAL": "CRITICAL"}.get(upper, upper)
        return value


class ScoreEvent(_Base):
    """Feedback or an evaluation of another event (usually an inference)."""

    log_type: Literal["score"] = "score"
    timestamp: AwareDatetime
    target_request_id: UUID
    name: Name
    value: Annotated[float, Field(ge=-1e12, le=1e12)]
    comment: Message = None
    source: ScoreSource = "user"

    @field_validator("timestamp")
    @classmethod
    def _bounded(cls, value: datetime) -> datetime:
        return check_time(value)

    @field_validator("value")
    @classmethod
    def _finite(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError("must be a finite number")
        return value


Event = Annotated[
    InferenceEvent | ToolExecutionEvent | ApplicationEvent | ScoreEvent,
    Field(discriminator="log_type"),
]


class EventBatch(BaseModel):
    """The body of ``POST /v1/logs`` when it carries several events."""

    model_config = ConfigDict(extra="forbid")
    events: list[Event]


_EVENT = TypeAdapter(Event)


def format_errors(exc: ValidationError, prefix: str = "") -> list[dict[str, str]]:
    """Pydantic errors as ``[{"loc": "latency_ms", "msg": "..."}]``, locations joined."""
    out = []
    for err in exc.errors(include_url=False):
        parts: list[str] = [prefix] if prefix else []
        # drop the discriminator tag pydantic puts first ("inference", ...)
        loc = list(err["loc"])
        if loc and loc[0] in ("inference", "tool_execution", "application", "score"):
            loc = loc[1:]
        for item in loc:
            if isinstance(item, int):
                parts.append(f"[{item}]")
            else:
                parts.append(("." if parts else "") + str(item))
        msg = err["msg"].removeprefix("Value error, ")
        out.append({"loc": "".join(parts) or "(event)", "msg": msg})
    return out


def parse_event(data: Any) -> InferenceEvent | ToolExecutionEvent | ApplicationEvent | ScoreEvent:
    """Validate one event (a dict or JSON text); raise :class:`ContractError` with field paths."""
    try:
        if isinstance(data, str | bytes):
            return _EVENT.validate_json(data)
        return _EVENT.validate_python(data)
    except ValidationError as exc:
        errors = format_errors(exc)
        summary = "; ".join(f"{e['loc']}: {e['msg']}" for e in errors[:5])
        raise ContractError(f"invalid event: {summary}", errors) from None


def event_json_schema() -> dict[str, Any]:
    """The JSON Schema of one event (all four types), as exported to the repo."""
    schema = _EVENT.json_schema(mode="validation")
    schema["$id"] = "https://ollive.dev/schema/events-v1.json"
    schema["title"] = "Ollive event v1"
    return schema
