"""The traffic generator: personas and PII (fast), then a few seconds against the served
chatbot on the session's Ray cluster (slow; one Serve app for the module)."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

from ollive.cli import app
from ollive.demo.traffic import PERSONAS, TrafficConfig, conversation, run_traffic, with_pii
from tests.serve._serve import serve_base_url

_PII = re.compile(r"@|\+1 \d{3}-555-\d{4}|(?:\d{4} ){3}\d{4}")


def _luhn_ok(number: str) -> bool:
    digits = [int(d) for d in number if d.isdigit()][::-1]
    return (
        sum(d if i % 2 == 0 else (d * 2 - 9 if d > 4 else d * 2) for i, d in enumerate(digits)) % 10
        == 0
    )


def test_personas_and_pii_are_deterministic_and_realistic() -> None:
    first = [conversation(p, random.Random(1)) for p in PERSONAS]
    assert first == [conversation(p, random.Random(1)) for p in PERSONAS]
    assert all(1 <= len(c) <= 5 for c in first)
    rng = random.Random(2)
    texts = [with_pii("hello", rng) for _ in range(200)]
    assert all(t.startswith("hello ") and _PII.search(t) for t in texts)
    cards = [m.group(0) for t in texts if (m := re.search(r"(?:\d{4} ){3}\d{4}", t))]
    assert cards and all(_luhn_ok(card) for card in cards)


def test_chat_url_accepts_the_base_url() -> None:
    assert TrafficConfig(url="http://h:1").chat_url == "http://h:1/chat"
    assert TrafficConfig(url="http://h:1/chat/").chat_url == "http://h:1/chat"
    assert TrafficConfig(url="http://h:1/bot").chat_url == "http://h:1/bot"


@pytest.fixture(scope="module")
def chat_url(ray_session: Any, valkey_url: str) -> Iterator[str]:
    from ray import serve

    from serve.chatbot import ROUTE_PREFIX, ChatAppArgs, build_chat_app

    base = serve_base_url()
    args = ChatAppArgs(
        redis_url=valkey_url,
        instrument=False,
        replica_cpus=0.1,
        latency_scale=0.05,
        error_rate=0.3,  # per model call: errors show up in a couple of dozen turns
        timeout_rate=0.0,
    )
    serve.run(build_chat_app(args), name="chatbot-traffic", route_prefix=ROUTE_PREFIX + "-traffic")
    yield f"{base}{ROUTE_PREFIX}-traffic"
    serve.delete("chatbot-traffic")


@pytest.mark.slow
def test_traffic_against_the_served_chatbot(chat_url: str) -> None:
    # a number of turns, not a number of seconds: how many turns fit into a few seconds
    # depends on how busy the machine is (the other test worker runs platforms meanwhile)
    config = TrafficConfig(url=chat_url, rate=20, duration_s=300, turns=24, users=4, seed=3,
                           pii_rate=0.3, cancel_rate=0.2, think_scale=0.05)  # fmt: skip
    report = run_traffic(config)
    figures = report.as_dict()
    assert figures["turns"] == 24 and figures["failed"] == 0
    assert figures["ok"] > 0 and figures["errors"] > 0  # the demo model fails 30% of calls
    assert figures["pii_messages"] > 0 and figures["tool_calls"] > 0
    assert figures["input_tokens"] > 0 and figures["latency_p95_ms"] >= figures["latency_p50_ms"]
    assert figures["conversations"] < figures["turns"]  # multi-turn conversations
    ok = [r for r in report.results if r.outcome == "final"]
    assert all(r.conversation_id and r.input_tokens and r.ttft_s is not None for r in ok)


@pytest.mark.slow
def test_ollive_traffic_command_prints_a_summary(chat_url: str) -> None:
    args = ["traffic", "--url", chat_url, "--duration", "120", "--turns", "6", "--rate", "10",
            "--users", "2", "--think-scale", "0.05", "--json"]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert summary["turns"] == 6 and summary["ok"] > 0
