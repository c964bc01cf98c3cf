"""Prompt versions: how each version of each prompt template does (contract v1.1).

>>> import ollive
>>> con = ollive.connect()                                                     # doctest: +SKIP
>>> ollive.insights.prompts(con, window="14d")                                  # doctest: +SKIP
>>> ollive.insights.prompts(con, window="14d", name="support-answer", bucket="1d")  # doctest: +SKIP

One row per ``prompt_name`` and ``prompt_version`` (what ``ollive.prompt(...)``, the
LangChain handler or an OTLP span named): traffic, errors, latency, tokens, cost, when the
version was first and last seen, and the mean and count of every score given to its
inferences, as wide columns ``score.<name>`` and ``score_n.<name>`` (one row per version
reads best side by side in a notebook; ``df.filter(like="score.")`` picks the means).

Reads the raw inference table: the 5-minute aggregates have no prompt dimension. Scores
are joined by ``target_request_id`` to the inferences of the window (a score given after
the window ends still counts for its inference).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from ollive.insights import _sources as s
from ollive.insights.filters import Filters

__all__ = ["PROMPT_COLUMNS", "prompts", "prompts_expr", "score_names"]

_KEYS = ("prompt_name", "prompt_version")
#: the columns of :func:`prompts` before the score columns (``bucket`` first when bucketing)
PROMPT_COLUMNS = (
    *_KEYS,
    "prompt_hash",
    "templates",
    "requests",
    "errors",
    "error_rate",
    "latency_p50_ms",
    "latency_p95_ms",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "cost_usd",
    "mean_cost_usd",
    "first_seen",
    "last_seen",
)


def _inferences(
    con: Any, f: Filters, name: str | None, bucket_s: int | None, unprompted: bool
) -> ir.Table:
    """The window's inference rows (raw), with a ``bucket`` column when bucketing."""
    t = s.inference_source(con, f, None, (), force_raw=True).table
    if name is not None:
        t = t.filter(t.prompt_name == ibis.literal(str(name)))
    if not unprompted:
        t = t.filter((t.prompt_name != "") | (t.prompt_version != "") | (t.prompt_hash != ""))
    if bucket_s is not None:
        t = t.mutate(bucket=s.truncate(t.started_at, bucket_s))
    return t


def _measures(t: ir.Table) -> dict[str, Any]:
    requests = t.count()
    errors = t.count(where=t.status.isin(s.ERROR_STATUSES))
    cost = t.cost_usd.sum()
    return {
        "prompt_hash": t.prompt_hash.argmax(t.started_at),
        "templates": t.prompt_hash.nunique(where=t.prompt_hash != ""),
        "requests": requests,
        "errors": errors,
        "error_rate": s.ratio(errors, requests),
        "latency_p50_ms": t.latency_ms.quantile(0.5),
        "latency_p95_ms": t.latency_ms.quantile(0.95),
        "prompt_tokens": t.prompt_tokens.cast("int64").sum(),
        "completion_tokens": t.completion_tokens.cast("int64").sum(),
        "total_tokens": t.total_tokens.cast("int64").sum(),
        "cost_usd": cost,
        "mean_cost_usd": s.ratio(cost, requests),
        "first_seen": t.started_at.min(),
        "last_seen": t.started_at.max(),
    }


def _score_table(con: Any, f: Filters) -> ir.Table:
    """Scores that may target the window's inferences: of the project, given after its start."""
    start, _end = f.range()
    sc = s.cached_table(con, "scores")
    project = f.project or con.project
    sc = sc.filter(sc.timestamp >= ibis.literal(start))
    return sc.filter(sc.project == ibis.literal(project)) if project else sc


def score_names(con: Any, filters: Filters | None = None, **kw: Any) -> list[str]:
    """The names of the scores given since the window's start (runs one small query)."""
    sc = _score_table(con, Filters.of(filters, **kw))
    names = sc.select("name").distinct().order_by("name").to_pandas()["name"]
    return [str(n) for n in names]


