"""The filter bar: time window and service/provider/model, shared by every component and page."""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Mapping
from typing import Any

import panel as pn
import param

from ollive.insights import Filters, usage

__all__ = ["ALL", "FILTER_PARAMS", "FilterBar"]

ALL = "(all)"
#: window -> the bucket the charts use for it
WINDOWS = {"1h": "1m", "6h": "5m", "24h": "15m", "7d": "1h", "14d": "3h"}
#: the filter bar's parameters, which are also its URL query keys
FILTER_PARAMS = ("window", "service", "provider", "model")
_CHOICES = ("service", "provider", "model")

# The choices seen in the last 14 days, per connection, shared by every browser session of
# a served dashboard: a new page (a new session) does not re-run these three queries.
_OPTIONS: dict[int, tuple[weakref.ref[Any] | None, float, dict[str, list[str]]]] = {}
_OPTIONS_LOCK = threading.Lock()


def _cached_options(con: Any, max_age_s: float) -> dict[str, list[str]] | None:
    with _OPTIONS_LOCK:
        entry = _OPTIONS.get(id(con))
    if entry is None or (entry[0] is not None and entry[0]() is not con):
        return None
    return entry[2] if time.monotonic() - entry[1] <= max_age_s else None


def _store_options(con: Any, options: dict[str, list[str]]) -> None:
    try:
        ref: weakref.ref[Any] | None = weakref.ref(con)
    except TypeError:  # not weak-referenceable: never trusted again (see _cached_options)
        return
    with _OPTIONS_LOCK:
        _OPTIONS[id(con)] = (ref, time.monotonic(), options)


class FilterBar(pn.viewable.Viewer):
    """Selects the time window and the service/provider/model the dashboard shows.

    ``filters`` is the current :class:`~ollive.insights.Filters`; components watch
    ``param.window``/``service``/``provider``/``model`` and re-query when they change.
    The choices are the values seen in the last 14 days, queried once per connection every
    ``options_max_age_s`` (shared by every bar on that connection).
    """

    window: param.Selector = param.Selector(
        default="24h", objects=list(WINDOWS), doc="How far back to look."
    )
    service: param.Selector = param.Selector(default=ALL, objects=[ALL], doc="Only this service.")
    provider: param.Selector = param.Selector(default=ALL, objects=[ALL], doc="Only this provider.")
    model: param.Selector = param.Selector(default=ALL, objects=[ALL], doc="Only this model.")
    options_max_age_s = param.Number(
        default=300.0, bounds=(0, None), doc="How long loaded choices are reused."
    )

    def __init__(self, con: Any = None, **params: Any) -> None:
        chosen = {name: params.pop(name) for name in _CHOICES if name in params}
        super().__init__(**params)
        self._con = con
        if con is not None:
            self.load_options()
        self.param.update(**chosen)  # after the choices exist (an unknown value raises)

    def load_options(self, reload: bool = False) -> None:
        """Fill the service/provider/model choices with the values seen in the last 14 days
        (from the shared cache unless ``reload`` or older than ``options_max_age_s``)."""
        options = None if reload else _cached_options(self._con, self.options_max_age_s)
        if options is None:
            options = {
                name: sorted(
                    usage(self._con, window="14d", by=name)[name].dropna().astype(str).tolist()
                )
                for name in _CHOICES
            }
            _store_options(self._con, options)
        for name in _CHOICES:
            self.param[name].objects = [ALL, *options[name]]

    @property
    def filters(self) -> Filters:
        """The selection as insight filters."""
        pick = {k: getattr(self, k) for k in _CHOICES}
        return Filters(window=self.window, **{k: v for k, v in pick.items() if v != ALL})

    @property
    def bucket(self) -> str:
        """The chart bucket for the selected window."""
        return WINDOWS[self.window]

    @property
    def query(self) -> dict[str, str]:
        """The selection as URL query parameters (only what differs from the defaults)."""
        return {
            name: str(getattr(self, name))
            for name in FILTER_PARAMS
            if getattr(self, name) != self.param[name].default
        }

    def apply_query(self, query: Mapping[str, str]) -> list[str]:
        """Select what ``query`` (URL parameters) names; values not offered are skipped and
        their names returned (a link never selects a value the bar does not offer)."""
        skipped = []
        for name in FILTER_PARAMS:
            value = query.get(name)
            if value is None or value == getattr(self, name):
                continue
            if value in self.param[name].objects:
                setattr(self, name, value)
            else:
                skipped.append(name)
        return skipped

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Row(
            pn.widgets.RadioButtonGroup.from_param(self.param.window, color="primary", align="end"),
            pn.widgets.Select.from_param(self.param.service, width=180),
            pn.widgets.Select.from_param(self.param.provider, width=180),
            pn.widgets.Select.from_param(self.param.model, width=200),
            sizing_mode="stretch_width",
            css_classes=["ollive-filters"],
        )
