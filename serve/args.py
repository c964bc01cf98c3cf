"""Typed arguments of the Ray actors and deployments: each gets the values it needs.

The wiring reads :class:`~ollive.config.Settings` once and builds these with
``from_settings``; Ray pickles them to the actor (no JSON string of every setting).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from ollive.config import Settings

__all__ = ["ReplicaArgs", "WarehouseArgs", "WriterArgs"]


class WarehouseArgs(BaseModel):
    """The warehouse actor: which engine, and the TTLs its migrations write into the DDL."""

    url: str = Field(description="chdb:///path (the actor holds the directory).")
    ttl_inference_days: int = 90
    ttl_tool_days: int = 90
    ttl_application_days: int = 30
    ttl_scores_days: int = 90
    release_memory_s: float = Field(
        60.0, description="Hand allocator-kept pages back to the OS this often (0: never)."
    )

    @classmethod
    def from_settings(cls, settings: Settings, url: str) -> WarehouseArgs:
        return cls(
            url=url,
            ttl_inference_days=settings.ttl_inference_days,
            ttl_tool_days=settings.ttl_tool_days,
            ttl_application_days=settings.ttl_application_days,
            ttl_scores_days=settings.ttl_scores_days,
        )


FLUSH_AGE_S = {"wal": 2.0, "insert": 0.2}
"""Default flush age per ack mode: with a write-ahead ack a longer age costs no ack latency,
and fewer, larger inserts cost the warehouse far less per row (docs/insights.md)."""


def flush_age_for(configured: float | None, ack: str) -> float:
    """The writer's flush age: the configured one, else the default of the ack mode."""
    return configured if configured is not None else FLUSH_AGE_S[ack]


class WriterArgs(BaseModel):
    """One EventWriter shard: where to insert, where to spool, when to flush."""

    warehouse_url: str = Field(description="ray://warehouse or clickhouse://...")
    redis_url: str | None = Field(None, description="Valkey/Redis for commit marks.")
    spool_dir: Path
    flush_rows: int = 20_000
    flush_bytes: int = 32_000_000
    flush_age_s: float = 2.0
    ack: Literal["wal", "insert"] = "wal"
    max_inflight_rows: int = 200_000
    dedupe_window_s: int = 600
    warehouse_timeout_s: float = 10.0
    health_report_s: float = 60.0

    @classmethod
    def from_settings(
        cls, settings: Settings, warehouse_url: str, redis_url: str | None
    ) -> WriterArgs:
        return cls(
            warehouse_url=warehouse_url,
            redis_url=redis_url,
            spool_dir=settings.spool_dir,
            flush_rows=settings.writer_flush_rows,
            flush_bytes=settings.writer_flush_bytes,
            flush_age_s=flush_age_for(settings.writer_flush_age_s, settings.writer_ack),
            ack=settings.writer_ack,
            max_inflight_rows=settings.writer_max_inflight_rows,
            dedupe_window_s=settings.dedupe_window_s,
            health_report_s=settings.health_report_s,
            warehouse_timeout_s=settings.warehouse_timeout_s,
        )


class ReplicaArgs(BaseModel):
    """One IngestAPI replica: body limits, redaction, dedupe and keys."""

    redis_url: str | None = None
    redaction: bool = True
    redaction_policy_file: Path | None = None
    redaction_ner_model: str = "auto"
    redaction_reload_s: float = 5.0
    redaction_fail_closed: bool = False
    max_body_bytes: int = 10_000_000
    max_events_per_batch: int = 10_000
    prepare_workers: int = 1
    dedupe_window_s: int = 600
    dedupe_pending_ttl_s: int = 30
    dedupe_wait_s: float = 1.0
    demo_key: bool = True
    api_keys: dict[str, str] | None = Field(
        None, description="API key -> project (None: the demo key when demo_key)."
    )
    key_store_url: str | None = Field(None, description="Warehouse holding stored keys.")
    key_refresh_s: float = 5.0
    warehouse_timeout_s: float = 10.0
    health_report_s: float = 60.0

    @classmethod
    def from_settings(cls, settings: Settings, **values: Any) -> ReplicaArgs:
        fields = {
            name: getattr(settings, name)
            for name in cls.model_fields
            if hasattr(settings, name) and name not in values
        }
        return cls(**fields, **values)
