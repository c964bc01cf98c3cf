"""The ingest Serve application: ``build_app(IngestArgs) -> Application``.

Used by ``ollive ingest`` / ``ollive up`` (embedded default) and by ``serve deploy
serve/config.yaml`` on a cluster, whose ``args`` are the fields of :class:`IngestArgs`.
Settings come from the environment (``OLLIVE_*``) with ``settings`` overrides on top.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from ray.serve import Application

from ollive.config import Settings, get_settings

__all__ = ["IngestArgs", "build_app"]


class IngestArgs(BaseModel):
    """Typed arguments of the ingest app."""

    app_name: str = Field("ingest", description="Prefix of the writer actors' names.")
    redis_url: str | None = Field(
        None, description="Valkey/Redis for dedupe (default OLLIVE_REDIS_URL)."
    )
    warehouse_url: str = Field("ray://warehouse", description="ray://warehouse or clickhouse://...")
    replicas: int | None = Field(
        None, ge=1, description="Fixed replicas (default OLLIVE_INGEST_REPLICAS)."
    )
    autoscaling: dict[str, Any] | None = Field(
        None,
        description="Serve autoscaling_config (min_replicas, max_replicas, target_ongoing_requests).",
    )
    replica_cpus: float = Field(0.5, ge=0, description="CPUs reserved per IngestAPI replica.")
    redaction: bool = Field(
        True, description="Redact PII (Presidio); off only for tests of other parts."
    )
    api_keys: dict[str, str] | None = Field(
        None, description="API key -> project (default: the embedded `ollive-demo` -> `demo`)."
    )
    settings: dict[str, Any] = Field(
        default_factory=dict, description="Settings overrides (field: value)."
    )

    def resolved_settings(self) -> Settings:
        """Settings from the environment with ``settings`` overrides applied."""
        base = get_settings().model_dump()
        base.update(self.settings)
        return Settings.model_validate(base)


def build_app(args: IngestArgs | dict[str, Any]) -> Application:
    """Create (or find) the writer actors and bind the IngestAPI deployment."""
    from serve.args import ReplicaArgs
    from serve.ingest import IngestAPI
    from serve.writers import ensure_writers

    if not isinstance(args, IngestArgs):
        args = IngestArgs.model_validate(args)
    settings = args.resolved_settings()
    redis_url = args.redis_url or settings.redis_url
    writers = ensure_writers(
        args.app_name, settings.writer_shards, settings, args.warehouse_url, redis_url
    )
    options: dict[str, Any] = {"ray_actor_options": {"num_cpus": args.replica_cpus}}
    if args.autoscaling:
        options["autoscaling_config"] = args.autoscaling
    else:
        options["num_replicas"] = args.replicas or settings.ingest_replicas
    deployment = IngestAPI.options(**options)  # type: ignore[attr-defined]
    replica = ReplicaArgs.from_settings(
        settings,
        redis_url=redis_url,
        redaction=args.redaction,
        api_keys=args.api_keys,
        key_store_url=args.warehouse_url,  # stored API keys
    )
    return deployment.bind(replica, writers)
