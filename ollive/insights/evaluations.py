"""Evaluation results: datasets, experiment runs, per-item results, comparisons, online rules.

>>> import ollive
>>> con = ollive.connect()                                                  # doctest: +SKIP
>>> ollive.insights.experiment_runs(con)                  # newest first, mean score per name
>>> ollive.insights.experiment_results(con, "exp-…")      # one row per item, a column per score
>>> ollive.insights.compare_runs(con, "exp-a", "exp-b")   # paired deltas + bootstrap CIs
>>> ollive.insights.evaluation_state(con)                 # online rules: watermark, backlog

What ``ollive.evaluate`` writes is read here (the dashboard's Datasets & Experiments page
and the notebooks use the same functions). An experiment's scores are ``score`` events whose
``session_id`` is the run id; every read uses FINAL (the tables replace rows on rewrite).
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from ollive.errors import ConfigError
from ollive.insights import _sources as s
from ollive.insights.filters import Filters

__all__ = [
    "ORIGINS",
    "RESULT_COLUMNS",
    "SCORE_ORIGINS",
    "compare_runs",
    "dataset_versions",
    "decode_json",
    "datasets",
    "evaluation_state",
    "experiment_results",
    "experiment_runs",
    "run_scores_expr",
    "run_summary",
    "scores_by_origin",
    "scores_by_origin_expr",
]

RESULT_COLUMNS = (
    "item_id",
    "input",
    "expected_output",
    "output",
    "error",
    "attempts",
    "latency_ms",
    "cost_usd",
    "trace_id",
    "request_id",
)
_PSEUDO_SCORES = ("latency_ms", "cost_usd")  # compared like scores (lower is better)


def _final(con: Any, name: str) -> ir.Table:
    t = con.table(name)
    return t.filter(t.project == ibis.literal(con.project)) if con.project else t


def _sql_final(con: Any, table: str, where: str = "1") -> pd.DataFrame:
    from ollive.store.quoting import sql_literal

    scope = f"project = {sql_literal(con.project)}" if con.project else "1"
    return con.warehouse.query_df(f"SELECT * FROM {table} FINAL WHERE {scope} AND ({where})")


def datasets(con: Any) -> pd.DataFrame:
    """Every dataset: project, name, latest version, items, created, updated, description."""
    df = _sql_final(con, "datasets")
    if df.empty:
        return pd.DataFrame(
            columns=["project", "name", "version", "items", "created_at", "updated_at",
                     "description"]
        )  # fmt: skip
    df = df.sort_values("version")
    out = df.groupby(["project", "name"], as_index=False).agg(
        version=("version", "max"),
        items=("items_total", "last"),
        created_at=("created_at", "min"),
        updated_at=("created_at", "max"),
        description=("description", "last"),
    )
    return out.sort_values(["updated_at", "name"], ascending=[False, True]).reset_index(drop=True)


def dataset_versions(con: Any, name: str) -> pd.DataFrame:
    """The versions of dataset ``name``: when, how many items added, total, and the source."""
    from ollive.store.quoting import sql_literal

    df = _sql_final(con, "datasets", f"name = {sql_literal(name)}")
    return df.sort_values("version").reset_index(drop=True)


def experiment_runs(con: Any, dataset: str | None = None) -> pd.DataFrame:
    """Every experiment run (newest first) with its counts and its mean value per score."""
    from ollive.store.quoting import sql_literal

    where = f"dataset = {sql_literal(dataset)}" if dataset else "1"
    runs = _sql_final(con, "experiment_runs", where)
    columns = ["run_id", "name", "dataset", "dataset_version", "status", "items", "succeeded",
               "failed", "started_at", "finished_at", "evaluators"]  # fmt: skip
    if runs.empty:
        return pd.DataFrame(columns=columns)
    runs = runs.sort_values("started_at", ascending=False)[columns].reset_index(drop=True)
    means = _score_means(con, runs["run_id"].tolist())
    if not means.empty:
        wide = means.pivot(index="run_id", columns="name", values="mean")
        wide.columns = [f"score.{c}" for c in wide.columns]
        runs = runs.merge(wide, left_on="run_id", right_index=True, how="left")
    latency = _sql_final(
        con,
        "experiment_results",
        "run_id IN (" + ",".join(_lit(r) for r in runs["run_id"]) + ")",
    )
    if not latency.empty:
        agg = latency.groupby("run_id").agg(
            latency_p50_ms=("latency_ms", "median"), cost_usd=("cost_usd", "sum")
        )
        runs = runs.merge(agg, left_on="run_id", right_index=True, how="left")
    return runs


def run_scores_expr(con: Any, run_ids: list[str]) -> ir.Table:
    """The score events of the runs ``run_ids`` (their ``session_id``), one per item and name."""
    t = _final(con, "scores")
    t = t.filter(t.session_id.isin([ibis.literal(r) for r in run_ids]))
    return t.select(
        run_id=t.session_id,
        target_request_id=t.target_request_id.cast("string"),
        request_id=t.request_id.cast("string"),
        name=t.name,
        value=t.value,
        comment=t.comment,
        metadata=t.metadata,
    )


def _run_scores(con: Any, run_ids: list[str]) -> pd.DataFrame:
    """Scores of the runs, one row per (run, score request id): FINAL collapses rewrites."""
    if not run_ids:
        return pd.DataFrame(columns=["run_id", "item_id", "name", "value", "comment"])
    df = _sql_final(con, "scores", "session_id IN (" + ",".join(_lit(r) for r in run_ids) + ")")
    if df.empty:
        return pd.DataFrame(columns=["run_id", "item_id", "name", "value", "comment"])
    df = df.drop_duplicates("request_id")
    df["item_id"] = df["conversation_id"].str.split("/", n=1).str[1]
    return df.rename(columns={"session_id": "run_id"})[
        ["run_id", "item_id", "name", "value", "comment"]
    ]


def _score_means(con: Any, run_ids: list[str]) -> pd.DataFrame:
    df = _run_scores(con, run_ids)
    if df.empty:
        return pd.DataFrame(columns=["run_id", "name", "mean", "n"])
    return df.groupby(["run_id", "name"], as_index=False).agg(
        mean=("value", "mean"), n=("value", "size")
    )


def experiment_results(con: Any, run_id: str) -> pd.DataFrame:
    """One row per item of the run: :data:`RESULT_COLUMNS` and one ``score.<name>`` column
    per score (and ``comment.<name>`` where evaluators explained themselves)."""
    from ollive.store.quoting import sql_literal

    results = _sql_final(con, "experiment_results", f"run_id = {sql_literal(run_id)}")
    if results.empty:
        return pd.DataFrame(columns=list(RESULT_COLUMNS))
    run = _sql_final(con, "experiment_runs", f"run_id = {sql_literal(run_id)}")
    items = pd.DataFrame(columns=["item_id", "input", "expected_output"])
    if not run.empty:
        ds = str(run.iloc[0]["dataset"])
        items = _sql_final(
            con,
            "dataset_items",
            f"dataset = {sql_literal(ds)} AND version <= {int(run.iloc[0]['dataset_version'])}",
        )[["item_id", "input", "expected_output"]]
    out = results.merge(items, on="item_id", how="left")
    for column in ("input", "expected_output", "output"):
        out[column] = out[column].map(decode_json)
    out = out[list(RESULT_COLUMNS)]
    scores = _run_scores(con, [run_id])
    if not scores.empty:
        wide = scores.pivot_table(index="item_id", columns="name", values="value", aggfunc="last")
        wide.columns = [f"score.{c}" for c in wide.columns]
        out = out.merge(wide, left_on="item_id", right_index=True, how="left")
        notes = scores[scores["comment"].fillna("") != ""]
        if not notes.empty:
            text = notes.pivot_table(
                index="item_id", columns="name", values="comment", aggfunc="last"
            )
            text.columns = [f"comment.{c}" for c in text.columns]
            out = out.merge(text, left_on="item_id", right_index=True, how="left")
    return out.sort_values("item_id").reset_index(drop=True)


def run_summary(con: Any, run_id: str, *, n_boot: int = 2_000, seed: int = 0) -> pd.DataFrame:
    """Per score name (and latency, cost): items, mean, 95% bootstrap CI of the mean."""
    results = experiment_results(con, run_id)
    rows = []
    for column in [c for c in results.columns if c.startswith("score.")] + list(_PSEUDO_SCORES):
        values = pd.to_numeric(results[column], errors="coerce").dropna().to_numpy(float)
        if values.size == 0:
            continue
        low, high = _bootstrap_ci(values, n_boot, seed)
        rows.append(
            {"score": column.removeprefix("score."), "n": int(values.size),
             "mean": float(values.mean()), "ci_low": low, "ci_high": high}
        )  # fmt: skip
    return pd.DataFrame(rows, columns=["score", "n", "mean", "ci_low", "ci_high"])


def compare_runs(
    con: Any, run_a: str, run_b: str, *, n_boot: int = 2_000, seed: int = 0
) -> pd.DataFrame:
    """Paired per-item differences ``delta = b - a`` and, per score, the mean delta with its
    95% bootstrap confidence interval (resampling the items both runs scored).

    Columns: ``level`` ("item" or "aggregate"), ``score``, ``item_id`` ("*" on aggregate
    rows), ``a``, ``b``, ``delta``, ``ci_low``, ``ci_high``, ``n``, and on aggregate rows
    ``improved``/``regressed`` (items whose delta is > 0 / < 0; for latency and cost lower
    is better, so the sign of ``delta`` reads the other way).
    """
    a = experiment_results(con, run_a)
    b = experiment_results(con, run_b)
    names = sorted(
        {c for c in a.columns if c.startswith("score.")}
        | {c for c in b.columns if c.startswith("score.")}
    ) + list(_PSEUDO_SCORES)
    items_rows: list[dict[str, Any]] = []
    aggregate_rows: list[dict[str, Any]] = []
    for column in names:
        left = a.set_index("item_id")[column] if column in a.columns else pd.Series(dtype=float)
        right = b.set_index("item_id")[column] if column in b.columns else pd.Series(dtype=float)
        pair = pd.concat(
            [pd.to_numeric(left, errors="coerce"), pd.to_numeric(right, errors="coerce")],
            axis=1,
            keys=["a", "b"],
        )
        score = column.removeprefix("score.")
        for item_id, row in pair.iterrows():
            items_rows.append(
                {"level": "item", "score": score, "item_id": item_id, "a": row["a"],
                 "b": row["b"], "delta": row["b"] - row["a"], "n": 1}
            )  # fmt: skip
        both = pair.dropna()
        if both.empty:
            continue
        deltas = (both["b"] - both["a"]).to_numpy(float)
        low, high = _bootstrap_ci(deltas, n_boot, seed)
        aggregate_rows.append(
            {"level": "aggregate", "score": score, "item_id": "*",
             "a": float(both["a"].mean()), "b": float(both["b"].mean()),
             "delta": float(deltas.mean()), "ci_low": low, "ci_high": high,
             "n": int(deltas.size), "improved": int((deltas > 0).sum()),
             "regressed": int((deltas < 0).sum())}
        )  # fmt: skip
    columns = ["level", "score", "item_id", "a", "b", "delta", "ci_low", "ci_high", "n",
               "improved", "regressed"]  # fmt: skip
    out = pd.DataFrame(aggregate_rows + items_rows, columns=columns)
    return out.astype({"n": "Int64", "improved": "Int64", "regressed": "Int64"})


def evaluation_state(con: Any) -> pd.DataFrame:
    """The online-evaluation rules: watermark, totals scored/skipped/errors, backlog, judge
    calls and cost, and how far the watermark trails now (``lag_s``)."""
    df = con.warehouse.query_df("SELECT * FROM evaluation_state FINAL ORDER BY rule")
    if df.empty:
        return pd.DataFrame(
            columns=["rule", "watermark", "scored", "skipped", "errors", "backlog",
                     "judge_calls", "judge_cost_usd", "updated_at", "lag_s"]
        )  # fmt: skip
    now = pd.Timestamp.now(tz="UTC")
    watermark = pd.to_datetime(df["watermark"], utc=True)
    df["lag_s"] = (now - watermark).dt.total_seconds()
    return df.reset_index(drop=True)


def _bootstrap_ci(values: np.ndarray, n_boot: int, seed: int) -> tuple[float, float]:
    """The 95% percentile bootstrap interval of the mean of ``values``."""
    if values.size == 1 or n_boot < 1:
        return float(values.mean()), float(values.mean())
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, values.size, size=(n_boot, values.size))
    means = values[idx].mean(axis=1)
    return float(np.quantile(means, 0.025)), float(np.quantile(means, 0.975))


def decode_json(text: Any) -> Any:
    """A stored JSON text column's value: decoded, ``None`` when empty, as is when not JSON."""
    if not isinstance(text, str) or text == "":
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def _lit(value: Any) -> str:
    from ollive.store.quoting import sql_literal

    return sql_literal(str(value))


