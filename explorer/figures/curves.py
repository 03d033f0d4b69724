"""Training curves: named series over steps as one small line figure.

Steps are whole numbers, so when every x is one the axis ticks are too (plotly's own choice
for a short run is 0, 0.2, ..., 1); fractional x, such as epochs trained, keep plotly's ticks.
A share such as accuracy is drawn in percent, as the tiles beside the curves write it.

Left out: smoothing and twin axes; a log scale is a keyword.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import plotly.graph_objects as go

from explorer.figures.build import figure
from explorer.figures.style import PALETTE

MOST_TICKS = 8  # whole-number ticks on the x axis at most


def curves_figure(
    steps: Sequence[float],
    series: Mapping[str, Sequence[float | None]],
    *,
    x_title: str = "step",
    y_title: str = "",
    log_y: bool = False,
    percent: bool = False,
    height: int = 200,
) -> go.Figure:
    """One line per entry of ``series`` (values per step, or per ``x_title`` unit such as
    epochs; None leaves a gap). ``percent``: the values are shares (0 to 1), drawn as %."""
    scale = 100.0 if percent else 1.0
    traces = [
        {
            "type": "scatter",
            "mode": "lines",
            "name": name,
            "x": list(steps),
            "y": [None if v is None else v * scale for v in values],
            "line": {"color": PALETTE[i % len(PALETTE)], "width": 2},
        }
        for i, (name, values) in enumerate(series.items())
    ]
    if percent:
        for trace in traces:
            trace["hovertemplate"] = f"{trace['name']}: %{{y:.1f}} %<extra></extra>"
    xaxis: dict[str, Any] = {"title": {"text": x_title}, **whole_ticks(steps)}
    yaxis: dict[str, Any] = {"title": {"text": y_title}, "type": "log" if log_y else "linear"}
    if percent:
        yaxis["title"]["text"] = f"{y_title} (%)" if y_title else "%"
        yaxis["ticksuffix"] = " %"
    layout = {
        "height": height,
        "margin": {"l": 45, "r": 10, "t": 30, "b": 35},
        "xaxis": xaxis,
        "yaxis": yaxis,
        "legend": {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
        "uirevision": "curves",
    }
    return figure(traces, layout)


def whole_ticks(xs: Sequence[float]) -> dict[str, Any]:
    """Axis settings that put ticks on whole numbers only, at most MOST_TICKS of them, where
    every x is whole; none (plotly's ticks) otherwise or for no x at all."""
    if not xs or any(not float(x).is_integer() for x in xs):
        return {}
    span = max(xs) - min(xs)
    raw = max(span / MOST_TICKS, 1.0)
    power = 10 ** math.floor(math.log10(raw))
    dtick = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    return {"tickmode": "linear", "tick0": 0, "dtick": dtick, "tickformat": "d"}
