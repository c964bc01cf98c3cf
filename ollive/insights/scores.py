"""Scores: per score name, how many and how good, over time and by model.

>>> import ollive
>>> con = ollive.connect()                                        # doctest: +SKIP
>>> ollive.insights.scores(con, window="7d")                       # doctest: +SKIP
>>> ollive.insights.scores(con, bucket="1d", by="model")           # doctest: +SKIP
>>> ollive.insights.scores(con, window="14d", by="prompt_version")  # doctest: +SKIP

A score event (``ollive.score(...)``, an evaluator) names the event it scores
(``target_request_id``); grouping by ``model``, ``provider``, ``prompt_name`` or
``prompt_version`` joins it to that inference (read from a window one day wider at the
start, since an event is scored after it ran). A version means something only with its
prompt's name: ``by="prompt_version"`` groups by both (``prompt_name``, ``prompt_version``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from ollive.errors import ConfigError
from ollive.insights import _sources as s
from ollive.insights.filters import Filters

__all__ = ["SCORE_GROUPS", "scores", "scores_expr"]

#: what scores group by: their own columns, and the scored inference's (joined)
SCORE_GROUPS = {
    "source": "source",
    "service": "service",
    "user": "user_id",
    "model": "model",
    "provider": "provider",
    "prompt_name": "prompt_name",
    "prompt_version": "prompt_version",
}
_JOINED = ("model", "provider", "prompt_name", "prompt_version")
_PROMPT_KEYS = ("prompt_name", "prompt_version")


def _groups(by: str | None) -> tuple[str, ...]:
    """What ``by`` groups on: a prompt version goes with its prompt's name."""
    if by is None:
        return ()
    return _PROMPT_KEYS if by == "prompt_version" else (by,)


def scores_expr(
    con: Any,
    filters: Filters | None = None,
    *,
    name: str | None = None,
    bucket: str | timedelta | None = None,
    by: str | None = None,
    **kw: Any,
) -> ir.Table:
    """The Ibis expression of :func:`scores` (same arguments)."""
    if by is not None and by not in SCORE_GROUPS:
        raise ConfigError(f"group scores by one of {sorted(SCORE_GROUPS)}, not {by!r}")
    f = Filters.of(filters, **kw)
    bucket_s = s.bucket_seconds(bucket)
    t = f.apply(s.cached_table(con, "scores"), "timestamp", con.project,
                ignore=("provider", "model"))  # fmt: skip
    if name is not None:
        t = t.filter(t.name == ibis.literal(str(name)))
    groups = _groups(by)
    needs_join = by in _JOINED or f.model is not None or f.provider is not None
    if needs_join:
        start, end = f.range()
        wider = Filters.of(f, start=start - timedelta(days=1), end=end, user=None)
        inf = wider.apply(s.cached_table(con, "inference_logs"), "started_at", con.project)
        prompt = {g: inf[g] for g in groups if g in _PROMPT_KEYS}
        inf = inf.select(target=inf.request_id, model=inf.model, provider=inf.provider, **prompt)
        t = t.join(inf, t.target_request_id == inf.target)
    keys: dict[str, Any] = {"name": t.name}
    if bucket_s is not None:
        keys["bucket"] = s.truncate(t.timestamp, bucket_s)
    for group in groups:
        keys[group] = t[SCORE_GROUPS[group]]
    expr = t.group_by(**keys).aggregate(
        count=t.count(),
        mean=t.value.mean(),
        min=t.value.min(),
        p10=t.value.quantile(0.1),
        p50=t.value.quantile(0.5),
        p90=t.value.quantile(0.9),
        max=t.value.max(),
        share_positive=s.ratio(t.count(where=t.value > 0), t.count()),
        scored_events=t.target_request_id.nunique(),
    )
    return expr.order_by(list(keys))


def scores(
    con: Any,
    filters: Filters | None = None,
    *,
    name: str | None = None,
    bucket: str | timedelta | None = None,
    by: str | None = None,
    **kw: Any,
) -> pd.DataFrame:
    """Per score ``name`` (only ``name=`` if given): count, mean, min, p10/p50/p90, max,
    the share of values above 0 (thumbs up, passes) and the number of events scored; per
    ``bucket`` (``"1h"``, ``"1d"`` ...: the distribution over time) and/or ``by`` one of
    source, service, user, or the scored inference's model, provider, prompt_name or
    prompt_version (which groups by prompt_name and prompt_version)."""
    return scores_expr(con, filters, name=name, bucket=bucket, by=by, **kw).to_pandas()
