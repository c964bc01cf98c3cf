"""EventWriter actors: the group-commit writers of ingest, sharded by hash(request_id).

Each is a named, detached async Ray actor (``<app>-writer-<i>`` in namespace ``ollive``)
holding a :class:`~ollive.store.writer.GroupCommitWriter` over its own spool directory
(``<spool_dir>/<app>-writer-<i>``). It restarts after a crash (``max_restarts=-1``) and, on
start, replays its spool and remembers what it had stored. Inserts go to the warehouse actor
(``ray://warehouse``) or a ClickHouse server (``clickhouse://``); once rows are durable, the
writer marks them committed in Valkey (dedupe).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from typing import Any

import pyarrow as pa
import ray

from ollive.config import Settings
from ollive.errors import ConfigError, StorageError, WarehouseUnavailableError
from ollive.ingest import Deduper
from ollive.store import FlushPolicy, GroupCommitWriter, RetryPolicy, Spool
from ollive.store.actor import NAMESPACE, WAREHOUSE_ACTOR
from ollive.store.pipeline_stats import PipelineReport
from serve.args import WriterArgs

__all__ = ["EventWriter", "ensure_writers", "writer_names"]

log = logging.getLogger(__name__)


def writer_names(app_name: str, shards: int) -> list[str]:
    """The actor names of an app's writers, shard order."""
    return [f"{app_name}-writer-{i}" for i in range(shards)]


class _Sink:
    """Inserts into the warehouse actor (re-resolved after it dies) or a ClickHouse server."""

    def __init__(self, url: str, timeout_s: float) -> None:
        self._url = url
        self._timeout_s = timeout_s
        self._handle: Any = None
        self._server: Any = None
        if url.startswith("chdb"):
            raise ConfigError(
                "writers cannot open chDB directly; use ray://warehouse (the warehouse actor)"
            )

    async def insert(self, table: str, data: pa.Table, token: str, verify: bool = False) -> None:
        """Insert with ``token``; ``verify`` when the token was sent before (see
        :meth:`ollive.store.base.Warehouse.insert_arrow`)."""
        if not self._url.startswith("ray://"):
            if self._server is None:
                from ollive.store import open_warehouse

                self._server = await asyncio.to_thread(
                    lambda: open_warehouse(self._url, migrate=False, timeout_s=self._timeout_s)
                )
            await asyncio.to_thread(
                lambda: self._server.insert_arrow(table, data, token, verify=verify)
            )
            return
        try:
            if self._handle is None:
                self._handle = ray.get_actor(
                    self._url.removeprefix("ray://") or WAREHOUSE_ACTOR, namespace=NAMESPACE
                )
            await self._handle.insert_arrow.remote(table, data, token, verify)
        except ValueError as exc:
            raise WarehouseUnavailableError(f"no warehouse actor: {exc}") from exc
        except (ray.exceptions.RayActorError, ray.exceptions.ActorUnavailableError) as exc:
            self._handle = None
            raise WarehouseUnavailableError(
                f"warehouse actor unavailable: {type(exc).__name__}"
            ) from exc
        except ray.exceptions.RayTaskError as exc:
            raise StorageError(f"warehouse insert failed: {exc.as_instanceof_cause()}") from exc


