"""The detectors find the synthetic incidents and stay quiet on the diurnal/weekly swing."""

from __future__ import annotations

import warnings
from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import ollive.insights as oi
from ollive.insights.anomalies import column_nanmedian
from ollive.store._ibis import Connection

# which metric shows each injected incident
_METRIC = {
    "latency_spike": "latency",
    "error_burst": "error_rate",
    "volume_drop": "volume",
    "cost_jump": "cost",
}


def _during(df: pd.DataFrame, start: Any, end: Any) -> pd.Series:
    return (df["bucket"] >= pd.Timestamp(start)) & (df["bucket"] < pd.Timestamp(end))


@pytest.fixture(scope="module")
def found(seeded: Any, warehouse: Any) -> dict[tuple[str, str], pd.DataFrame]:
    con = Connection.from_warehouse(warehouse, project=seeded.project)
    out = {}
    for detector in ("seasonal", "zscore"):
        for by in ("model", "provider", "service"):
            out[detector, by] = oi.anomalies(
                con, start=seeded.start, end=seeded.end, by=by, detector=detector
            )
    return out


@pytest.mark.parametrize("kind", sorted(_METRIC))
def test_seasonal_detector_finds_each_incident(seeded: Any, found: Any, kind: str) -> None:
    incident = next(i for i in seeded.incidents if i.kind == kind)
    df = found["seasonal", incident.dimension]
    hits = df[(df["value"] == incident.value) & (df["metric"] == _METRIC[kind])]
    assert _during(hits, incident.start, incident.end).any(), (incident, hits)


@pytest.mark.parametrize("kind", ["latency_spike", "error_burst"])
def test_zscore_detector_finds_rate_incidents(seeded: Any, found: Any, kind: str) -> None:
    incident = next(i for i in seeded.incidents if i.kind == kind)
    df = found["zscore", incident.dimension]
    hits = df[(df["value"] == incident.value) & (df["metric"] == _METRIC[kind])]
    assert _during(hits, incident.start, incident.end).any(), (incident, hits)


@pytest.mark.parametrize("detector", ["seasonal", "zscore"])
def test_quiet_outside_incidents(seeded: Any, found: Any, detector: str) -> None:
    """Every flagged bucket falls in an incident (seen through any dimension): the diurnal
    and weekly swing of normal traffic raises nothing."""
    for by in ("model", "provider", "service"):
        df = found[detector, by]
        explained = pd.Series(False, index=df.index)
        for incident in seeded.incidents:
            explained |= _during(df, incident.start, min(incident.end, seeded.end))
        assert explained.all(), df[~explained]


def test_anomaly_columns_and_window(seeded: Any, warehouse: Any) -> None:
    con = Connection.from_warehouse(warehouse, project=seeded.project)
    spike = next(i for i in seeded.incidents if i.kind == "latency_spike")
    df = oi.anomalies(con, start=spike.start - timedelta(hours=3), end=spike.end + timedelta(hours=3),
                      metrics=["latency"], by="model", lookback="7d")  # fmt: skip
    assert list(df.columns) == list(oi.ANOMALY_COLUMNS)
    assert set(df["value"]) == {"claude-sonnet-4"} and (df["observed"] > 3 * df["expected"]).all()


@settings(max_examples=300, deadline=None)
@given(
    hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=12),
        elements=st.one_of(
            st.floats(allow_nan=True, allow_infinity=True, width=64),
            st.sampled_from([0.0, 1.0, 2.0, np.nan]),  # ties and empty columns
        ),
    )
)
def test_column_nanmedian_is_numpys_nanmedian(matrix: np.ndarray) -> None:
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy warns on all-NaN columns
        expected = np.nanmedian(matrix, axis=0)
    np.testing.assert_array_equal(column_nanmedian(matrix), expected)
