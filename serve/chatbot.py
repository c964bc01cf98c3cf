"""The demo chatbot on Ray Serve: ``build_chat_app(ChatAppArgs) -> Application``.

Deployed under the route prefix :data:`ROUTE_PREFIX` (``/chat``) next to ingest (``/``)::

    serve.run(build_chat_app(ChatAppArgs(redis_url=url)), name="chatbot", route_prefix="/chat")

HTTP API (see ``docs/chat.md``):

- ``POST /chat`` ``{"message", "conversation_id"?, "user_id"?}`` → ``text/event-stream``:
  ``conversation``, ``token``, ``tool_call``, ``tool_result``, then ``final`` (request id,
  usage), ``cancelled`` or ``error``. A new conversation is created when none is given.
- ``POST /chat/{conversation_id}/cancel`` stops the running turn, whichever replica runs it
  (``409`` when none runs); its inference is recorded with status ``cancelled``.
- ``GET /chat/{conversation_id}`` the history (``404`` when unknown or expired).
- ``GET /chat`` the chatbot's model and service (a health check).

Each replica is instrumented with the Ollive SDK (``ollive.init`` in ``__init__``) and
ships its events to ``endpoint`` with ``api_key``. Memory is Valkey/Redis at ``redis_url``,
shared by all replicas.
"""

# No ``from __future__ import annotations`` here: the replica rebuilds the FastAPI routes
# from the deserialised class, where string annotations (``ChatRequest``) no longer resolve.
from typing import Any

from fastapi import FastAPI, HTTPException
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from ray import serve
from ray.serve import Application

from ollive.config import DEMO_API_KEY, Settings

__all__ = ["ROUTE_PREFIX", "ChatAppArgs", "ChatRequest", "Chatbot", "build_chat_app"]

ROUTE_PREFIX = "/chat"


class ChatAppArgs(BaseModel):
    """Typed arguments of the chatbot app (``serve deploy``: the ``args`` of the app)."""

    redis_url: str = Field(description="Valkey/Redis for conversation memory (shared by replicas).")
    model: str = Field(
        "demo", description="demo, or openai:<model> (OPENAI_API_KEY/OPENAI_BASE_URL)."
    )
    endpoint: str = Field("http://127.0.0.1:8000/v1", description="Ingest URL the SDK ships to.")
    api_key: str = Field(DEMO_API_KEY, description="API key of the chatbot's own events.")
    service: str = Field("demo-chatbot", description="Service name on the chatbot's events.")
    num_replicas: int = Field(1, ge=1, description="Chatbot replicas.")
    replica_cpus: float = Field(0.25, ge=0, description="CPUs reserved per replica.")
    instrument: bool = Field(True, description="Instrument the agent with the Ollive SDK.")
    seed: int = Field(0, description="Demo model seed.")
    latency_scale: float = Field(
        1.0, ge=0, description="Demo model latency multiplier (0 = instant)."
    )
    error_rate: float = Field(0.02, ge=0, le=1, description="Demo model failure rate.")
    timeout_rate: float = Field(0.01, ge=0, le=1, description="Demo model timeout rate.")
    history_ttl_s: int = Field(86_400, ge=1, description="Conversation TTL in Valkey/Redis.")
    flush_interval_s: float = Field(0.5, gt=0, description="SDK flush interval in the replicas.")

    @classmethod
    def from_settings(cls, settings: Settings, redis_url: str, **overrides: Any) -> "ChatAppArgs":
        """The args from ``OLLIVE_*`` settings (``OLLIVE_CHAT_*``), with overrides on top."""
        values: dict[str, Any] = {
            "redis_url": redis_url,
            "model": settings.chat_model,
            "endpoint": settings.endpoint,
            "api_key": settings.api_key or DEMO_API_KEY,
            "service": settings.chat_service,
            "num_replicas": settings.chat_replicas,
            "seed": settings.chat_seed,
            "latency_scale": settings.chat_latency_scale,
            "error_rate": settings.chat_error_rate,
            "timeout_rate": settings.chat_timeout_rate,
            "history_ttl_s": settings.chat_history_ttl_s,
        }
        values.update(overrides)
        return cls.model_validate(values)


