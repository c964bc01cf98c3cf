"""The SDK's own settings, read from ``OLLIVE_*`` with the stdlib only (``import ollive`` stays light).

Shaped like OpenTelemetry's ``BatchSpanProcessor.__init__``: each argument left ``None``
becomes ``_default_x()``, which reads its own environment variable and falls back to a
``_DEFAULT_X`` constant; a value that was passed is used as is (``0`` means 0); then one
:func:`_validate_arguments` raises :class:`~ollive.errors.ConfigError` with a message that
names the setting and the accepted values.

The variable names and defaults are those of :class:`ollive.config.platform.Settings`
(which lists them for ``ollive config`` and ``docs/configuration.md``). Names are matched
case-insensitively, as pydantic-settings does; an empty variable counts as unset.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar, cast

from ollive.errors import ConfigError

__all__ = ["SdkConfig", "SdkSettings", "resolve_sdk_config"]

T = TypeVar("T")

_DEFAULT_ENDPOINT = "http://127.0.0.1:8000/v1"
_DEFAULT_API_KEY: str | None = None
_DEFAULT_SERVICE = "default"
_DEFAULT_SAMPLE_RATE = 1.0
_DEFAULT_DISABLED = False
_DEFAULT_MAX_QUEUE_SIZE = 20_000
_DEFAULT_MAX_BATCH_EVENTS = 500
_DEFAULT_MAX_BATCH_BYTES = 1_000_000
_DEFAULT_FLUSH_INTERVAL_S = 1.0
_DEFAULT_EXPORT_TIMEOUT_S = 10.0
_DEFAULT_MAX_RETRIES = 8
_DEFAULT_MAX_QUEUE_BYTES = 64 * 1024 * 1024
_DEFAULT_MAX_SPILL_BYTES = 1024 * 1024 * 1024
_DEFAULT_SPILL_DIR: str | None = None

_TRUE = frozenset({"1", "true", "t", "yes", "y", "on"})
_FALSE = frozenset({"0", "false", "f", "no", "n", "off"})
_MIN_BATCH_BYTES = 1_024


@dataclass(frozen=True, slots=True)
class SdkConfig:
    """The SDK's resolved settings, validated (what ``ollive.init`` builds its parts from)."""

    endpoint: str
    api_key: str | None
    service: str
    sample_rate: float
    disabled: bool
    max_queue_size: int
    max_batch_events: int
    max_batch_bytes: int
    flush_interval_s: float
    export_timeout_s: float
    max_retries: int
    max_queue_bytes: int
    max_spill_bytes: int
    spill_dir: str | None


class SdkSettings(Protocol):
    """Anything with the SDK's fields (the platform ``Settings`` has them), for ``settings=``."""

    endpoint: str
    api_key: str | None
    service: str
    sample_rate: float
    disabled: bool
    max_queue_size: int
    max_batch_events: int
    max_batch_bytes: int
    flush_interval_s: float
    export_timeout_s: float
    max_retries: int
    max_queue_bytes: int
    max_spill_bytes: int
    spill_dir: str | None


# --- reading one variable --------------------------------------------------------------------
def _env(name: str) -> str | None:
    """``os.environ[name]``, matched case-insensitively; ``None`` when unset or empty."""
    value = os.environ.get(name)
    if value is None:
        upper = name.upper()
        value = next((v for k, v in os.environ.items() if k.upper() == upper), None)
    return value if value else None


def _env_float(name: str, default: float) -> float:
    raw = _env(name)
    if raw is None:
        return default
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number") from None


def _env_int(name: str, default: int) -> int:
    raw = _env(name)
    if raw is None:
        return default
    try:
        return int(raw.strip().replace("_", ""))
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not an integer") from None


def _env_bool(name: str, default: bool) -> bool:
    raw = _env(name)
    if raw is None:
        return default
    text = raw.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ConfigError(f"{name}={raw!r} is not a boolean (use 1/0, true/false, yes/no, on/off)")


# --- one default per setting -----------------------------------------------------------------
def _default_endpoint() -> str:
    return _env("OLLIVE_ENDPOINT") or _DEFAULT_ENDPOINT


def _default_api_key() -> str | None:
    return _env("OLLIVE_API_KEY") or _DEFAULT_API_KEY


def _default_service() -> str:
    return _env("OLLIVE_SERVICE") or _DEFAULT_SERVICE


def _default_sample_rate() -> float:
    return _env_float("OLLIVE_SAMPLE_RATE", _DEFAULT_SAMPLE_RATE)


def _default_disabled() -> bool:
    return _env_bool("OLLIVE_DISABLED", _DEFAULT_DISABLED)


def _default_max_queue_size() -> int:
    return _env_int("OLLIVE_MAX_QUEUE_SIZE", _DEFAULT_MAX_QUEUE_SIZE)


def _default_max_batch_events() -> int:
    return _env_int("OLLIVE_MAX_BATCH_EVENTS", _DEFAULT_MAX_BATCH_EVENTS)


def _default_max_batch_bytes() -> int:
    return _env_int("OLLIVE_MAX_BATCH_BYTES", _DEFAULT_MAX_BATCH_BYTES)


def _default_flush_interval_s() -> float:
    return _env_float("OLLIVE_FLUSH_INTERVAL_S", _DEFAULT_FLUSH_INTERVAL_S)


