"""The detectors find the synthetic incidents and stay quiet on the diurnal/weekly swing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pandas as pd
import pytest

import ollive.insights as oi
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
