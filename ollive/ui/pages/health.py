"""The data-health page: the pipeline's own lag, volume, rejects, dead letters, freshness, and
the online evaluator's state."""

from __future__ import annotations

from typing import Any

import hvplot.pandas  # noqa: F401  (registers .hvplot on DataFrames)
import pandas as pd
import panel as pn

import ollive.insights as oi
from ollive.ui._frames import Section, failure, hint, rounded, table
from ollive.ui.pages._page import Page

__all__ = ["DataHealth"]

_FORMATS = {"events": "{value:,.0f}", "events_per_min": "{value:,.1f}",
            "lag_p95_ms_worst": "{value:,.0f} ms", "accepted": "{value:,.0f}",
            "rejected": "{value:,.0f}", "duplicates": "{value:,.0f}",
            "dead_letter_files": "{value:,.0f}", "dead_letter_bytes": "{value:,.0f}",
            "inflight_rows": "{value:,.0f}", "insert_failures": "{value:,.0f}",
            "aggregates_behind_s": "{value:,.0f} s", "platform_reports": "{value:,.0f}"}  # fmt: skip
_CHART = {"height": 320, "responsive": True, "grid": True}
NO_PLATFORM = ("No platform reported in this window (a seeded or copied warehouse): the "
               "ingest replicas and writers report here while `ollive up` runs.")  # fmt: skip
NO_ONLINE = "No online evaluation: set OLLIVE_EVALUATIONS_FILE, see docs/evaluate.md."
#: how a rule with a backlog (events waiting to be scored) stands out
BACKLOG_STYLE = "background-color: #fff3cd; color: #8a5300; font-weight: 600"


class DataHealth(Page):
    """``DataHealth(con)``: :func:`ollive.insights.data_health` over the window: summary
    cards, ingest lag and volume per kind and service (table and chart), the pipeline's
    counters per replica and writer, the freshness of the 5-minute aggregates, and the
    online evaluation rules (watermark, lag, backlog highlighted when > 0, totals)."""

    title = "Data health"
    route = "/health"

    def _build(self) -> None:
        self.summary = Section("Pipeline health", css="ollive-health-summary")
        self.lag = Section("Ingest lag and volume", css="ollive-health-lag")
        self.lag_chart = Section("Ingest lag p95", css="ollive-health-lag-chart")
        self.pipeline = Section(
            "Pipeline (ingest replicas and writers)", css="ollive-health-pipeline"
        )
        self.freshness = Section("Aggregate freshness", css="ollive-health-freshness")
        self.evaluations = Section("Online evaluation", css="ollive-health-evaluations")
        self.health: oi.DataHealth | None = None

    def _refresh(self) -> None:
        try:
            self.health = oi.data_health(self.con, self.filter_bar.filters)
        except Exception as exc:  # shown in place, like every section
            self.health = None
            shown = failure(f"Data health: {exc}")
            for section in (self.summary, self.lag, self.lag_chart, self.pipeline, self.freshness,
                            self.evaluations):  # fmt: skip
                section.replace(shown.clone())
            return
        h = self.health
        events = float(h.summary.set_index("metric")["value"].get("events", 0))
        self.summary.load(lambda: h.summary if events else h.summary.iloc[0:0], self._cards)
        self.lag.load(lambda: h.lag, lambda df: table(rounded(df, 2), page_size=12))
        self.lag_chart.load(lambda: h.lag, self._chart)
        self.pipeline.load(lambda: h.pipeline, lambda df: table(df), empty=hint(NO_PLATFORM))
        self.freshness.load(lambda: h.freshness if events else h.freshness.iloc[0:0], table)
        self.evaluations.load(lambda: h.evaluations, self._evaluations, empty=hint(NO_ONLINE))

    @staticmethod
    def _evaluations(df: pd.DataFrame) -> Any:
        """One row per rule; a backlog (events waiting to be scored) stands out."""
        shown = table(rounded(df.round({"lag_s": 1}), 4), css=("ollive-evaluations-table",))
        shown.style.map(lambda n: BACKLOG_STYLE if n > 0 else "", subset=["backlog"])
        return shown

    @staticmethod
    def _cards(df: pd.DataFrame) -> Any:
        cards = [
            pn.indicators.Number(
                label=row.metric.replace("_", " "),
                value=float(row.value),
                format=_FORMATS.get(row.metric, "{value:,.2f}"),
                font_size="20pt",
                title_size="10pt",
                css_classes=["ollive-kpi"],
                nan_format="–",
            )  # fmt: skip
            for row in df.itertuples()
        ]
        return pn.FlexBox(*cards)

    @staticmethod
    def _chart(df: pd.DataFrame) -> Any:
        df = df.assign(source=df["kind"] + " / " + df["service"].astype(str))
        plot = df.hvplot.barh(x="source", y="lag_p95_ms", xlabel="", ylabel="lag p95 (ms)",
                              title="Ingest lag p95 per kind and service",
                              hover_cols=["events", "lag_p50_ms", "lag_max_ms"], **_CHART)  # fmt: skip
        return pn.pane.HoloViews(plot, sizing_mode="stretch_width", css_classes=["ollive-chart"])

    def _layout(self) -> pn.viewable.Viewable:
        return pn.Column(self.summary, pn.Row(self.lag, self.lag_chart, sizing_mode="stretch_width"),
                         self.pipeline, self.freshness, self.evaluations,
                         sizing_mode="stretch_width")  # fmt: skip
