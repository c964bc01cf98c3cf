"""The alert actor: evaluates alert rules periodically and notifies a webhook.

A thin Ray actor around :mod:`ollive.insights.alerts`; it connects to the warehouse the
platform uses (``ray://warehouse`` when the embedded platform runs, or any URL).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import ray

__all__ = ["AlertActor"]

log = logging.getLogger(__name__)


@ray.remote(num_cpus=0, max_restarts=-1, max_concurrency=4)
class AlertActor:
    """Holds rules, a webhook notifier and a connection; ``start`` runs the loop."""

    def __init__(
        self,
        warehouse_url: str | None,
        rules: list[dict[str, Any]],
        webhook_url: str,
        interval_s: float = 60.0,
        project: str | None = None,
        repeat_after_s: float = 3600.0,
        log_path: str | None = None,
    ) -> None:
        from ollive.insights.alerts import AlertRule, WebhookNotifier
        from ollive.store import connect

        self._con = connect(warehouse_url, project=project)
        self._rules = [AlertRule(**r) for r in rules]
        if webhook_url:
            self._notifier: Any = WebhookNotifier(webhook_url, repeat_after_s=repeat_after_s)
        else:  # no webhook configured: firings are appended to a JSON-lines file
            from ollive.insights.notify import FileNotifier

            self._notifier = FileNotifier(log_path or "alerts.log", repeat_after_s=repeat_after_s)
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._runs = 0

    def run_once(self) -> list[str]:
        """Evaluate every rule now; the texts of the firings sent (not de-duplicated)."""
        from ollive.insights.alerts import evaluate

        sent = self._notifier.notify(evaluate(self._con, self._rules))
        self._runs += 1
        return [f.text() for f in sent]

    def start(self) -> None:
        """Evaluate every ``interval_s`` seconds in a background thread (idempotent)."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._loop, name="ollive-alerts", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def stats(self) -> dict[str, int]:
        return {"runs": self._runs, "failures": self._notifier.failures}

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:  # keep evaluating: a failed run is logged, the next one retries
                log.exception("alert evaluation failed")
            self._stop.wait(self._interval_s)
