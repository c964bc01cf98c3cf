"""The LLM judge against a local OpenAI-compatible server started here (FastAPI + uvicorn in a
thread, non-streaming ``/v1/chat/completions`` with usage), and against the offline demo model."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from ray import cloudpickle

from ollive.chat import DemoChatModel
from ollive.chat.demo_model import JUDGE_MARKER as DEMO_JUDGE_MARKER
from ollive.errors import ConfigError, EvaluatorError, JudgeError
from ollive.evaluate.evaluators import ScoreValue, run_evaluator
from ollive.evaluate.judge import JUDGE_MARKER, RateLimiter, llm_judge, rate_limiter
from ollive.pricing import default_price_table

RUBRIC = "Is the answer correct and does it name the city?"
ITEM = {"item_id": "it-1", "input": "Capital of France?", "expected_output": "Paris"}
VERDICT = '{"score": 4, "reasoning": "Correct, but terse."}'
USAGE = {"prompt_tokens": 120, "completion_tokens": 15, "total_tokens": 135}


def _fake_openai() -> FastAPI:
    """Replies with ``app.state.replies`` in order (then ``VERDICT``); records every request
    in ``app.state.log`` (shared with the rate-limit test's clock)."""
    app = FastAPI()
    app.state.requests, app.state.replies, app.state.log = [], [], []

    @app.post("/v1/chat/completions")
    async def completions(request: Request) -> Any:
        body = await request.json()
        app.state.requests.append(body)
        app.state.log.append("call")
        text = app.state.replies.pop(0) if app.state.replies else VERDICT
        message = {"role": "assistant", "content": text}
        return JSONResponse({"id": "x", "object": "chat.completion", "created": 0, "model": body["model"],
                             "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                             "usage": USAGE})  # fmt: skip

    return app


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, FastAPI]]:
    app = _fake_openai()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    uv = uvicorn.Server(uvicorn.Config(app, log_level="error", lifespan="off"))
    thread = threading.Thread(target=uv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not uv.started and time.monotonic() < deadline:
        time.sleep(0.01)
    assert uv.started
    yield f"http://127.0.0.1:{port}/v1", app
    uv.should_exit = True
    thread.join(5)
    sock.close()


@pytest.fixture
def openai(server: tuple[str, FastAPI]) -> Iterator[tuple[str, FastAPI]]:
    url, app = server
    app.state.requests.clear()
    app.state.replies.clear()
    app.state.log.clear()
    yield url, app


def _judge(url: str, **kwargs: Any) -> Any:
    options: dict[str, Any] = {"base_url": url, "api_key": "sk-test", "model_name": "gpt-4o-mini"}
    options.update(kwargs)
    return llm_judge(RUBRIC, **options)


# --- against an OpenAI-compatible server ----------------------------------------------------


def test_a_verdict_becomes_a_normalised_score_with_usage_and_cost(
    openai: tuple[str, FastAPI],
) -> None:
    url, app = openai
    [score] = run_evaluator(_judge(url, name="judge.correct"), ITEM, "It is Paris.", latency_ms=5)
    assert (score.name, score.value, score.comment) == (
        "judge.correct",
        0.75,
        "Correct, but terse.",
    )
    cost = default_price_table().cost("openai", "gpt-4o-mini", 120, 15)
    assert cost is not None and cost > 0
    assert score.metadata == {
        "raw_score": 4.0,
        "judge_model": "gpt-4o-mini",
        "judge_provider": "openai",
        "prompt_tokens": 120,
        "completion_tokens": 15,
        "cost_usd": cost,
        "attempts": 1,
    }
    [request] = app.state.requests
    assert request["model"] == "gpt-4o-mini" and request["temperature"] == 0
    system, human = request["messages"]
    assert system["role"] == "system" and system["content"].startswith(JUDGE_MARKER)
    assert RUBRIC in system["content"] and "on a scale from 1 to 5" in system["content"]
    assert human["content"] == (
        "<input>\nCapital of France?\n</input>\n\n"
        "<expected_output>\nParis\n</expected_output>\n\n"
        "<output>\nIt is Paris.\n</output>"
    )


def test_other_scales_and_no_expected_output(openai: tuple[str, FastAPI]) -> None:
    url, app = openai
    app.state.replies.append('{"score": 7.5, "reasoning": "Good."}')
    score = _judge(url, scale=(0, 10))({"input": "Capital of France?"}, "Paris")
    assert (score.value, score.metadata["raw_score"]) == (0.75, 7.5)
    human = app.state.requests[0]["messages"][1]["content"]
    assert "<expected_output>" not in human and "on a scale from 0 to 10" in str(
        app.state.requests[0]["messages"][0]
    )


@pytest.mark.parametrize(
    "reply",
    [
        'Here is my verdict:\n```json\n{"score": 5, "reasoning": "Exact."}\n```',
        'Sure. {"score": 5, "reasoning": "Exact."} Hope that helps.',
        '{"score": "5", "reason": "Exact.", "confidence": "high"}',
    ],
)
def test_fenced_or_surrounded_verdicts_parse(openai: tuple[str, FastAPI], reply: str) -> None:
    url, app = openai
    app.state.replies.append(reply)
    score = _judge(url)(ITEM, "Paris")
    assert (score.value, score.comment, score.metadata["attempts"]) == (1.0, "Exact.", 1)


def test_an_unreadable_reply_is_retried_with_the_error(openai: tuple[str, FastAPI]) -> None:
    url, app = openai
    app.state.replies.append("The answer looks fine to me, I'd say four out of five.")
    score = _judge(url)(ITEM, "Paris")
    assert score.value == 0.75 and score.metadata["attempts"] == 2
    assert (score.metadata["prompt_tokens"], score.metadata["completion_tokens"]) == (240, 30)
    first, second = app.state.requests
    assert second["messages"][:2] == first["messages"]
    assert second["messages"][2] == {
        "role": "assistant",
        "content": "The answer looks fine to me, I'd say four out of five.",
    }
    assert second["messages"][3]["content"].startswith("That reply could not be used (")


@pytest.mark.parametrize(
    ("replies", "max_retries", "match"),
    [
        (["garbage one", "garbage two"], 1, r"after 2 attempt\(s\).*starts 'garbage two'"),
        (["garbage"], 0, r"after 1 attempt\(s\).*starts 'garbage'"),
        (['{"score": 7, "reasoning": "x"}'] * 2, 1, "outside the scale 1 to 5"),
        (['{"reasoning": "no score"}'] * 2, 1, "score"),
    ],
)
def test_no_verdict_after_the_retries_raises_judge_error(
    openai: tuple[str, FastAPI], replies: list[str], max_retries: int, match: str
) -> None:
    url, app = openai
    app.state.replies.extend(replies)
    with pytest.raises(JudgeError, match=match) as caught:
        _judge(url, max_retries=max_retries)(ITEM, "Paris")
    assert isinstance(caught.value, EvaluatorError)
    assert len(app.state.requests) == max_retries + 1


def test_a_judge_survives_cloudpickle_and_builds_its_client_where_it_runs(
    openai: tuple[str, FastAPI],
) -> None:
    url, _ = openai
    judge = _judge(url, name="judge.shipped")
    copy = cloudpickle.loads(cloudpickle.dumps(judge))
    assert copy(ITEM, "Paris") == judge(ITEM, "Paris")
    assert "sk-test" not in repr(judge)


def test_the_rate_limiter_sleeps_before_each_call(openai: tuple[str, FastAPI]) -> None:
    url, app = openai
    clock = _FakeClock(app.state.log)
    rate_limiter("judge.limited", 60, clock=clock.now, sleep=clock.sleep)  # 1 s apart
    judge = _judge(url, name="judge.limited", rate_limit_per_min=60)
    app.state.replies.append("not a verdict")  # the retry waits its turn too
    judge(ITEM, "Paris")
    judge(ITEM, "Paris")
    assert app.state.log == ["call", ("sleep", 1.0), "call", ("sleep", 1.0), "call"]


# --- the rate limiter on its own ------------------------------------------------------------


class _FakeClock:
    def __init__(self, log: list[Any] | None = None) -> None:
        self.t = 0.0
        self.log = log if log is not None else []

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.log.append(("sleep", seconds))
        self.t += seconds


def test_rate_limiter_spaces_calls_and_lets_idle_time_pass() -> None:
    clock = _FakeClock()
    limiter = RateLimiter(120, clock=clock.now, sleep=clock.sleep)  # 0.5 s apart
    assert [limiter.acquire() for _ in range(3)] == [0.0, 0.5, 0.5]
    clock.t += 10.0  # idle: no debt, no burst either
    assert [limiter.acquire() for _ in range(2)] == [0.0, 0.5]
    assert clock.log == [("sleep", 0.5)] * 3


def test_rate_limiter_gives_threads_distinct_slots() -> None:
    clock = _FakeClock()
    lock = threading.Lock()
    limiter = RateLimiter(60, clock=clock.now, sleep=lambda s: None)  # the clock stands still
    waits: list[float] = []

    def take() -> None:
        wait = limiter.acquire()
        with lock:
            waits.append(wait)

    threads = [threading.Thread(target=take) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(waits) == [float(i) for i in range(8)]


def test_rate_limiters_are_shared_per_name_and_rate() -> None:
    assert rate_limiter("judge.a", 30) is rate_limiter("judge.a", 30)
    assert rate_limiter("judge.a", 30) is not rate_limiter("judge.b", 30)
    assert rate_limiter("judge.a", 30).interval_s == 2.0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({}, "exactly one"),
        ({"model": DemoChatModel(), "base_url": "http://x"}, "exactly one"),
        ({"base_url": "http://x"}, "model_name"),
        ({"model": DemoChatModel(), "scale": (5, 1)}, "low < high"),
        ({"model": DemoChatModel(), "rate_limit_per_min": 0}, "> 0"),
        ({"model": DemoChatModel(), "max_retries": -1}, "max_retries"),
    ],
)
def test_wrong_settings_are_config_errors(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        llm_judge(RUBRIC, **kwargs)
    with pytest.raises(ConfigError, match="rubric"):
        llm_judge("  ", model=DemoChatModel())


# --- with the offline demo model ------------------------------------------------------------


@pytest.fixture(scope="module")
def demo() -> DemoChatModel:
    return DemoChatModel(latency_scale=0.0, error_rate=0.0, timeout_rate=0.0)


def test_the_demo_model_knows_the_judge_marker() -> None:
    assert DEMO_JUDGE_MARKER == JUDGE_MARKER


def test_the_demo_judge_is_deterministic(demo: DemoChatModel) -> None:
    judge = llm_judge(RUBRIC, model=demo, name="judge.demo")
    outputs = ["Paris is the capital.", "Lyon, I believe.", "Marseille", "France's capital"]
    first = [judge({"input": "Capital of France?"}, out) for out in outputs]
    again = [judge({"input": "Capital of France?"}, out) for out in outputs]
    assert first == again
    assert all(0.0 <= s.value <= 1.0 and s.comment for s in first)
    meta = first[0].metadata
    assert (meta["judge_provider"], meta["judge_model"]) == ("ollive", "demo-chat")
    assert meta["prompt_tokens"] > 50 and meta["completion_tokens"] > 5 and meta["cost_usd"] > 0


def test_the_demo_judge_ranks_refusals_below_good_answers(demo: DemoChatModel) -> None:
    judge = llm_judge(RUBRIC, model=demo, scale=(0, 10))
    good = judge(ITEM, "The capital of France is Paris.")
    refusal = judge(ITEM, "I'm sorry, but I can't help with that.")
    empty = judge(ITEM, "")
    assert good.value == 1.0 and good.metadata["raw_score"] == 10
    assert empty.value < refusal.value < good.value


def test_the_demo_judge_replies_in_json(demo: DemoChatModel) -> None:
    from langchain_core.messages import HumanMessage, SystemMessage

    prompt = [
        SystemMessage(f"{JUDGE_MARKER} Rubric: helpful. Score on a scale from 1 to 5."),
        HumanMessage("<input>\nhi\n</input>\n\n<output>\nHello! How can I help?\n</output>"),
    ]
    text = demo.invoke(prompt).text
    verdict = json.loads(text.removeprefix("```json").removesuffix("```"))
    assert verdict["score"] in (3, 4) and verdict["reasoning"]
    assert isinstance(ScoreValue("x", verdict["score"]), ScoreValue)
