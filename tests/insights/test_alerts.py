"""Alert rules, evaluation, the webhook notifier with de-duplication, and the Ray actor."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest

import ollive.insights as oi
from ollive.errors import ConfigError
from ollive.store._ibis import Connection


class _Receiver(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []
    fail_next = 0

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if type(self).fail_next:
            type(self).fail_next -= 1
            self.send_response(500)
        else:
            type(self).received.append(body)
            self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def webhook() -> Iterator[tuple[str, type[_Receiver]]]:
    """A real HTTP server on 127.0.0.1 recording the JSON bodies posted to it."""
    handler = type("Receiver", (_Receiver,), {"received": [], "fail_next": 0})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", handler
    server.shutdown()
    server.server_close()


def test_rules_load_from_toml_and_yaml(tmp_path: Path) -> None:
    (tmp_path / "rules.toml").write_text(
        '[[rules]]\nname = "slow"\nmetric = "latency"\nby = "model"\n\n'
        '[[rules]]\nname = "errors"\nmetric = "error_rate"\ndetector = "zscore"\nfilters = { service = "bot" }\n'
    )
    (tmp_path / "rules.yaml").write_text(
        "rules:\n  - {name: cost, metric: cost, threshold: 5.0, detector: null}\n"
    )
    toml_rules = oi.load_rules(tmp_path / "rules.toml")
    assert [r.name for r in toml_rules] == ["slow", "errors"] and toml_rules[1].filters == {
        "service": "bot"
    }
    assert oi.load_rules(tmp_path / "rules.yaml")[0].threshold == 5.0
    with pytest.raises(ConfigError):
        oi.AlertRule("bad", metric="happiness")
    with pytest.raises(ConfigError):
        oi.AlertRule("no threshold", metric="cost", detector=None)


def test_detector_rules_fire_on_incidents_and_dedupe(
    seeded: Any, warehouse: Any, webhook: Any
) -> None:
    url, receiver = webhook
    con = Connection.from_warehouse(warehouse, project=seeded.project)
    burst = next(i for i in seeded.incidents if i.kind == "error_burst")
    rules = [
        oi.AlertRule("google errors", metric="error_rate", by="provider", window="3h"),
        oi.AlertRule("slow models", metric="latency", by="model", window="3h"),
    ]
    firings = oi.evaluate(con, rules, now=burst.end + timedelta(hours=1))
    assert {(f.rule, f.value) for f in firings} == {("google errors", "google")}
    notifier = oi.WebhookNotifier(url, repeat_after_s=3600)
    receiver.fail_next = 1
    assert notifier.notify(firings) == [] and notifier.failures == 1  # failed: retried next time
    assert notifier.notify(firings) == firings
    assert notifier.notify(firings) == []  # the same firing again: de-duplicated
    assert len(receiver.received) == 1
    body = receiver.received[0]
    assert "google" in body["text"] and body["blocks"][0]["type"] == "header"
    assert body["firings"][0]["rule"] == "google errors"


def test_threshold_rules(seeded: Any, warehouse: Any) -> None:
    con = Connection.from_warehouse(warehouse, project=seeded.project)
    rules = [
        oi.AlertRule(
            "p95 over 1ms",
            metric="latency",
            by="service",
            detector=None,
            threshold=1.0,
            window="1d",
        ),
        oi.AlertRule(
            "volume under 1",
            metric="volume",
            by="service",
            detector=None,
            threshold=1.0,
            window="1d",
        ),
    ]
    firings = oi.evaluate(con, rules, now=seeded.end)
    assert {f.value for f in firings if f.rule == "p95 over 1ms"} == {
        "support-bot", "search-assistant", "code-helper", "summarizer"
    }  # fmt: skip
    assert not [f for f in firings if f.rule == "volume under 1"]


@pytest.mark.slow
def test_alert_actor_notifies_periodically(ray_session: Any, tmp_path: Path, webhook: Any) -> None:
    import time

    from serve.alerts import AlertActor
    from tests._seed_dir import seed_directory

    url, receiver = webhook
    warehouse_url = seed_directory(tmp_path / "wh", events=20_000, days=1)
    rule = {"name": "any latency", "metric": "latency", "by": "provider", "detector": None,
            "threshold": 1.0, "window": "6h"}  # fmt: skip
    actor = AlertActor.remote(warehouse_url, [rule], url, interval_s=0.5)
    try:
        ray_session.get(actor.start.remote(), timeout=120)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not receiver.received:
            time.sleep(0.2)
        assert receiver.received, ray_session.get(actor.stats.remote())
        time.sleep(1.5)  # a few more evaluations: the same firings are not sent again
        assert len(receiver.received) == 1
        assert ray_session.get(actor.stats.remote())["runs"] >= 2
    finally:
        ray_session.get(actor.stop.remote())
        ray_session.kill(actor)
