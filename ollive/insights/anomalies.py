"""Anomalies in latency, error rate, cost and volume, per model or service.

Two detectors score each bucket against a baseline built only from earlier buckets:

- ``"zscore"``: a rolling z-score against the mean and standard deviation of the previous
  ``window`` buckets (a day of hourly buckets by default: it absorbs a diurnal swing).
- ``"seasonal"``: a robust z-score against the median and MAD of the same hour of day on
  earlier days of the same kind (weekday or weekend), falling back to every earlier day
  when fewer than ``min_history`` such days exist.

A bucket is anomalous when its score passes ``threshold`` in the metric's bad direction
(up for latency, error rate and cost; down for volume) and the change is material
(a relative floor on the scale keeps tiny absolute wiggles quiet).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from ollive.errors import ConfigError
from ollive.insights import _sources as s
from ollive.insights.filters import Filters, parse_duration

__all__ = [
    "ANOMALY_COLUMNS",
    "METRICS",
    "anomalies",
    "anomalies_expr",
    "column_nanmedian",
    "seasonal_scores",
    "zscore_scores",
]

#: metric -> (direction, absolute floor of the scale, relative floor of the scale)
METRICS: dict[str, tuple[str, float, float]] = {
    "latency": ("up", 1.0, 0.15),
    "error_rate": ("up", 0.02, 0.0),
    "cost": ("up", 0.25, 0.0),
    "volume": ("down", 0.2, 0.0),
}
ANOMALY_COLUMNS = (
    "bucket",
    "metric",
    "dimension",
    "value",
    "observed",
    "expected",
    "score",
    "detector",
)
_MIN_REQUESTS = 10  # latency and error rate of quieter buckets are not scored


def anomalies_expr(
    con: Any,
    filters: Filters | None = None,
    *,
    by: str = "model",
    bucket: str = "1h",
    lookback: str = "7d",
    **kw: Any,
) -> Any:
    """The Ibis expression of the series the detectors read: per bucket and ``by``,
    requests, errors, latency quantiles and cost, from ``lookback`` before the window."""
    f = Filters.of(filters, **kw)
    start, end = f.range()
    bucket_s = s.bucket_seconds(bucket)
    assert bucket_s is not None
    first = _floor(start - parse_duration(lookback), bucket_s)
    src = s.inference_source(con, Filters.of(f, start=first, end=end), bucket_s, (by,))
    measures = s.inference_measures(src, ("requests", "errors", "latency_q", "cost_usd"))
    measures = s.split_quantiles(measures, "latency_q", "latency", ("p50", "p95"), suffix="")
    return src.table.group_by(**src.keys(bucket_s, (by,))).aggregate(**measures)


def anomalies(
    con: Any,
    filters: Filters | None = None,
    *,
    metrics: tuple[str, ...] | list[str] = tuple(METRICS),
    by: str = "model",
    bucket: str = "1h",
    detector: str = "seasonal",
    threshold: float | None = None,
    lookback: str = "7d",
    **kw: Any,
) -> pd.DataFrame:
    """Anomalous buckets of the window (default: the last 24h, complete buckets only),
    scored against ``lookback`` of history. Columns: :data:`ANOMALY_COLUMNS` (``dimension``
    names ``by``, ``value`` is the model/service; ``observed`` vs ``expected`` baseline),
    most anomalous first. ``threshold`` defaults to 4 (zscore) or 5 (seasonal)."""
    unknown = set(metrics) - set(METRICS)
    if unknown or detector not in ("zscore", "seasonal"):
        raise ConfigError(
            f"metrics are {sorted(METRICS)} and detectors zscore|seasonal; got {metrics}, {detector!r}"
        )
    f = Filters.of(filters, **kw)
    start, end = f.range()
    bucket_s = s.bucket_seconds(bucket) or 3600
    raw = anomalies_expr(con, f, by=by, bucket=bucket, lookback=lookback).to_pandas()
    limit = threshold if threshold is not None else (4.0 if detector == "zscore" else 5.0)
    found = []
    first = pd.to_datetime(raw["bucket"], utc=True).min() if len(raw) else pd.Timestamp(end)
    for value, group in raw.groupby(by, sort=True):
        series = _complete(group, first, end, bucket_s)
        for metric in metrics:
            scored = _score(series, metric, detector)
            keep = (scored.index >= pd.Timestamp(start)) & (
                scored.index + timedelta(seconds=bucket_s) <= pd.Timestamp(end)
            )
            direction = METRICS[metric][0]
            hit = -scored["score"] if direction == "down" else scored["score"]
            rows = scored[keep & (hit >= limit)]
            for ts, row in rows.iterrows():
                found.append(
                    (
                        ts,
                        metric,
                        by,
                        value,
                        row["observed"],
                        row["expected"],
                        row["score"],
                        detector,
                    )
                )
    df = pd.DataFrame(found, columns=list(ANOMALY_COLUMNS))
    if df.empty:
        return df.astype({"observed": float, "expected": float, "score": float})
    return df.sort_values("score", key=abs, ascending=False, ignore_index=True)


def _floor(ts: datetime, seconds: int) -> datetime:
    epoch = int(ts.timestamp()) // seconds * seconds
    return datetime.fromtimestamp(epoch, UTC)


def _complete(
    group: pd.DataFrame, first: pd.Timestamp, end: datetime, bucket_s: int
) -> pd.DataFrame:
    """One row per bucket from the first bucket with data (any group) to ``end``; missing
    buckets in between are zero traffic."""
    index = pd.date_range(first, pd.Timestamp(end), freq=f"{bucket_s}s", inclusive="left")
    g = (
        group.assign(bucket=pd.to_datetime(group["bucket"], utc=True))
        .set_index("bucket")
        .sort_index()
    )
    g = g.reindex(index)
    requests = g["requests"].fillna(0).astype(float)
    enough = requests >= _MIN_REQUESTS
    return pd.DataFrame(
        {
            "volume": requests,
            "cost": g["cost_usd"].fillna(0.0).astype(float),
            "error_rate": (g["errors"].fillna(0) / requests.where(requests > 0)).where(enough),
            "latency": g["latency_p50"].astype(float).where(enough),
        },
        index=index,
    )


def _score(series: pd.DataFrame, metric: str, detector: str) -> pd.DataFrame:
    """Observed, expected and score of each bucket. Volume and cost are multiplicative
    (they follow traffic): they are scored on a log scale, so a 90% drop or a 3x jump
    counts the same at night as at peak."""
    values = series[metric]
    log = metric in ("volume", "cost")
    unit = 1.0 if metric == "volume" else 1000.0  # cost in milli-dollars before log1p
    x = np.log1p(values * unit) if log else values
    if detector == "zscore":
        expected, scale = zscore_scores(x)
    else:
        expected, scale = seasonal_scores(x, weekly=log)
    _, abs_floor, rel_floor = METRICS[metric]
    scale = np.maximum(scale, np.maximum(abs_floor, rel_floor * expected.abs()))
    if metric == "volume":  # over-dispersed Poisson noise (conversations come in bursts)
        scale = np.maximum(scale, 2.0 / np.sqrt(np.expm1(expected).clip(lower=0) + 1))
    elif metric == "error_rate":  # binomial noise of the bucket's own request count
        p = expected.clip(lower=0.01, upper=0.99)
        scale = np.maximum(scale, 1.5 * np.sqrt(p * (1 - p) / series["volume"].clip(lower=1)))
    shown = np.expm1(expected) / unit if log else expected
    return pd.DataFrame({"observed": values, "expected": shown, "score": (x - expected) / scale})


def zscore_scores(
    values: pd.Series, window: int = 24, min_periods: int = 24
) -> tuple[pd.Series, pd.Series]:
    """(expected, scale) of each point: mean and std of the previous ``window`` points."""
    history = values.shift(1).rolling(window, min_periods=min_periods)
    return history.mean(), history.std()


def column_nanmedian(matrix: np.ndarray) -> np.ndarray:
    """``np.nanmedian(matrix, axis=0)`` for a 2-D float array, without its warnings.

    The same values (NaN where a column holds no number), ~10x faster on the short, wide
    arrays the seasonal detector builds: one sort along the columns (NaNs sort last), then
    the middle one or two of each column's ``n`` numbers. ``np.nanmedian`` loops in Python
    over columns that hold a NaN, which is most of them here.
    """
    ordered = np.sort(matrix, axis=0)
    n = np.sum(~np.isnan(matrix), axis=0)
    cols = np.arange(matrix.shape[1])
    low = ordered[np.maximum(n - 1, 0) // 2, cols]
    high = ordered[n // 2, cols]  # < rows: n <= rows
    with np.errstate(all="ignore"):
        out = (low + high) / 2.0
    out[n == 0] = np.nan
    return out


def seasonal_scores(
    values: pd.Series, weekly: bool = True, min_history: int = 2
) -> tuple[pd.Series, pd.Series]:
    """(expected, scale) of each point of an hourly-or-finer series with a UTC
    DatetimeIndex: median and 1.4826 x MAD of the same time of day on earlier days (of the
    same kind, weekday or weekend, when ``weekly``). Points with fewer than
    ``min_history`` such earlier values are not scored (NaN)."""
    index = pd.DatetimeIndex(values.index)
    seconds = index.as_unit("s").asi8
    day = seconds // 86400
    days, row = np.unique(day, return_inverse=True)
    slots, column = np.unique(seconds % 86400, return_inverse=True)
    matrix = np.full((len(days), len(slots)), np.nan)
    matrix[row, column] = values.to_numpy(dtype=float)
    weekend = ((days + 3) % 7) >= 5  # 1970-01-01 was a Thursday
    expected = np.full(matrix.shape, np.nan)
    scale = np.full(matrix.shape, np.nan)
    for i in range(1, len(days)):
        base = matrix[:i][weekend[:i] == weekend[i]] if weekly else matrix[:i]
        enough = np.sum(~np.isnan(base), axis=0) >= min_history
        if not enough.any():
            continue
        with np.errstate(all="ignore"):
            median = column_nanmedian(base)
            mad = column_nanmedian(np.abs(base - median))
        expected[i] = np.where(enough, median, np.nan)
        scale[i] = np.where(enough, 1.4826 * mad, np.nan)
    return (
        pd.Series(expected[row, column], index=values.index),
        pd.Series(scale[row, column], index=values.index),
    )