@ray.remote(num_cpus=0, max_restarts=-1, max_task_retries=0, max_concurrency=1000)
class EventWriter:
    """One writer shard (see the module docstring)."""

    def __init__(self, name: str, args: WriterArgs) -> None:
        self._name = name
        self._sink = _Sink(args.warehouse_url, args.warehouse_timeout_s)
        self._deduper: Deduper | None = None
        if args.redis_url:
            from ollive.cache.client import async_redis

            client = async_redis(args.redis_url, socket_connect_timeout=0.5, socket_timeout=2.0)
            self._deduper = Deduper(client, window_s=args.dedupe_window_s)
        self._writer = GroupCommitWriter(
            self._sink.insert,
            Spool(args.spool_dir / name),
            flush=FlushPolicy(args.flush_rows, args.flush_bytes, args.flush_age_s),
            retry=RetryPolicy(),
            max_inflight_rows=args.max_inflight_rows,
            on_durable=self._mark_committed,
            ack=args.ack,
            reinsert=functools.partial(self._sink.insert, verify=True),
        )
        self._started: asyncio.Task[None] | None = None
        self._report = PipelineReport(name)
        self._report_s = args.health_report_s
        self._reporter: asyncio.Task[None] | None = None

    async def _ensure_started(self) -> None:
        if self._started is None:
            self._started = asyncio.ensure_future(self._writer.start())
        await self._started
        if self._reporter is None:
            self._reporter = asyncio.ensure_future(self._report_loop())

    async def note_ingest(self, instance: str, counts: dict[str, int]) -> bool:
        """An ingest replica's counts since its last note, for the next health report."""
        self._report.note(instance, counts)
        return True

    async def report_health(self) -> int:
        """Insert the pipeline's figures into ``pipeline_stats`` now; returns rows written
        (0 when the insert failed: the counts go out with the next report)."""
        now_ms = int(time.time() * 1000)
        table = self._report.rows(now_ms, self._writer.stats, await self._gauges())
        try:
            await self._sink.insert("pipeline_stats", table, f"health-{self._name}-{now_ms}")
        except Exception as exc:  # the warehouse may be down: keep the counts for next time
            log.warning("pipeline health report not stored (%s); kept for the next one", exc)
            self._report.restore(table)
            return 0
        return table.num_rows

    async def _gauges(self) -> dict[str, int]:
        """Rows waiting for their commit, and the dead-letter queue's flushes and bytes."""
        files, size = await asyncio.to_thread(self._writer.spool_depth)
        return {"inflight_rows": self._writer.inflight_rows, "spool_files": files,
                "spool_bytes": size}  # fmt: skip

    async def _report_loop(self) -> None:
        while True:
            await asyncio.sleep(self._report_s)
            await self.report_health()

    async def ready(self) -> bool:
        """Start (replaying the spool) and answer True."""
        await self._ensure_started()
        return True

    async def write(self, tables: dict[str, pa.Table]) -> dict[str, int]:
        """Buffer and group-commit; returns ``{"committed", "spooled", "recovered"}`` rows."""
        await self._ensure_started()
        receipt = await self._writer.write(tables)
        return {
            "committed": receipt.committed,
            "spooled": receipt.spooled,
            "recovered": receipt.recovered,
            "logged": receipt.logged,
        }

    async def _mark_committed(self, table: str, data: pa.Table) -> None:
        if self._deduper is None:
            return
        pairs = list(
            zip(
                data.column("project").to_pylist(),
                data.column("request_id").to_pylist(),
                strict=True,
            )
        )
        await self._deduper.commit(pairs)

    async def replay(self) -> int:
        """Replay the dead-letter queue now; returns rows replayed."""
        await self._ensure_started()
        return await self._writer.replay()

    async def stats(self) -> dict[str, Any]:
        """Figures for /metrics and /readyz."""
        await self._ensure_started()
        return {
            "writer": self._name,
            **await self._gauges(),
            "commit_buckets": self._writer.latency_buckets(),
            "commit_seconds_sum": self._writer.commit_latency_sum_s,
            **self._writer.stats,
        }

    async def drain(self) -> bool:
        """Flush every buffer, report the pipeline's figures and wait (before shutdown)."""
        await self._writer.close()
        if self._reporter is not None:
            self._reporter.cancel()
            await self.report_health()
        return True


def ensure_writers(
    app_name: str, shards: int, settings: Settings, warehouse_url: str, redis_url: str | None
) -> list[Any]:
    """The app's writer actors, created (detached) when missing; does not wait for them."""
    args = WriterArgs.from_settings(settings, warehouse_url, redis_url)
    handles = []
    for name in writer_names(app_name, shards):
        handles.append(
            EventWriter.options(  # type: ignore[attr-defined]
                name=name, namespace=NAMESPACE, lifetime="detached", get_if_exists=True
            ).remote(name, args)
        )
    return handles