# --- scores by where they come from ---------------------------------------------------------
#: the evaluator origins and the service their score events carry ("app": any other service,
#: the application's own feedback and evaluations)
ORIGINS = {"experiments": "ollive-experiments", "online": "ollive-online-eval"}
SCORE_ORIGINS = ("app", "experiments", "online")


def scores_by_origin_expr(
    con: Any,
    filters: Filters | None = None,
    *,
    source: str | None = None,
    origin: str | None = None,
    bucket: str | timedelta | None = None,
    **kw: Any,
) -> ir.Table:
    """The Ibis expression of :func:`scores_by_origin` (same arguments)."""
    if origin is not None and origin not in SCORE_ORIGINS:
        raise ConfigError(f"origin is one of {list(SCORE_ORIGINS)}, not {origin!r}")
    f = Filters.of(filters, **kw)
    t = f.apply(s.cached_table(con, "scores"), "timestamp", con.project,
                ignore=("provider", "model"))  # fmt: skip
    if f.model is not None or f.provider is not None:  # the scored inference's, as scores()
        start, end = f.range()
        wider = Filters.of(f, start=start - timedelta(days=1), end=end, user=None)
        inf = wider.apply(s.cached_table(con, "inference_logs"), "started_at", con.project)
        inf = inf.select(target=inf.request_id)
        t = t.join(inf, t.target_request_id == inf.target)
    t = t.mutate(
        origin=ibis.cases(
            *[(t.service == ibis.literal(service), o) for o, service in ORIGINS.items()],
            else_="app",
        )
    )
    if source is not None:
        t = t.filter(t.source == ibis.literal(str(source)))
    if origin == "app":
        t = t.filter(~t.service.isin([ibis.literal(v) for v in ORIGINS.values()]))
    elif origin is not None:
        t = t.filter(t.service == ibis.literal(ORIGINS[origin]))
    keys: dict[str, Any] = {"name": t.name}
    bucket_s = s.bucket_seconds(bucket)
    if bucket_s is not None:
        keys["bucket"] = s.truncate(t.timestamp, bucket_s)
    keys.update(source=t.source, origin=t.origin)
    expr = t.group_by(**keys).aggregate(
        count=t.count(),
        mean=t.value.mean(),
        p10=t.value.quantile(0.1),
        p50=t.value.quantile(0.5),
        p90=t.value.quantile(0.9),
        share_positive=s.ratio(t.count(where=t.value > 0), t.count()),
        scored_events=t.target_request_id.nunique(),
    )
    return expr.order_by(list(keys))


def scores_by_origin(
    con: Any,
    filters: Filters | None = None,
    *,
    source: str | None = None,
    origin: str | None = None,
    bucket: str | timedelta | None = None,
    **kw: Any,
) -> pd.DataFrame:
    """Per score name, ``source`` (user, model, human) and evaluator ``origin``
    ("experiments": an experiment's evaluators, "online": the online evaluator's rules,
    "app": every other service's scores) and per ``bucket`` if given: count, mean,
    p10/p50/p90, the share above 0 and the events scored. ``source=``/``origin=`` keep only
    that one; filters as :func:`~ollive.insights.scores` (window, service, user, and the
    scored inference's model and provider)."""
    return scores_by_origin_expr(
        con, filters, source=source, origin=origin, bucket=bucket, **kw
    ).to_pandas()
