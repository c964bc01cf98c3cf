"""The alerts page: anomalous buckets per model and service, and alert rules that fire now."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

import pandas as pd
import panel as pn

import ollive.insights as oi
from ollive.ui._frames import Section, hint, rounded, table
from ollive.ui.components import AnomalyList
from ollive.ui.filters import FilterBar
from ollive.ui.pages._page import Page

__all__ = ["Alerts"]

NO_RULES = ("No alert rules loaded: give `Alerts(con, rules=load_rules(path))`, or serve with "
            "`python -m ollive.ui --alert-rules rules.toml`, to see which rules fire.")  # fmt: skip


class Alerts(Page):
    """``Alerts(con, rules=None)``: the anomaly list (seasonal detector, at least the last
    7 days) and, when ``rules`` (:class:`~ollive.insights.AlertRule`, e.g. from
    :func:`~ollive.insights.load_rules`) are given, which of them fire now."""

    title = "Alerts"
    route = "/alerts"

    def __init__(
        self,
        con: Any,
        filter_bar: FilterBar | None = None,
        *,
        rules: Sequence[oi.AlertRule] = (),
        **kw: Any,
    ) -> None:
        self.rules = list(rules)
        super().__init__(con, filter_bar, **kw)

    def _build(self) -> None:
        self.anomalies = AnomalyList(self.con, self.filter_bar, follow_filters=False)
        self._fresh = True  # it queried when made
        self.firing = Section("Alert rules firing now", css="ollive-firing")

    def _refresh(self) -> None:
        if not self._fresh:
            self.anomalies.refresh()
        self._fresh = False
        if not self.rules:
            self.firing.replace(hint(NO_RULES))
            return
        self.firing.load(
            self._evaluate, lambda df: table(rounded(df, 4)), empty="No rule fires now."
        )

    def _evaluate(self) -> pd.DataFrame:
        firings = oi.evaluate(self.con, self.rules)
        return pd.DataFrame([asdict(f) for f in firings])

    def _layout(self) -> pn.viewable.Viewable:
        return pn.Column(self.anomalies, self.firing, sizing_mode="stretch_width")
