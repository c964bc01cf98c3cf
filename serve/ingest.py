"""IngestAPI: the ``/v1`` ingest contract on Ray Serve (FastAPI ingress).

``POST /v1/logs`` validates, prices and redacts a body (:class:`~ollive.ingest.IngestPipeline`),
claims its events in Valkey (:class:`~ollive.ingest.Deduper`), shards them by request_id
to the EventWriter actors and answers ``202`` only once every accepted event is committed
to the warehouse or durably spooled. ``GET /healthz``, ``GET /readyz`` (names the degraded
dependency), ``GET /metrics`` (Prometheus text), OpenAPI at ``/docs``.
"""

import asyncio
import functools
import logging
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import ray
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel, Field
from ray import serve

from ollive.errors import (
    MediaTypeError,
    OlliveError,
    PayloadTooLargeError,
)
from ollive.events import event_json_schema
from ollive.ingest import (
    Deduper,
    IngestMetrics,
    IngestPipeline,
    KeyRing,
    PreparedBatch,
    store_batch,
)
from ollive.ingest.errors import answer_for
from serve.args import ReplicaArgs
from serve.traces import TRACES_BODY_DOC as _TRACES_BODY_DOC  # POST /v1/traces

__all__ = ["IngestAPI", "IngestResponse", "api"]

log = logging.getLogger(__name__)
T = TypeVar("T")
_WRITE_ATTEMPTS = 5


class RejectedEvent(BaseModel):
    index: int = Field(
        description="Position of the event in the body's `events` (0 for a single event)."
    )
    errors: list[dict[str, str]] = Field(
        description='`[{"loc": "events[3].latency_ms", "msg": "..."}]`'
    )


class IngestResponse(BaseModel):
    """The 202 answer: every accepted event is durable (committed or spooled)."""

    accepted: int
    duplicates: int
    rejected: list[RejectedEvent]


api = FastAPI(
    title="Ollive ingest",
    version="1",
    description="Wire contract v1: POST one event or {'events': [...]} with `Authorization: Bearer <key>`.",
)
_BODY_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        {"$ref": "#/components/schemas/OlliveEvent"},
                        {
                            "type": "object",
                            "properties": {
                                "events": {
                                    "type": "array",
                                    "items": {"$ref": "#/components/schemas/OlliveEvent"},
                                }
                            },
                            "required": ["events"],
                        },
                    ]
                }
            }
        },
    }
}


def _openapi() -> dict[str, Any]:
    from fastapi.openapi.utils import get_openapi

    if api.openapi_schema is None:
        schema = get_openapi(
            title=api.title, version=api.version, description=api.description, routes=api.routes
        )
        event = event_json_schema()
        defs = event.pop("$defs", {})
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.update(defs)
        components["OlliveEvent"] = event
        api.openapi_schema = _rewrite_refs(schema)
    return api.openapi_schema


def _rewrite_refs(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            k: (v.replace("#/$defs/", "#/components/schemas/") if k == "$ref" else _rewrite_refs(v))
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_rewrite_refs(v) for v in node]
    return node


api.openapi = _openapi  # type: ignore[method-assign]


def _error_response(exc: OlliveError) -> JSONResponse:
    """The one place an error becomes an HTTP answer (the table of :mod:`ollive.ingest.errors`)."""
    answer = answer_for(exc)
    return JSONResponse(
        {"detail": answer.detail}, status_code=answer.status, headers=answer.headers
    )


async def _handle_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, OlliveError)
    return _error_response(exc)


api.add_exception_handler(OlliveError, _handle_error)


def _build_redactor(args: ReplicaArgs) -> Any:
    from ollive.redact import Redactor

    return Redactor(
        policy_file=args.redaction_policy_file,
        ner_model=args.redaction_ner_model,
        reload_s=args.redaction_reload_s,
    )


# --- API keys: static keys + keys stored in the warehouse, refreshed -----------
def _key_ring(args: ReplicaArgs) -> KeyRing:
    """The replica's key ring; with a key store, stored keys reload every ``key_refresh_s``."""
    from ollive.config import DEMO_API_KEY, DEMO_PROJECT

    url = args.key_store_url
    static = args.api_keys if args.api_keys is not None else {}
    if args.api_keys is None and args.demo_key:
        static = {DEMO_API_KEY: DEMO_PROJECT}
    if not url:
        return KeyRing(static)
    from ollive.ingest.keystore import StoredKeyRing
    from ollive.store import open_warehouse

    return StoredKeyRing(
        lambda: open_warehouse(url, migrate=False, timeout_s=args.warehouse_timeout_s),
        static,
        args.key_refresh_s,
    ).start()


