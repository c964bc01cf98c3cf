"""The filter bar: time window and service/provider/model, shared by every component."""

from __future__ import annotations

from typing import Any

import panel as pn
import param

from ollive.insights import Filters, usage

__all__ = ["ALL", "FilterBar"]

ALL = "(all)"
#: window -> the bucket the charts use for it
WINDOWS = {"1h": "1m", "6h": "5m", "24h": "15m", "7d": "1h", "14d": "3h"}


class FilterBar(pn.viewable.Viewer):
    """Selects the time window and the service/provider/model the dashboard shows.

    ``filters`` is the current :class:`~ollive.insights.Filters`; components watch
    ``param.window``/``service``/``provider``/``model`` and re-query when they change.
    """

    window: param.Selector = param.Selector(
        default="24h", objects=list(WINDOWS), doc="How far back to look."
    )
    service: param.Selector = param.Selector(default=ALL, objects=[ALL], doc="Only this service.")
    provider: param.Selector = param.Selector(default=ALL, objects=[ALL], doc="Only this provider.")
    model: param.Selector = param.Selector(default=ALL, objects=[ALL], doc="Only this model.")

    def __init__(self, con: Any = None, **params: Any) -> None:
        super().__init__(**params)
        self._con = con
        if con is not None:
            self.load_options()

    def load_options(self) -> None:
        """Fill the service/provider/model choices with the values seen in the last 14 days."""
        for name in ("service", "provider", "model"):
            values = usage(self._con, window="14d", by=name)[name].dropna().astype(str).tolist()
            self.param[name].objects = [ALL, *sorted(values)]

    @property
    def filters(self) -> Filters:
        """The selection as insight filters."""
        pick = {k: getattr(self, k) for k in ("service", "provider", "model")}
        return Filters(window=self.window, **{k: v for k, v in pick.items() if v != ALL})

    @property
    def bucket(self) -> str:
        """The chart bucket for the selected window."""
        return WINDOWS[self.window]

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Row(
            pn.widgets.RadioButtonGroup.from_param(self.param.window, color="primary", align="end"),
            pn.widgets.Select.from_param(self.param.service, width=180),
            pn.widgets.Select.from_param(self.param.provider, width=180),
            pn.widgets.Select.from_param(self.param.model, width=200),
            sizing_mode="stretch_width",
        )
