"""The online-evaluation actor: steps :class:`ollive.evaluate.online.OnlineEvaluator` in a loop.

A thin Ray actor. It starts its loop in the constructor, so when Ray restarts it after a
crash or a kill (``max_restarts=-1``) it carries on by itself from the watermark saved in
the warehouse. Judges named ``model = "demo"`` in the rules file use the offline demo model.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import ray

__all__ = ["EVALUATOR_ACTOR", "OnlineEvaluatorActor", "demo_models"]

log = logging.getLogger(__name__)

EVALUATOR_ACTOR = "online-evaluator"


def demo_models(seed: int = 0) -> dict[str, Any]:
    """The chat models a rules file can name: ``demo`` (deterministic, offline, instant)."""
    from ollive.chat import DemoChatModel

    judge = DemoChatModel(seed=seed, latency_scale=0.0, error_rate=0.0, timeout_rate=0.0)
    return {"demo": judge}


@ray.remote(num_cpus=0, max_restarts=-1, max_concurrency=4)
class OnlineEvaluatorActor:
    """Holds the rules and a warehouse connection; evaluates every ``interval_s`` seconds."""

    def __init__(
        self,
        warehouse_url: str | None,
        rules_file: str,
        interval_s: float = 10.0,
        options: dict[str, Any] | None = None,
    ) -> None:
        from ollive.evaluate.online import OnlineEvaluator, load_rules
        from ollive.store import open_warehouse

        rules = load_rules(rules_file, models=demo_models())
        self._evaluator = OnlineEvaluator(open_warehouse(warehouse_url), rules, **(options or {}))
        self._interval_s = interval_s
        self._steps = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="ollive-online-eval", daemon=True)
        self._thread.start()

    def step(self) -> list[dict[str, Any]]:
        """One step now (besides the loop's); what each rule did."""
        from dataclasses import asdict

        return [asdict(r) for r in self._evaluator.step()]

    def stats(self) -> dict[str, Any]:
        return {"steps": self._steps, "rules": [r.name for r in self._evaluator.rules]}

    def ready(self) -> bool:
        return True

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self._evaluator.step()
                self._steps += 1
            except Exception:  # keep going: the next step retries from the saved watermark
                log.exception("online evaluation step failed")
            self._stop.wait(self._interval_s)