# graceful_shutdown_wait_loop_s: how often a stopping replica looks for requests still in
# flight (Serve's default, 2 s, made every `ollive down` wait ~2 s per app with none left)
@serve.deployment(
    ray_actor_options={"num_cpus": 0.5},
    max_ongoing_requests=32,
    health_check_period_s=5,
    graceful_shutdown_wait_loop_s=0.25,
)
@serve.ingress(api)
class IngestAPI:
    """One replica: pipeline, dedupe and the writer handles (see the module docstring)."""

    def __init__(self, args: ReplicaArgs, writers: list[Any]) -> None:
        self._writers = writers
        # Bodies are prepared in arrival order by a small pool: the work holds the GIL, so
        # with one thread per request (asyncio.to_thread) every body in flight shares the CPU
        # and each one's answer waits for all of them; first come, first served keeps the
        # queueing time of a body to the bodies ahead of it.
        self._prepare = ThreadPoolExecutor(args.prepare_workers, thread_name_prefix="prepare")
        self._pipeline = IngestPipeline(
            _build_redactor(args) if args.redaction else None,
            max_body_bytes=args.max_body_bytes,
            max_events=args.max_events_per_batch,
            fail_closed=args.redaction_fail_closed,
        )
        client = None
        if args.redis_url:
            from ollive.cache.client import async_redis

            client = async_redis(args.redis_url, socket_connect_timeout=0.5, socket_timeout=2.0)
        self._deduper = Deduper(
            client, args.dedupe_window_s, args.dedupe_pending_ttl_s, args.dedupe_wait_s
        )
        self._keys = _key_ring(args)
        self._metrics = IngestMetrics()
        # counts for the pipeline_stats health report, handed to a writer periodically
        self._health: Counter[str] = Counter()
        self._health_s = args.health_report_s
        self._health_task: asyncio.Task[None] | None = None
        self._instance = f"ingest-{uuid.uuid4().hex[:8]}"

    async def _in_order(self, fn: Callable[..., T], *args: Any) -> T:
        """Run CPU work on the replica's prepare pool (FIFO), off the event loop."""
        return await asyncio.get_running_loop().run_in_executor(
            self._prepare, functools.partial(fn, *args)
        )

    def reconfigure(self, config: dict[str, Any]) -> None:
        """Runtime knobs from ``user_config``: max_body_bytes, max_events_per_batch,
        dedupe_wait_s, redaction_fail_closed."""
        if "max_body_bytes" in config:
            self._pipeline.max_body_bytes = int(config["max_body_bytes"])
        if "max_events_per_batch" in config:
            self._pipeline.max_events = int(config["max_events_per_batch"])
        if "dedupe_wait_s" in config:
            self._deduper.wait_s = float(config["dedupe_wait_s"])
        if "redaction_fail_closed" in config:
            self._pipeline.fail_closed = bool(config["redaction_fail_closed"])

    @api.post("/v1/logs", status_code=202, response_model=IngestResponse, openapi_extra=_BODY_DOC)
    async def logs(self, request: Request) -> Any:
        """Ingest one event or a batch; see the module docstring for the answers."""
        started = time.perf_counter()
        try:
            response = await self._logs(request)
        except OlliveError as exc:
            response = _error_response(exc)
        self._metrics.responses.labels(status=str(response.status_code)).inc()
        if response.status_code == 202:
            self._metrics.ack_latency.observe(time.perf_counter() - started)
        return response

    async def _logs(self, request: Request) -> JSONResponse:
        project = self._keys.project_for(request.headers.get("authorization"))
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype != "application/json":
            raise MediaTypeError(
                f"Content-Type must be application/json, not {ctype or 'missing'!r}"
            )
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > self._pipeline.max_body_bytes:
            raise PayloadTooLargeError(
                f"body is {length} bytes; the limit is {self._pipeline.max_body_bytes}"
            )
        body = await request.body()
        batch = await self._in_order(
            self._pipeline.prepare, body, project, request.headers.get("content-encoding")
        )
        return await self._store(batch)

    async def _store(self, batch: PreparedBatch) -> JSONResponse:
        stored = await store_batch(
            batch,
            self._deduper,
            len(self._writers),
            functools.partial(self._in_order, batch.to_arrow),
            self._write,
        )
        if stored.degraded:
            self._metrics.dedupe_degraded.inc()
        self._metrics.observe_batch(
            stored.accepted, len(batch.rejected), stored.duplicates, batch.redaction_totals()
        )
        self._note_health(stored.accepted, len(batch.rejected), stored.duplicates)
        body = {
            "accepted": stored.accepted,
            "duplicates": stored.duplicates,
            "rejected": [r.as_dict() for r in batch.rejected],
        }
        return JSONResponse(body, status_code=202)

    def _note_health(self, accepted: int, rejected: int, duplicates: int) -> None:
        self._health.update(accepted=accepted, rejected=rejected, duplicates=duplicates)
        if self._health_task is None and self._writers:
            self._health_task = asyncio.ensure_future(self._health_loop())

    async def _health_loop(self) -> None:
        """Hand this replica's counts to one writer, which stores them with its report."""
        writer = self._writers[int(self._instance[-8:], 16) % len(self._writers)]
        while True:
            await asyncio.sleep(self._health_s / 2)
            counts, self._health = +self._health, Counter()
            if not counts:
                continue
            try:
                await writer.note_ingest.remote(self._instance, dict(counts))
            except Exception as exc:  # a restarting writer: send them with the next note
                log.warning("health counts not handed to the writer (%s); kept", exc)
                self._health.update(counts)

    async def _write(self, shard: int, tables: dict[str, Any]) -> dict[str, int]:
        """Write to one shard; a writer that died is retried once it has restarted."""
        for attempt in range(_WRITE_ATTEMPTS):
            try:
                return await self._writers[shard].write.remote(tables)  # type: ignore[no-any-return]
            except ray.exceptions.RayTaskError as exc:
                # the writer's own OlliveError (backpressure, a full write-ahead log) as it
                # was raised there; anything else as Ray reports it
                cause = exc.cause
                raise cause if isinstance(cause, OlliveError) else exc from None
            except (ray.exceptions.RayActorError, ray.exceptions.ActorUnavailableError):
                if attempt + 1 == _WRITE_ATTEMPTS:
                    raise
                log.warning("writer %d unavailable, retrying (attempt %d)", shard, attempt + 1)
                await asyncio.sleep(0.5 * (attempt + 1))
        raise AssertionError("unreachable")

    async def _writer_stats(self, timeout_s: float = 2.0) -> list[dict[str, Any] | BaseException]:
        calls = [asyncio.wait_for(w.stats.remote(), timeout_s) for w in self._writers]
        return list(await asyncio.gather(*calls, return_exceptions=True))

    # --- OTLP/HTTP traces: decode + convert in serve/traces.py, then _store ---
    @api.post("/v1/traces", openapi_extra=_TRACES_BODY_DOC)
    async def traces(self, request: Request) -> Any:
        """OTLP/HTTP trace export (protobuf or JSON, gzip): GenAI spans stored as events."""
        from serve.traces import otlp_answer, prepare_traces, store_traces, traces_content_type

        try:
            project = self._keys.project_for(request.headers.get("authorization"))
            ctype = traces_content_type(request.headers.get("content-type"))
            body = await request.body()
            encoding = request.headers.get("content-encoding")
            batch, _ = await self._in_order(
                prepare_traces, self._pipeline, body, ctype, encoding, project
            )
            response = otlp_answer(await store_traces(batch, self._store), ctype)
        except OlliveError as exc:
            response = _error_response(exc)
        self._metrics.responses.labels(status=str(response.status_code)).inc()
        return response

    @api.get("/healthz")
    async def healthz(self) -> dict[str, str]:
        """Liveness: the replica answers."""
        return {"status": "ok"}

    @api.get("/readyz")
    async def readyz(self) -> JSONResponse:
        """Readiness, naming each degraded dependency (valkey, writers, warehouse)."""
        degraded: dict[str, str] = {}
        if not await self._deduper.ping():
            degraded["valkey"] = (
                "unreachable: accepting without dedupe (the warehouse collapses duplicates)"
            )
        stats = await self._writer_stats()
        down = [i for i, s in enumerate(stats) if isinstance(s, BaseException)]
        if down:
            degraded["writers"] = f"writers {down} do not answer"
        spooled = sum(s["spool_files"] for s in stats if isinstance(s, dict))
        if spooled:
            degraded["warehouse"] = f"{spooled} flushes in the dead-letter queue, replaying"
        status = 503 if len(down) == len(stats) else 200
        return JSONResponse(
            {"status": "degraded" if degraded else "ready", "degraded": degraded},
            status_code=status,
        )

    @api.get("/metrics", response_class=PlainTextResponse)
    async def metrics(self) -> PlainTextResponse:
        """Prometheus text: this replica's counters and every writer's figures."""
        stats = [s for s in await self._writer_stats() if isinstance(s, dict)]
        return PlainTextResponse(
            self._metrics.render(stats), media_type="text/plain; version=0.0.4"
        )
