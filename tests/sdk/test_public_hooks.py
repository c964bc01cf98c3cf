"""The integration surface of ``ollive.sdk``: the integrations and the logging handler use
only public names (checked on their source), and the hooks behave as documented."""

from __future__ import annotations

import ast
import asyncio
import dataclasses
import logging
from pathlib import Path

import pytest

import ollive
import ollive.sdk as osdk
from tests.sdk.conftest import IngestServer

SDK_DIR = Path(osdk.__file__).parent
ON_PUBLIC_HOOKS = [*sorted((SDK_DIR / "integrations").glob("*.py")), SDK_DIR / "logging.py"]
#: private names of third-party objects an integration may read (the openai client's httpx client)
THIRD_PARTY_PRIVATE = {"_client"}


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _private_module(module: str) -> bool:
    return module.startswith("ollive") and any(_private(part) for part in module.split("."))


def _violations(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        where = f"line {getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Import):
            found += [f"{where}: import {a.name}" for a in node.names if _private_module(a.name)]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("ollive"):
            module = node.module or ""
            if _private_module(module):
                found.append(f"{where}: from {module} import ...")
            found += [
                f"{where}: from {module} import {a.name}" for a in node.names if _private(a.name)
            ]
        elif isinstance(node, ast.Attribute) and _private(node.attr):
            owner = node.value
            if not (isinstance(owner, ast.Name) and owner.id in ("self", "cls")):
                found.append(f"{where}: {ast.unparse(node)}")
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) in (
            "getattr",
            "setattr",
        ):
            name = node.args[1] if len(node.args) > 1 else None
            owner = node.args[0] if node.args else None
            if (
                isinstance(name, ast.Constant)
                and isinstance(name.value, str)
                and _private(name.value)
                and name.value not in THIRD_PARTY_PRIVATE
                and not (isinstance(owner, ast.Name) and owner.id == "self")
            ):
                found.append(f"{where}: {ast.unparse(node)}")
    return found


@pytest.mark.parametrize("path", ON_PUBLIC_HOOKS, ids=lambda p: p.name)
def test_integrations_use_only_public_sdk_names(path: Path) -> None:
    assert _violations(ast.parse(path.read_text("utf-8"))) == []


def test_the_checker_catches_what_it_should() -> None:
    code = (
        "from ollive.sdk import api\n"
        "from ollive.osdk._context import current_span\n"
        "import ollive.osdk._span\n"
        "from ollive.osdk.spans import _Span\n"
        "rt = api._runtime\n"
        "span._finish(None)\n"
        "getattr(span, '_rt')\n"
        "self._runs.clear()\n"
    )
    found = _violations(ast.parse(code))
    assert len(found) == 6, found


def test_the_hooks_are_public_names_of_the_sdk() -> None:
    for name in (
        "SpanContext",
        "count_internal_error",
        "current_context",
        "current_prompt",
        "current_service",
        "emit_log",
        "inference_span",
        "is_enabled",
        "tool_span",
    ):
        assert name in osdk.__all__ and getattr(osdk, name) is not None


# --- behaviour ---------------------------------------------------------------------------------


def test_hooks_are_noops_while_the_sdk_is_off() -> None:
    assert osdk.is_enabled() is False
    assert osdk.current_service() is None
    assert osdk.inference_span("openai", "m") is None
    assert osdk.tool_span("lookup") is None
    osdk.emit_log("INFO", "app", "nothing happens")
    osdk.count_internal_error()
    context = osdk.current_context()
    assert context.sampled is True and len(context.trace_id) == 32 and context.span_id is None
    noop = ollive.current_inference()
    noop.start(activate=True)
    noop.deactivate(noop.activate())
    noop.end(ValueError("x"), result="r")
    assert ollive.stats()["enqueued"] == 0


def test_a_span_started_without_activation_is_not_current(sdk: IngestServer) -> None:
    span = osdk.inference_span("acme", "large", input="hi", metadata={"route": "faq"})
    assert span is not None
    span.start()
    assert ollive.current_inference().request_id is None  # not current
    token = span.activate()
    assert ollive.current_inference() is span
    span.deactivate(token)
    span.deactivate(token)  # a second reset is ignored, never raised
    assert ollive.current_inference().request_id is None
    span.end(result="hello")
    span.end(RuntimeError("late"))  # once only
    (event,) = _shipped(sdk, "inference")
    assert (event["provider"], event["model"], event["status"]) == ("acme", "large", "ok")
    assert event["input_preview"] == "hi" and event["output_preview"] == "hello"
    assert event["metadata"] == {"route": "faq"}


