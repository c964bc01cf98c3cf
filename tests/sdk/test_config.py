"""The SDK's own settings (ollive.config.sdk): None means "from the environment", 0 means 0."""

from __future__ import annotations

import dataclasses

import pytest

import ollive
from ollive.config.sdk import SdkConfig, resolve_sdk_config
from ollive.errors import ConfigError
from tests.sdk.conftest import IngestServer

SDK_FIELDS = [f.name for f in dataclasses.fields(SdkConfig)]


def test_defaults_and_variables_are_those_of_the_platform_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ollive.config.platform import Settings

    for name in SDK_FIELDS:
        monkeypatch.delenv(f"OLLIVE_{name.upper()}", raising=False)
    defaults = resolve_sdk_config()
    for name in SDK_FIELDS:
        assert getattr(defaults, name) == Settings.model_fields[name].default, name


def test_each_setting_reads_its_own_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    values = {
        "endpoint": "https://ingest.example/v1",
        "api_key": "k-1",
        "service": "svc",
        "sample_rate": "0.25",
        "disabled": "yes",
        "max_queue_size": "7",
        "max_batch_events": "3",
        "max_batch_bytes": "2048",
        "flush_interval_s": "0.5",
        "export_timeout_s": "2",
        "max_retries": "0",
        "max_queue_bytes": "4096",
        "max_spill_bytes": "0",
        "spill_dir": "/var/tmp/spill",
    }
    for name, value in values.items():
        monkeypatch.setenv(f"OLLIVE_{name.upper()}", value)
    config = resolve_sdk_config()
    assert config == SdkConfig(
        "https://ingest.example/v1", "k-1", "svc", 0.25, True, 7, 3, 2048, 0.5, 2.0, 0,
        4096, 0, "/var/tmp/spill",
    )  # fmt: skip


def test_a_passed_zero_is_zero_not_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLLIVE_MAX_RETRIES", "5")
    monkeypatch.setenv("OLLIVE_SAMPLE_RATE", "0.5")
    monkeypatch.setenv("OLLIVE_DISABLED", "1")
    config = resolve_sdk_config(max_retries=0, sample_rate=0.0, disabled=False, api_key="")
    assert (config.max_retries, config.sample_rate, config.disabled, config.api_key) == (
        0,
        0.0,
        False,
        "",
    )


def test_settings_object_fills_what_was_not_passed(monkeypatch: pytest.MonkeyPatch) -> None:
    from ollive.config.platform import Settings

    monkeypatch.setenv("OLLIVE_SERVICE", "from-env")
    settings = Settings(service="from-settings", max_retries=2)  # type: ignore[call-arg]
    monkeypatch.setenv("OLLIVE_SERVICE", "changed-later")
    config = resolve_sdk_config(max_retries=0, settings=settings)
    assert (config.service, config.max_retries) == ("from-settings", 0)


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("OLLIVE_SAMPLE_RATE", "lots", "OLLIVE_SAMPLE_RATE='lots' is not a number"),
        ("OLLIVE_SAMPLE_RATE", "1.5", "between 0 and 1"),
        ("OLLIVE_MAX_RETRIES", "-1", "max_retries .* >= 0"),
        ("OLLIVE_MAX_QUEUE_SIZE", "many", "is not an integer"),
        ("OLLIVE_DISABLED", "maybe", "is not a boolean"),
        ("OLLIVE_FLUSH_INTERVAL_S", "0", "flush_interval_s .* > 0"),
        ("OLLIVE_ENDPOINT", "ingest:8000", "http:// or https://"),
    ],
)
def test_a_bad_variable_is_a_clear_config_error(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError, match=message):
        ollive.init()
    assert not ollive.sdk.is_enabled()


def test_a_bad_argument_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="max_queue_size"):
        resolve_sdk_config(max_queue_size=0)
    with pytest.raises(ValueError, match="max_batch_bytes"):  # ConfigError is a ValueError
        resolve_sdk_config(max_batch_bytes=10)


def test_variable_names_match_case_insensitively(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OLLIVE_SERVICE", raising=False)
    monkeypatch.setenv("ollive_service", "lower")
    assert resolve_sdk_config().service == "lower"


def test_init_max_retries_zero_tries_once(ingest: IngestServer) -> None:
    ingest.answers = [503, 503]
    ollive.init(endpoint=ingest.endpoint, max_retries=0, flush_interval_s=0.05)
    with ollive.inference("openai", "m"):
        pass
    assert ollive.flush(10)
    stats = ollive.stats()
    assert ingest.requests == 1
    assert (stats["failed"], stats["retried"], stats["sent"]) == (1, 0, 0)


def test_init_sample_rate_zero_keeps_nothing_even_if_the_environment_says_one(
    monkeypatch: pytest.MonkeyPatch, ingest: IngestServer
) -> None:
    monkeypatch.setenv("OLLIVE_SAMPLE_RATE", "1")
    ollive.init(endpoint=ingest.endpoint, sample_rate=0.0)
    for _ in range(50):
        with ollive.inference("openai", "m"):
            pass
    assert ollive.stats()["enqueued"] == 0


def test_the_sdk_does_not_import_the_platform_settings() -> None:
    import subprocess
    import sys

    code = (
        "import sys, ollive\n"
        "ollive.init(disabled=True)\n"
        "print(sorted({'ollive.config.platform', 'pydantic_settings'} & set(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
