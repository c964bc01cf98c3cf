"""Alert rules over the insights, evaluated on demand or periodically, sent to a webhook.

A rule watches one metric (latency, error_rate, cost, volume) per dimension (model,
provider, service) under optional filters, with a detector (``seasonal``/``zscore``, see
:mod:`ollive.insights.anomalies`) or a fixed threshold over the last ``window``:

>>> rules = [AlertRule("slow models", metric="latency", by="model", detector="seasonal"),
...          AlertRule("errors", metric="error_rate", threshold=0.1, window="15m")]
>>> firings = evaluate(con, rules)                     # doctest: +SKIP
>>> WebhookNotifier("https://hooks.slack.com/...").notify(firings)   # doctest: +SKIP

Rules also load from a TOML or YAML file (:func:`load_rules`), one ``[[rules]]`` table each.
The notifier posts Slack-compatible JSON and sends each firing once per ``repeat_after_s``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from ollive.errors import ConfigError
from ollive.insights import _sources as s
from ollive.insights.anomalies import METRICS, anomalies
from ollive.insights.filters import Filters

__all__ = ["AlertRule", "DedupingNotifier", "Firing", "WebhookNotifier", "evaluate", "load_rules"]

log = logging.getLogger(__name__)
_FILTER_KEYS = ("project", "service", "provider", "model", "user")


@dataclass(frozen=True)
class AlertRule:
    """One rule. With ``detector`` it fires on anomalous buckets of the last ``window``
    (``threshold`` is then the score, default per detector); without, it fires when the
    metric over ``window`` crosses ``threshold`` (above; below for volume)."""

    name: str
    metric: str
    by: str = "model"
    detector: str | None = "seasonal"
    threshold: float | None = None
    window: str = "2h"
    bucket: str = "1h"
    lookback: str = "7d"
    filters: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.metric not in METRICS:
            raise ConfigError(f"rule {self.name!r}: metric must be one of {sorted(METRICS)}")
        if self.detector not in (None, "seasonal", "zscore"):
            raise ConfigError(f"rule {self.name!r}: detector must be seasonal, zscore or none")
        if self.detector is None and self.threshold is None:
            raise ConfigError(f"rule {self.name!r}: a threshold rule needs `threshold`")
        unknown = set(self.filters) - set(_FILTER_KEYS)
        if unknown:
            raise ConfigError(f"rule {self.name!r}: unknown filters {sorted(unknown)}")


@dataclass(frozen=True)
class Firing:
    """A rule that fired for one dimension value (and bucket, for detector rules)."""

    rule: str
    metric: str
    dimension: str
    value: str
    observed: float
    expected: float | None
    score: float | None
    bucket: datetime | None
    at: datetime

    @property
    def fingerprint(self) -> str:
        """What makes two firings "the same" for de-duplication."""
        when = self.bucket.isoformat() if self.bucket is not None else ""
        return f"{self.rule}|{self.dimension}={self.value}|{when}"

    def text(self) -> str:
        base = f"[{self.rule}] {self.metric} of {self.dimension} {self.value}: {self.observed:.4g}"
        if self.expected is not None:
            base += f" (expected {self.expected:.4g}, score {self.score:.1f})"
        return base + (f" at {self.bucket:%Y-%m-%d %H:%M} UTC" if self.bucket is not None else "")


def load_rules(path: str | Path) -> list[AlertRule]:
    """Rules from a ``.toml``, ``.yaml``/``.yml`` or ``.json`` file: a top-level ``rules``
    list of tables with the :class:`AlertRule` fields."""
    path = Path(path)
    text = path.read_text("utf-8")
    if path.suffix == ".toml":
        import tomllib

        data = tomllib.loads(text)
    elif path.suffix in (".yaml", ".yml"):
        import yaml

        data = yaml.safe_load(text)
    elif path.suffix == ".json":
        import json

        data = json.loads(text)
    else:
        raise ConfigError(f"alert rules file {path} must be .toml, .yaml or .json")
    try:
        return [AlertRule(**entry) for entry in (data or {}).get("rules", [])]
    except TypeError as exc:
        raise ConfigError(f"{path}: {exc}") from exc


def evaluate(con: Any, rules: Iterable[AlertRule], now: datetime | None = None) -> list[Firing]:
    """Evaluate every rule once; the firings, most severe first within each rule."""
    end = now or datetime.now(UTC)
    firings: list[Firing] = []
    for rule in rules:
        f = Filters.of(None, window=rule.window, end=end, **rule.filters)
        firings.extend(
            _detect(con, rule, f, end) if rule.detector else _threshold(con, rule, f, end)
        )
    return firings


def _detect(con: Any, rule: AlertRule, f: Filters, now: datetime) -> list[Firing]:
    df = anomalies(con, f, metrics=[rule.metric], by=rule.by, bucket=rule.bucket,
                   detector=rule.detector or "seasonal", threshold=rule.threshold, lookback=rule.lookback)  # fmt: skip
    return [
        Firing(
            rule.name,
            rule.metric,
            rule.by,
            str(r.value),
            float(r.observed),
            float(r.expected),
            float(r.score),
            r.bucket.to_pydatetime(),
            now,
        )  # fmt: skip
        for r in df.itertuples()
    ]


def _threshold(con: Any, rule: AlertRule, f: Filters, now: datetime) -> list[Firing]:
    src = s.inference_source(con, f, None, (rule.by,))
    measures = s.inference_measures(src, ("requests", "errors", "latency_q", "cost_usd"))
    df = src.table.group_by(**src.keys(None, (rule.by,))).aggregate(**measures).to_pandas()
    value_of = {
        "latency": lambda r: float(r.latency_q[s.P["p95"]]) if len(r.latency_q) else 0.0,
        "error_rate": lambda r: r.errors / r.requests if r.requests else 0.0,
        "cost": lambda r: float(r.cost_usd),
        "volume": lambda r: float(r.requests),
    }[rule.metric]
    below = METRICS[rule.metric][0] == "down"
    out = []
    for r in df.itertuples():
        observed = value_of(r)
        assert rule.threshold is not None
        if (observed < rule.threshold) if below else (observed > rule.threshold):
            out.append(
                Firing(
                    rule.name,
                    rule.metric,
                    rule.by,
                    str(getattr(r, rule.by)),
                    observed,
                    None,
                    None,
                    None,
                    now,
                )
            )
    return out


class DedupingNotifier:
    """What every notifier shares: a firing with the same fingerprint is sent again only
    after ``repeat_after_s``; a failed send is counted (``failures``) and retried at the
    next :meth:`notify`. Subclasses implement :meth:`_send`."""

    def __init__(self, repeat_after_s: float = 3600.0) -> None:
        self.repeat_after_s = repeat_after_s
        self.failures = 0
        self._sent: dict[str, float] = {}
        self._lock = threading.Lock()

    def notify(self, firings: Sequence[Firing]) -> list[Firing]:
        """Send the firings not sent recently; returns those sent now."""
        now = time.monotonic()
        with self._lock:
            fresh = [
                f
                for f in firings
                if now - self._sent.get(f.fingerprint, -1e18) >= self.repeat_after_s
            ]
            if not fresh:
                return []
            if not self._send(fresh):
                self.failures += 1
                return []
            for f in fresh:
                self._sent[f.fingerprint] = now
            return fresh

    def _send(self, fresh: Sequence[Firing]) -> bool:
        raise NotImplementedError


class WebhookNotifier(DedupingNotifier):
    """Posts firings as Slack-compatible JSON (``{"text": ..., "blocks": [...]}``).

    A firing with the same fingerprint is sent again only after ``repeat_after_s``;
    a failed post is logged and retried at the next :meth:`notify`. ``transport`` is an
    optional httpx transport (tests).
    """

    def __init__(
        self,
        url: str,
        repeat_after_s: float = 3600.0,
        timeout_s: float = 10.0,
        transport: Any = None,
    ) -> None:
        super().__init__(repeat_after_s)
        self.url = url
        self._client = httpx.Client(timeout=timeout_s, transport=transport)

    def _send(self, fresh: Sequence[Firing]) -> bool:
        try:
            response = self._client.post(self.url, json=self.payload(fresh))
            response.raise_for_status()
        except httpx.HTTPError as exc:
            log.warning("alert webhook %s failed (%s); will retry", self.url, exc)
            return False
        return True

    @staticmethod
    def payload(firings: Sequence[Firing]) -> dict[str, Any]:
        """The Slack-compatible message for ``firings`` (``firings`` holds the raw data)."""
        lines = [f.text() for f in firings]
        summary = f"Ollive: {len(firings)} alert(s) firing"
        return {
            "text": summary + "\n" + "\n".join(lines),
            "blocks": [
                {"type": "header", "text": {"type": "plain_text", "text": summary}},
                *({"type": "section", "text": {"type": "mrkdwn", "text": line}} for line in lines),
            ],
            "firings": [_jsonable(f) for f in firings],
        }

    def close(self) -> None:
        self._client.close()


def _jsonable(firing: Firing) -> dict[str, Any]:
    data = asdict(firing)
    for key, value in data.items():
        if isinstance(value, datetime):
            data[key] = value.isoformat()
    return {**data, "fingerprint": firing.fingerprint}