class ChatRequest(BaseModel):
    """Body of ``POST /chat``."""

    message: str = Field(min_length=1, max_length=8_000, description="The user's message.")
    conversation_id: str | None = Field(
        None,
        min_length=1,
        max_length=128,
        pattern=r"^[A-Za-z0-9_.:-]+$",
        description="Continue this conversation (created when unknown); omitted: a new one.",
    )
    user_id: str | None = Field(None, max_length=128, description="The end user, for telemetry.")


class _BarePrefix:
    """ASGI middleware: the bare route prefix (``POST /chat``) is served by the ``/`` routes.

    Serve hands the app ``root_path="/chat"``; FastAPI cannot declare an empty path, and
    Starlette would otherwise redirect ``/chat`` to ``/chat/`` (which POST clients do not follow).
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        root = scope.get("root_path") or ""
        if scope["type"] == "http" and root and scope["path"] == root:
            scope = {**scope, "path": root + "/", "raw_path": (root + "/").encode()}
        await self.app(scope, receive, send)


api = FastAPI(
    title="Ollive demo chatbot",
    description="A LangGraph agent with tools, streaming Server-Sent Events; instrumented with Ollive.",
)
api.add_middleware(_BarePrefix)
_SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


@serve.deployment(  # a stopping replica looks for requests in flight every 0.25 s, not 2
    max_ongoing_requests=64, health_check_period_s=10, graceful_shutdown_wait_loop_s=0.25
)
@serve.ingress(api)
class Chatbot:
    """One chatbot replica: a :class:`~ollive.chat.ChatAgent` over shared Redis memory."""

    def __init__(self, args: ChatAppArgs) -> None:
        import ollive
        from ollive.chat import ChatAgent, DemoOptions, RedisMemory, make_model

        if args.instrument:
            ollive.init(
                endpoint=args.endpoint,
                api_key=args.api_key,
                service=args.service,
                flush_interval_s=args.flush_interval_s,
            )
        demo = DemoOptions(args.seed, args.latency_scale, args.error_rate, args.timeout_rate)
        self._args = args
        self._agent = ChatAgent(
            make_model(args.model, demo),
            RedisMemory(args.redis_url, ttl_s=args.history_ttl_s),
            instrument=args.instrument,
        )

    @api.get("/")
    async def info(self) -> dict[str, Any]:
        """The chatbot's model and service name."""
        return {"status": "ok", "model": self._args.model, "service": self._args.service}

    @api.post("/", response_class=StreamingResponse)
    async def chat(self, request: ChatRequest) -> StreamingResponse:
        """Run one turn; its events stream back as Server-Sent Events."""
        events = self._agent.stream(request.message, request.conversation_id, request.user_id)
        body = (event.sse() async for event in events)
        return StreamingResponse(body, media_type="text/event-stream", headers=_SSE_HEADERS)

    @api.post("/{conversation_id}/cancel")
    async def cancel(self, conversation_id: str) -> dict[str, Any]:
        """Stop the conversation's running turn (on whichever replica runs it)."""
        if not await self._agent.cancel(conversation_id):
            raise HTTPException(409, f"no turn is running in conversation {conversation_id!r}")
        return {"conversation_id": conversation_id, "cancelled": True}

    @api.get("/{conversation_id}")
    async def history(self, conversation_id: str) -> dict[str, Any]:
        """The conversation's messages, oldest first."""
        found = await self._agent.history(conversation_id)
        if found is None:
            raise HTTPException(404, f"unknown or expired conversation {conversation_id!r}")
        return found

    def __del__(self) -> None:
        import ollive

        ollive.shutdown(2.0)


def build_chat_app(args: ChatAppArgs | dict[str, Any]) -> Application:
    """The chatbot application; run it with ``route_prefix=ROUTE_PREFIX``."""
    if not isinstance(args, ChatAppArgs):
        args = ChatAppArgs.model_validate(args)
    deployment = Chatbot.options(  # type: ignore[attr-defined]
        num_replicas=args.num_replicas, ray_actor_options={"num_cpus": args.replica_cpus}
    )
    return deployment.bind(args)
