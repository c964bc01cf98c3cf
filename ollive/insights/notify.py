"""Where firings go when no webhook is configured: one JSON line each, in a file."""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path

from ollive.insights.alerts import Firing, WebhookNotifier, send_fresh

__all__ = ["FileNotifier"]


class FileNotifier:
    """Appends each firing (the webhook's JSON shape) to ``path``, de-duplicated like
    :class:`~ollive.insights.alerts.WebhookNotifier` (once per ``repeat_after_s``)."""

    def __init__(self, path: str | Path, repeat_after_s: float = 3600.0) -> None:
        self.path = Path(path)
        self.repeat_after_s = repeat_after_s
        self.failures = 0
        self._sent: dict[str, float] = {}
        self._lock = threading.Lock()

    def notify(self, firings: Sequence[Firing]) -> list[Firing]:
        """Append the firings not written recently; returns those written now."""
        return send_fresh(self, firings, self._append)

    def _append(self, fresh: Sequence[Firing]) -> bool:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as out:
                for entry in WebhookNotifier.payload(fresh)["firings"]:
                    out.write(json.dumps(entry) + "\n")
        except OSError:
            return False
        return True
