"""``ollive.prompt``: the prompt template of the inferences inside (contract v1.1), through
the public names, against a real local ingest server that validates every event."""

from __future__ import annotations

import asyncio
import json

import pytest

import ollive
import ollive.sdk as osdk
from ollive.events import InferenceEvent, parse_event, template_hash
from tests.sdk.conftest import IngestServer

TEMPLATE = "You are Acme's support assistant. Answer {question} in three sentences."
SUPPORT = ollive.prompt("support-answer", version=3, template=TEMPLATE)


def shipped(server: IngestServer, log_type: str = "inference") -> list[dict]:
    assert ollive.flush(10)
    assert not server.invalid, server.invalid
    events = sorted(server.of_type(log_type), key=lambda e: e.get("started_at") or e["timestamp"])
    for event in events:
        parse_event(event)
    return events


def prompt_of(event: dict) -> tuple[str | None, str | None, str | None]:
    return event["prompt_name"], event["prompt_version"], event["prompt_hash"]


def test_inferences_started_inside_carry_the_prompt(sdk: IngestServer) -> None:
    with SUPPORT:
        with ollive.inference("openai", "gpt-4o-mini") as inside:
            inside.set_output("hello")
        assert osdk.current_prompt() is SUPPORT
    with ollive.inference("openai", "gpt-4o-mini"):
        pass
    assert osdk.current_prompt() is None
    first, second = shipped(sdk)
    assert prompt_of(first) == ("support-answer", "3", template_hash(TEMPLATE))
    assert first["schema_version"] == "1.1"
    assert prompt_of(second) == (None, None, None) and second["schema_version"] == "1.0"
    assert inside.prompt is SUPPORT


def test_the_hash_is_computed_once_per_prompt_object() -> None:
    assert SUPPORT.template_hash == template_hash(TEMPLATE)  # made at construction
    assert (SUPPORT.name, SUPPORT.version) == ("support-answer", "3")
    assert ollive.prompt("x").template_hash is None and ollive.prompt("x").version is None
    assert repr(SUPPORT).startswith("Prompt(name='support-answer', version='3'")


def test_nested_prompts_the_innermost_wins(sdk: IngestServer) -> None:
    with ollive.prompt("outer", version="v1"):
        with ollive.prompt("inner", version=2, template="t"), ollive.inference("openai", "m"):
            pass
        with ollive.inference("openai", "m"):
            pass
    inner, outer = shipped(sdk)
    assert prompt_of(inner) == ("inner", "2", template_hash("t"))
    assert prompt_of(outer) == ("outer", "v1", None)


def test_as_a_decorator_of_every_kind_of_function(sdk: IngestServer) -> None:
    @ollive.prompt("sync", version=1)
    def call() -> str:
        with ollive.inference("openai", "m"):
            return "done"

    @ollive.prompt("async", version=1)
    async def acall() -> str:
        await asyncio.sleep(0)
        with ollive.inference("openai", "m"):
            return "done"

    @ollive.prompt("gen", version=1)
    def stream():  # type: ignore[no-untyped-def]
        for word in ("a", "b"):
            with ollive.inference("openai", "m"):
                pass
            yield word

    assert call() == "done"
    assert asyncio.run(acall()) == "done"
    assert osdk.current_prompt() is None  # a generator's prompt holds only while its body runs
    words = []
    for word in stream():
        assert osdk.current_prompt() is None
        words.append(word)
    assert words == ["a", "b"]
    names = [e["prompt_name"] for e in shipped(sdk)]
    assert names == ["sync", "async", "gen", "gen"]


def test_async_with_and_concurrent_tasks_share_one_prompt_object(sdk: IngestServer) -> None:
    other = ollive.prompt("other", version=1)

    async def turn(prompt: osdk.Prompt, delay: float) -> str | None:
        async with prompt:
            await asyncio.sleep(delay)
            with ollive.inference("openai", "m") as span:
                span.set_output(prompt.name)
            await asyncio.sleep(delay)
        return None if osdk.current_prompt() is None else "leaked"

    async def main() -> list[str | None]:
        return await asyncio.gather(
            turn(SUPPORT, 0.02), turn(SUPPORT, 0.01), turn(other, 0.015), turn(SUPPORT, 0)
        )

    assert asyncio.run(main()) == [None] * 4
    events = shipped(sdk)
    assert len(events) == 4
    assert all(e["prompt_name"] == e["output_preview"] for e in events)


def test_set_prompt_wins_over_the_context(sdk: IngestServer) -> None:
    with SUPPORT:
        with ollive.inference("openai", "m") as span:
            span.set_prompt("explicit", version=7, template="x")
        span = osdk.inference_span("openai", "m")
        assert span is not None
        span.set_prompt(ollive.prompt("before-start", version="b"))
        span.start()
        span.end()
    explicit, before = shipped(sdk)
    assert prompt_of(explicit) == ("explicit", "7", template_hash("x"))
    assert prompt_of(before) == ("before-start", "b", None)


def test_events_without_prompt_stay_v1_0(sdk: IngestServer) -> None:
    @ollive.tool
    def lookup() -> str:
        return "ok"

    # a prompt with nothing to say: a v1.0 event
    with ollive.prompt("", version=None), ollive.inference("openai", "m") as span:
        lookup()
    with SUPPORT:
        ollive.score(span.request_id, "thumbs_up", 1)
    (inference,) = shipped(sdk)
    (tool,) = shipped(sdk, "tool_execution")
    (score,) = shipped(sdk, "score")
    assert inference["schema_version"] == tool["schema_version"] == score["schema_version"] == "1.0"
    assert prompt_of(inference) == (None, None, None)


def test_the_rendered_json_parses_as_v1_0_and_v1_1(sdk: IngestServer) -> None:
    with SUPPORT, ollive.inference("openai", "m") as with_prompt:
        pass
    with ollive.inference("openai", "m") as without:
        pass
    text = with_prompt.to_json("svc")
    assert text.startswith('{"schema_version":"1.1"')
    assert without.to_json("svc").startswith('{"schema_version":"1.0"')
    assert '"prompt_name"' not in without.to_json("svc")
    assert '"prompt_hash"' not in without.to_json("svc")
    for body in (text, without.to_json("svc")):
        event = parse_event(body)
        assert isinstance(event, InferenceEvent)
    assert json.loads(text)["prompt_version"] == "3"
    assert with_prompt.to_event("svc")["prompt_hash"] == template_hash(TEMPLATE)


def test_long_names_and_versions_are_cut_to_the_contract(sdk: IngestServer) -> None:
    odd = ollive.prompt("n" * 300, version="v" * 80, template=object())  # type: ignore[arg-type]
    with odd, ollive.inference("openai", "m"):
        pass
    (event,) = shipped(sdk)
    assert len(event["prompt_name"]) == 256 and len(event["prompt_version"]) == 64
    assert len(event["prompt_hash"]) == 16  # a template that is not a string: its str()


def test_a_noop_before_init_and_on_noop_spans() -> None:
    assert osdk.is_enabled() is False

    @SUPPORT
    def call() -> int:
        return 1

    with SUPPORT:
        assert osdk.current_prompt() is SUPPORT
        with ollive.inference("openai", "m") as span:
            span.set_prompt("x", version=1)  # a no-op span takes it and does nothing
        assert call() == 1
    assert osdk.current_prompt() is None


@pytest.mark.parametrize("name", ["prompt", "Prompt", "current_prompt"])
def test_the_names_are_public(name: str) -> None:
    assert name in osdk.__all__ and getattr(osdk, name) is not None
    if name == "prompt":
        assert "prompt" in ollive.__all__ and ollive.prompt is osdk.prompt
