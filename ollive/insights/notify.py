"""Where firings go when no webhook is configured: one JSON line each, in a file."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from ollive.insights.alerts import DedupingNotifier, Firing, WebhookNotifier

__all__ = ["FileNotifier"]


class FileNotifier(DedupingNotifier):
    """Appends each firing (the webhook's JSON shape) to ``path``, de-duplicated like
    :class:`~ollive.insights.alerts.WebhookNotifier` (once per ``repeat_after_s``)."""

    def __init__(self, path: str | Path, repeat_after_s: float = 3600.0) -> None:
        super().__init__(repeat_after_s)
        self.path = Path(path)

    def _send(self, fresh: Sequence[Firing]) -> bool:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as out:
                for entry in WebhookNotifier.payload(fresh)["firings"]:
                    out.write(json.dumps(entry) + "\n")
        except OSError:
            return False
        return True