def _default_export_timeout_s() -> float:
    return _env_float("OLLIVE_EXPORT_TIMEOUT_S", _DEFAULT_EXPORT_TIMEOUT_S)


def _default_max_retries() -> int:
    return _env_int("OLLIVE_MAX_RETRIES", _DEFAULT_MAX_RETRIES)


def _default_max_queue_bytes() -> int:
    return _env_int("OLLIVE_MAX_QUEUE_BYTES", _DEFAULT_MAX_QUEUE_BYTES)


def _default_max_spill_bytes() -> int:
    return _env_int("OLLIVE_MAX_SPILL_BYTES", _DEFAULT_MAX_SPILL_BYTES)


def _default_spill_dir() -> str | None:
    return _env("OLLIVE_SPILL_DIR") or _DEFAULT_SPILL_DIR


# --- resolve and validate --------------------------------------------------------------------
def resolve_sdk_config(
    endpoint: str | None = None,
    api_key: str | None = None,
    service: str | None = None,
    sample_rate: float | None = None,
    *,
    disabled: bool | None = None,
    max_queue_size: int | None = None,
    max_batch_events: int | None = None,
    max_batch_bytes: int | None = None,
    flush_interval_s: float | None = None,
    export_timeout_s: float | None = None,
    max_retries: int | None = None,
    max_queue_bytes: int | None = None,
    max_spill_bytes: int | None = None,
    spill_dir: str | None = None,
    settings: SdkSettings | None = None,
) -> SdkConfig:
    """The SDK's settings: each argument as passed, else ``settings``' field, else the
    environment, else the default. Raises :class:`~ollive.errors.ConfigError`."""
    s = settings
    config = SdkConfig(
        endpoint=_pick(endpoint, s, "endpoint", _default_endpoint),
        api_key=_pick_optional(api_key, s, "api_key", _default_api_key),
        service=_pick(service, s, "service", _default_service),
        sample_rate=_pick(sample_rate, s, "sample_rate", _default_sample_rate),
        disabled=_pick(disabled, s, "disabled", _default_disabled),
        max_queue_size=_pick(max_queue_size, s, "max_queue_size", _default_max_queue_size),
        max_batch_events=_pick(max_batch_events, s, "max_batch_events", _default_max_batch_events),
        max_batch_bytes=_pick(max_batch_bytes, s, "max_batch_bytes", _default_max_batch_bytes),
        flush_interval_s=_pick(flush_interval_s, s, "flush_interval_s", _default_flush_interval_s),
        export_timeout_s=_pick(export_timeout_s, s, "export_timeout_s", _default_export_timeout_s),
        max_retries=_pick(max_retries, s, "max_retries", _default_max_retries),
        max_queue_bytes=_pick(max_queue_bytes, s, "max_queue_bytes", _default_max_queue_bytes),
        max_spill_bytes=_pick(max_spill_bytes, s, "max_spill_bytes", _default_max_spill_bytes),
        spill_dir=_pick_optional(spill_dir, s, "spill_dir", _default_spill_dir),
    )
    return _validate_arguments(config)


def _pick(value: T | None, settings: SdkSettings | None, name: str, default: Callable[[], T]) -> T:
    """``value`` when passed (``0`` included), else ``settings.<name>``, else ``default()``."""
    if value is not None:
        return value
    if settings is not None:
        return cast(T, getattr(settings, name))
    return default()


def _pick_optional(
    value: str | None, settings: SdkSettings | None, name: str, default: Callable[[], str | None]
) -> str | None:
    """:func:`_pick` for a setting whose value may be ``None`` (the API key, the spill dir)."""
    if value is not None:
        return value
    return cast(str | None, getattr(settings, name)) if settings is not None else default()


def _validate_arguments(config: SdkConfig) -> SdkConfig:
    """``config`` when every value is in range; else a ConfigError naming the first one that is not."""
    if not config.endpoint.startswith(("http://", "https://")):
        raise ConfigError(
            f"endpoint (OLLIVE_ENDPOINT) must be an http:// or https:// URL, got {config.endpoint!r}"
        )
    if not config.service:
        raise ConfigError("service (OLLIVE_SERVICE) must not be empty")
    if not 0.0 <= config.sample_rate <= 1.0:
        raise ConfigError(
            f"sample_rate (OLLIVE_SAMPLE_RATE) must be between 0 and 1, got {config.sample_rate}"
        )
    _at_least("max_queue_size", config.max_queue_size, 1)
    _at_least("max_batch_events", config.max_batch_events, 1)
    _at_least("max_batch_bytes", config.max_batch_bytes, _MIN_BATCH_BYTES)
    _at_least("max_retries", config.max_retries, 0)
    _at_least("max_queue_bytes", config.max_queue_bytes, _MIN_BATCH_BYTES)
    _at_least("max_spill_bytes", config.max_spill_bytes, 0)
    _positive("flush_interval_s", config.flush_interval_s)
    _positive("export_timeout_s", config.export_timeout_s)
    return config


def _at_least(name: str, value: int, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < low:
        raise ConfigError(
            f"{name} (OLLIVE_{name.upper()}) must be an integer >= {low}, got {value!r}"
        )


def _positive(name: str, value: float) -> None:
    if not isinstance(value, int | float) or not value > 0:
        raise ConfigError(f"{name} (OLLIVE_{name.upper()}) must be a number > 0, got {value!r}")