def test_a_started_and_activated_span_nests_children_and_ends_with_an_error(
    sdk: IngestServer,
) -> None:
    with ollive.conversation("c-1", user_id="u-1"):
        span = osdk.inference_span("openai", "m")
        assert span is not None
        span.start(activate=True)
        tool = osdk.tool_span("lookup", kwargs={"id": 1})
        assert tool is not None
        tool.start()  # under the current span: same trace, linked to the inference
        tool.end(result={"ok": True})
        span.end(TimeoutError("slow"))
        assert ollive.current_inference().request_id is None  # end() deactivated it
    (inference,) = _shipped(sdk, "inference")
    (tool_event,) = sdk.of_type("tool_execution")
    assert inference["status"] == "timeout" and inference["error_code"] == "TimeoutError"
    assert (inference["conversation_id"], inference["user_id"]) == ("c-1", "u-1")
    assert tool_event["trace_id"] == inference["trace_id"]
    assert tool_event["parent_span_id"] == inference["span_id"]
    assert tool_event["parent_request_id"] == inference["request_id"]
    assert tool_event["args_preview"] == '{"id": 1}'


def test_an_explicit_parent_context_places_a_span(sdk: IngestServer) -> None:
    root = osdk.inference_span("openai", "m")
    assert root is not None
    root.start()
    parent = dataclasses.replace(root.context, conversation_id="from-parent")
    child = osdk.tool_span("step")
    assert child is not None
    child.start(parent=parent)
    child.set_parent_inference(None)  # explicit link wins over the parent's inference
    child.end()
    root.end()
    (tool_event,) = _shipped(sdk, "tool_execution")
    (inference,) = sdk.of_type("inference")
    assert tool_event["trace_id"] == inference["trace_id"]
    assert tool_event["parent_span_id"] == inference["span_id"]
    assert tool_event["conversation_id"] == "from-parent"
    assert tool_event.get("parent_request_id") is None


def test_current_context_follows_spans_and_conversations(sdk: IngestServer) -> None:
    with ollive.conversation("c-9", session_id="s-9") as scope:
        context = osdk.current_context()
        assert (context.trace_id, context.span_id) == (scope.trace_id, None)
        assert (context.conversation_id, context.session_id) == ("c-9", "s-9")
        with ollive.inference("openai", "m") as span:
            inside = osdk.current_context()
            assert (inside.trace_id, inside.span_id) == (span.trace_id, span.span_id)
            assert inside == span.context


def test_the_sample_decision_is_in_the_context(ingest: IngestServer) -> None:
    ollive.init(endpoint=ingest.endpoint, sample_rate=0.0, service="svc")
    assert osdk.current_service() == "svc"
    assert osdk.current_context().sampled is False
    span = osdk.inference_span("openai", "m")
    assert span is not None
    span.start()
    span.end()
    assert ollive.stats()["enqueued"] == 0


def test_end_never_raises_and_counts_what_it_swallowed(sdk: IngestServer) -> None:
    class Hostile:
        def __getattr__(self, name: str) -> object:
            raise RuntimeError("no attributes here")

    span = osdk.inference_span("openai", "m")
    assert span is not None
    span.start()
    span.end(result=Hostile())
    osdk.count_internal_error()
    assert ollive.stats()["internal_errors"] >= 1


def test_emit_log_carries_the_current_ids(sdk: IngestServer) -> None:
    with ollive.conversation("c-3", user_id="u-3"), ollive.inference("openai", "m") as span:
        osdk.emit_log(logging.WARNING, "app.orders", "slow answer", {"order": "A-1"})
    osdk.emit_log("warn", "app", "outside", timestamp=1_700_000_000.5)
    events = {e["message"]: e for e in _shipped(sdk, "application")}
    inside, outside = events["slow answer"], events["outside"]
    assert (inside["level"], inside["logger"], inside["attributes"]) == (
        "WARNING",
        "app.orders",
        {"order": "A-1"},
    )
    assert (inside["trace_id"], inside["span_id"]) == (span.trace_id, span.span_id)
    assert (inside["conversation_id"], inside["user_id"]) == ("c-3", "u-3")
    assert outside["level"] == "WARNING" and outside["trace_id"] is None
    assert outside["timestamp"].startswith("2023-11-14T22:13:20.5")


def test_activation_follows_asyncio_tasks(sdk: IngestServer) -> None:
    async def main() -> None:
        span = osdk.inference_span("openai", "m")
        assert span is not None
        span.start()
        token = span.activate()
        seen = await asyncio.create_task(_current_request_id())
        span.deactivate(token)
        span.end()
        assert seen == span.request_id

    asyncio.run(main())


async def _current_request_id() -> str | None:
    return ollive.current_inference().request_id


# --- helpers -------------------------------------------------------------------------------------


def _shipped(server: IngestServer, log_type: str) -> list[dict]:
    assert ollive.flush(10)
    assert not server.invalid, server.invalid
    return server.of_type(log_type)