def _score_columns(
    con: Any, f: Filters, t: ir.Table, keys: tuple[str, ...], names: Sequence[str]
) -> ir.Table:
    """Per group of ``keys``: ``score.<name>`` (mean) and ``score_n.<name>`` (count)."""
    sc = _score_table(con, f)
    sc = sc.filter(sc.name.isin([ibis.literal(str(n)) for n in names]))
    rows = t.select(scored=t.request_id, **{f"by_{k}": t[k] for k in keys})
    j = sc.join(rows, sc.target_request_id == rows["scored"])
    measures: dict[str, Any] = {}
    for n in names:
        mine = j.name == ibis.literal(str(n))
        measures[f"score.{n}"] = j.value.mean(where=mine)
        measures[f"score_n.{n}"] = j.count(where=mine)
    return j.group_by([f"by_{k}" for k in keys]).aggregate(**measures)


def prompts_expr(
    con: Any,
    filters: Filters | None = None,
    *,
    name: str | None = None,
    bucket: str | timedelta | None = None,
    scores: Sequence[str] | None = None,
    unprompted: bool = True,
    **kw: Any,
) -> ir.Table:
    """The Ibis expression of :func:`prompts` (same arguments). With ``scores=None`` it
    first runs one small query for the score names (:func:`score_names`)."""
    f = Filters.of(filters, **kw)
    bucket_s = s.bucket_seconds(bucket)
    t = _inferences(con, f, name, bucket_s, unprompted)
    keys = (("bucket",) if bucket_s is not None else ()) + _KEYS
    expr = t.group_by(list(keys)).aggregate(**_measures(t))
    names = list(score_names(con, f) if scores is None else scores)
    if names:
        per = _score_columns(con, f, t, keys, names)
        joined = expr.left_join(per, [expr[k] == per[f"by_{k}"] for k in keys])
        columns: dict[str, Any] = {}
        for n in names:
            # ClickHouse fills a left join's misses with 0 (join_use_nulls=0): a version
            # without this score must read NaN, not a mean of 0
            count = ibis.coalesce(joined[f"score_n.{n}"], 0)
            columns[f"score.{n}"] = ibis.ifelse(count > 0, joined[f"score.{n}"], ibis.null())
            columns[f"score_n.{n}"] = count
        expr = joined.select(*keys, *PROMPT_COLUMNS[2:], **columns)
    return expr.order_by([*keys[:-1], "first_seen", "prompt_version"])


def prompts(
    con: Any,
    filters: Filters | None = None,
    *,
    name: str | None = None,
    bucket: str | timedelta | None = None,
    scores: Sequence[str] | None = None,
    unprompted: bool = True,
    **kw: Any,
) -> pd.DataFrame:
    """Per prompt version in the window: one row per ``prompt_name``/``prompt_version``
    (only ``name=``'s versions if given), and per ``bucket`` (``"1d"``: a rollout day by
    day) when given. Ordered by prompt name, then by when each version was first seen.

    Columns: ``prompt_hash`` (the latest template hash seen) and ``templates`` (how many
    hashes: more than one means the template changed without a version bump), requests,
    errors, error_rate, latency_p50_ms, latency_p95_ms, prompt/completion/total tokens,
    cost_usd (total) and mean_cost_usd, first_seen, last_seen; then for each score name
    (``scores=``, default every name given since the window's start; ``()`` for none)
    ``score.<name>`` (mean value, NaN when none) and ``score_n.<name>`` (how many).

    Inferences without a prompt are one row with ``prompt_name`` and ``prompt_version``
    ``""`` (their share of the traffic); ``unprompted=False`` leaves them out. Filters as
    everywhere: ``window``/``start``/``end``, ``service``, ``provider``, ``model``, ``user``.
    """
    return prompts_expr(
        con, filters, name=name, bucket=bucket, scores=scores, unprompted=unprompted, **kw
    ).to_pandas()
