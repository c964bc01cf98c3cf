"""The platform Settings: every server-side knob (pydantic-settings, env prefix ``OLLIVE_``).

Read once in the wiring (the CLI, the Serve app builder, ``ollive.init``) and passed down as
typed values. Every setting is documented here and in ``docs/configuration.md``
(``ollive config`` prints the effective values).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from ollive.config.defaults import DEMO_API_KEY, DEMO_PROJECT

__all__ = ["DEMO_API_KEY", "DEMO_PROJECT", "Settings", "get_settings"]


class Settings(BaseSettings):
    """Every knob of Ollive. Environment variables are ``OLLIVE_<NAME>`` (case-insensitive)."""

    model_config = SettingsConfigDict(
        env_prefix="OLLIVE_", env_file=None, extra="ignore", validate_default=True
    )

    # --- where things live -------------------------------------------------------------
    home: Path = Field(
        Path("~/.ollive").expanduser(),
        description="State of the embedded platform: warehouse data, spool, run file, logs.",
    )
    warehouse_url: str | None = Field(
        None,
        description="chdb:///path, clickhouse://user:pass@host:8123/db or clickhouses://...; "
        "unset: the running platform's warehouse actor, else chDB under OLLIVE_HOME.",
    )
    ray_address: str | None = Field(
        None, description="Join this Ray cluster instead of starting one."
    )
    redis_url: str | None = Field(
        None, description="Valkey/Redis for dedupe and chat memory; unset: embedded Valkey."
    )

    # --- SDK -----------------------------------------------------------------------------
    endpoint: str = Field("http://127.0.0.1:8000/v1", description="Ingest base URL for the SDK.")
    api_key: str | None = Field(None, description="API key the SDK sends as a Bearer token.")
    service: str = Field("default", description="Service name stamped on every SDK event.")
    sample_rate: float = Field(1.0, ge=0.0, le=1.0, description="Share of traces the SDK keeps.")
    disabled: bool = Field(False, description="OLLIVE_DISABLED=1 turns the SDK into a no-op.")
    max_queue_size: int = Field(
        20_000, ge=1, description="SDK in-memory queue bound in events; overflow goes to disk."
    )
    max_queue_bytes: int = Field(
        64 * 1024 * 1024,
        ge=1_024,
        description="SDK in-memory queue bound in encoded bytes; overflow goes to disk.",
    )
    max_spill_bytes: int = Field(
        1024 * 1024 * 1024,
        ge=0,
        description="SDK disk buffer for a burst past the queue (0: none); past it, drops newest.",
    )
    spill_dir: str | None = Field(
        None, description="SDK disk buffer directory; unset: ~/.cache/ollive/spill."
    )
    max_batch_events: int = Field(500, ge=1, description="SDK batch size in events.")
    max_batch_bytes: int = Field(1_000_000, ge=1_024, description="SDK batch size in JSON bytes.")
    flush_interval_s: float = Field(1.0, gt=0, description="SDK sends a partial batch this old.")
    export_timeout_s: float = Field(10.0, gt=0, description="SDK HTTP timeout per request.")
    max_retries: int = Field(8, ge=0, description="SDK retries on network errors, 429, 5xx.")

    # --- ingest ----------------------------------------------------------------------------
    ingest_host: str = Field("127.0.0.1", description="Serve HTTP host for ingest and chat.")
    ingest_port: int = Field(8000, description="Serve HTTP port for ingest and chat.")
    ingest_replicas: int = Field(1, ge=1, description="IngestAPI replicas (embedded default).")
    writer_shards: int = Field(
        2, ge=1, description="EventWriter actors; hash(request_id) picks one."
    )
    writer_flush_rows: int = Field(20_000, ge=1, description="Writer flushes at this many rows.")
    writer_flush_bytes: int = Field(32_000_000, ge=1, description="...or this many Arrow bytes.")
    writer_flush_age_s: float | None = Field(
        None,
        gt=0,
        description="...or when the oldest row is this old. Default: 2.0 s with "
        "writer_ack=wal (the ack does not wait for the insert, and every insert costs the "
        "warehouse ~25 ms whatever its size), 0.2 s with writer_ack=insert (the ack waits).",
    )
    writer_ack: Literal["wal", "insert"] = Field(
        "wal",
        description="When ingest answers 202: 'wal' once the events are fsync'd to the "
        "writer's write-ahead log (the insert follows within a flush), 'insert' once they are "
        "in the warehouse (docs/hardening.md, What 202 promises).",
    )
    writer_max_inflight_rows: int = Field(
        200_000, ge=1, description="Backpressure: rows a writer holds before ingest answers 429."
    )
    health_report_s: float = Field(
        60.0,
        gt=0,
        description="Writers insert the pipeline's figures into pipeline_stats this often.",
    )
    dedupe_window_s: int = Field(600, ge=1, description="Valkey dedupe window (seconds).")
    dedupe_pending_ttl_s: int = Field(
        30,
        ge=1,
        description="Life of an uncommitted dedupe claim; renewed from the claim until the "
        "writers' marks land, so it bounds how long a dead replica's claims hold a retry off.",
    )
    dedupe_wait_s: float = Field(
        1.0, ge=0, description="Wait for a concurrent claim of the same event before answering 429."
    )
    max_body_bytes: int = Field(
        10_000_000, ge=1, description="Largest accepted request body (413)."
    )
    max_events_per_batch: int = Field(10_000, ge=1, description="Largest accepted batch.")
    prepare_workers: int = Field(
        1,
        ge=1,
        le=64,
        description="Threads per ingest replica that decode, validate and redact bodies, in "
        "arrival order (the work holds the GIL: more threads only interleave requests).",
    )
    redaction_policy_file: Path | None = Field(
        None,
        description="TOML/JSON redaction policies: a default and one per project (docs/redaction.md).",
    )
    redaction_ner_model: str = Field(
        "auto",
        description=(
            "spaCy pipeline for PERSON/LOCATION/NRP (spacy.load name or path): auto = an "
            "installed English model (the [ner] extra), none = patterns only."
        ),
    )
    redaction_reload_s: float = Field(
        5.0, gt=0, description="How often ingest checks the redaction policy file for changes."
    )
    redaction_fail_closed: bool = Field(
        False, description="Reject an event whose redaction failed (else drop its previews)."
    )
    demo_key: bool = Field(
        True, description="Accept the embedded key `ollive-demo` (project `demo`); 0 in production."
    )
    key_refresh_s: float = Field(
        5.0, gt=0, description="Ingest reloads stored API keys this often (revocation delay)."
    )

    # --- storage -----------------------------------------------------------------------------
    ttl_inference_days: int = Field(90, ge=1, description="Retention of inference_logs.")
    ttl_tool_days: int = Field(90, ge=1, description="Retention of tool_executions.")
    ttl_application_days: int = Field(30, ge=1, description="Retention of application_logs.")
    ttl_scores_days: int = Field(90, ge=1, description="Retention of scores.")
    warehouse_timeout_s: float = Field(10.0, gt=0, description="Connect/query timeout for servers.")
    pricing_file: Path | None = Field(
        None, description="YAML/JSON file of price overrides merged over the bundled table."
    )

    # --- apps ----------------------------------------------------------------------------------
    dashboard_port: int = Field(5006, description="Port of `ollive dashboard`.")
    dashboard_auth: str | None = Field(None, description="user:password for the dashboard.")
    chat_model: str = Field(
        "demo", description="demo, or openai:<model> (OPENAI_BASE_URL honoured)."
    )
    alert_webhook_url: str | None = Field(
        None,
        description="Slack-compatible webhook for alerts; unset: firings go to OLLIVE_HOME/alerts.log.",
    )
    alert_rules_file: Path | None = Field(
        None, description="Alert rules (TOML/YAML/JSON); unset: defaults."
    )
    alert_interval_s: float = Field(60.0, gt=0, description="How often the alert evaluator runs.")
    evaluations_file: Path | None = Field(
        None,
        description="Online-evaluation rules (evaluations.toml, docs/evaluate.md); unset: "
        "OLLIVE_HOME/evaluations.toml when it exists (`ollive demo` uses a demo file).",
    )
    evaluation_interval_s: float = Field(
        10.0, gt=0, description="How often the online evaluator looks for new events."
    )
    chat_replicas: int = Field(1, ge=1, description="Chatbot replicas on Serve.")
    chat_service: str = Field(
        "demo-chatbot", description="Service name of the chatbot's own events."
    )
    chat_seed: int = Field(0, description="Seed of the demo model (same seed, same answers).")
    chat_latency_scale: float = Field(
        1.0, ge=0, description="Multiplies the demo model's simulated latency (0 = instant)."
    )
    chat_error_rate: float = Field(
        0.02, ge=0, le=1, description="Demo model: share of calls that fail."
    )
    chat_timeout_rate: float = Field(
        0.01, ge=0, le=1, description="Demo model: share that time out."
    )
    chat_history_ttl_s: int = Field(86_400, ge=1, description="Chat memory TTL in Valkey/Redis.")

    @property
    def data_dir(self) -> Path:
        """The embedded chDB warehouse directory."""
        return self.home / "warehouse"

    @property
    def spool_dir(self) -> Path:
        """Dead-letter directory for batches the warehouse refused."""
        return self.home / "spool"

    @property
    def evaluations_path(self) -> Path | None:
        """The online-evaluation rules to run: OLLIVE_EVALUATIONS_FILE, else
        OLLIVE_HOME/evaluations.toml when it exists, else none."""
        if self.evaluations_file is not None:
            return self.evaluations_file
        default = self.home / "evaluations.toml"
        return default if default.exists() else None

    @property
    def run_file(self) -> Path:
        """Written by ``ollive up``: the Ray address and the URLs of what it started."""
        return self.home / "run.json"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings from the environment, read once per process (wiring only)."""
    return Settings()
