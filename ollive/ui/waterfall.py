"""A trace's waterfall: one horizontal bar per span, in tree order, as ONE Bokeh glyph.

Every span is a row of a single ``ColumnDataSource`` drawn by a single ``hbar`` renderer,
so a 10,000-span trace is one array transfer and one canvas draw (not 10,000 Panel objects).
Row labels (the span's name indented by its depth) come from that same source through a
tick formatter, the view shows ``visible_rows`` rows at a time and the mouse wheel scrolls.

>>> spans = ollive.insights.trace(con, trace_id)      # doctest: +SKIP
>>> pn.pane.Bokeh(waterfall(spans))                    # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from bokeh.models import (
    ColumnDataSource,
    CustomJSTickFormatter,
    HoverTool,
    Range1d,
    SingleIntervalTicker,
    TapTool,
    WheelPanTool,
)
from bokeh.plotting import figure

__all__ = ["KIND_COLORS", "STATUS_COLORS", "waterfall", "waterfall_source"]

#: bar colour per kind of span
KIND_COLORS = {"inference": "#1f77b4", "tool": "#2ca02c", "log": "#8c8c8c", "score": "#9467bd"}
#: bar colour per status (or log level) that overrides the kind's
STATUS_COLORS = {
    "error": "#d62728",
    "timeout": "#d62728",
    "ERROR": "#d62728",
    "CRITICAL": "#d62728",
    "cancelled": "#ff7f0e",
    "WARNING": "#ff7f0e",
}
_LABEL_CHARS = 36
_ROW_PX = 22

# the y axis labels each integer tick with the row's label; other ticks stay blank
_LABEL_JS = """
const i = Math.round(tick);
const labels = source.data.label;
return (Math.abs(tick - i) < 1e-6 && i >= 0 && i < labels.length) ? labels[i] : "";
"""


def waterfall_source(spans: pd.DataFrame) -> ColumnDataSource:
    """The columns the waterfall draws, from :func:`ollive.insights.trace`'s DataFrame:
    ``row`` (tree order), ``left``/``right`` (ms from the trace start; an instant span gets
    a sliver so it stays visible), ``label``, ``color`` and what the tooltip shows."""
    n = len(spans)
    start = spans["start_offset_ms"].fillna(0.0).to_numpy(dtype=float)
    duration = spans["duration_ms"].fillna(0.0).clip(lower=0.0).to_numpy(dtype=float)
    total = float(np.max(start + duration)) if n else 0.0
    sliver = max(total * 0.002, 0.5)
    names = spans["name"].fillna("").astype(str)
    depth = spans["depth"].fillna(0).astype(int).clip(upper=12)
    # the axis right-aligns its labels: the depth shows as leading dots, "· · get_weather"
    labels = [("· " * d + name)[:_LABEL_CHARS] for d, name in zip(depth, names, strict=True)]
    kinds = spans["kind"].fillna("").astype(str)
    status = spans["status"].fillna("").astype(str)
    colors = [
        STATUS_COLORS.get(s, KIND_COLORS.get(k, "#8c8c8c"))
        for k, s in zip(kinds, status, strict=True)
    ]
    return ColumnDataSource(
        {
            "row": np.arange(n),
            "left": start,
            "right": start + np.maximum(duration, sliver),
            "duration": duration,
            "label": labels,
            "name": names.tolist(),
            "kind": kinds.tolist(),
            "status": status.tolist(),
            "color": colors,
        }
    )


def waterfall(spans: pd.DataFrame, visible_rows: int = 30, title: str | None = None) -> figure:
    """A Bokeh figure of ``spans`` (rows of :func:`ollive.insights.trace`): x is the time
    from the trace's start (ms), one row per span from the top. Tapping a bar selects it
    (``fig.renderers[0].data_source.selected.indices``)."""
    source = waterfall_source(spans)
    n = len(spans)
    shown = max(1, min(n, visible_rows))
    fig = figure(
        height=60 + _ROW_PX * shown,
        sizing_mode="stretch_width",
        title=title,
        x_axis_label="ms from the trace's start",
        y_range=Range1d(start=shown - 0.5, end=-0.5, bounds=(-0.5, max(n, 1) - 0.5)),
        tools="xpan,xwheel_zoom,reset,save",
        toolbar_location="above",
        output_backend="canvas",
    )
    fig.hbar(
        y="row", left="left", right="right", height=0.7, color="color", source=source,
        line_color=None, selection_line_color="black", nonselection_fill_alpha=0.45,
    )  # fmt: skip
    scroll = WheelPanTool(dimension="height")
    fig.add_tools(
        scroll,
        TapTool(),
        HoverTool(
            tooltips=[
                ("span", "@name"),
                ("kind", "@kind"),
                ("status", "@status"),
                ("start", "@left{0,0.0} ms"),
                ("duration", "@duration{0,0.0} ms"),
            ],
        ),  # fmt: skip
    )
    fig.toolbar.active_scroll = scroll  # the wheel scrolls through the rows
    fig.yaxis.ticker = SingleIntervalTicker(interval=1, num_minor_ticks=0)
    fig.yaxis.formatter = CustomJSTickFormatter(args={"source": source}, code=_LABEL_JS)
    fig.yaxis.major_label_text_font = "monospace"
    fig.yaxis.major_label_text_font_size = "11px"
    fig.ygrid.grid_line_color = None
    return fig
