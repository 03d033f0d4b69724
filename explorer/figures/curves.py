"""Training curves: named series over steps as one small line figure.

Left out: smoothing and twin axes; a log scale is a keyword.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import plotly.graph_objects as go

from explorer.figures.build import figure

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")


def curves_figure(
    steps: Sequence[float],
    series: Mapping[str, Sequence[float | None]],
    *,
    x_title: str = "step",
    y_title: str = "",
    log_y: bool = False,
    height: int = 200,
) -> go.Figure:
    """One line per entry of ``series`` (values per step, or per ``x_title`` unit such as
    epochs; None leaves a gap)."""
    traces = [
        {
            "type": "scatter",
            "mode": "lines",
            "name": name,
            "x": list(steps),
            "y": list(values),
            "line": {"color": PALETTE[i % len(PALETTE)], "width": 2},
        }
        for i, (name, values) in enumerate(series.items())
    ]
    layout = {
        "height": height,
        "margin": {"l": 45, "r": 10, "t": 30, "b": 35},
        "xaxis": {"title": {"text": x_title}},
        "yaxis": {"title": {"text": y_title}, "type": "log" if log_y else "linear"},
        "legend": {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
        "uirevision": "curves",
    }
    return figure(traces, layout)
