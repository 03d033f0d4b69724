"""Distributions per layer: one small histogram per layer, side by side, each on its own x
range (the 784 input weights are far smaller than the hidden ones). They show what the curves
cannot: activations piled at a sigmoid's or tanh's ends (saturated units), ReLUs stuck at zero
(dead units), weights spreading out as they grow.

Takes histograms already binned (``explorer.analysis.learned.histogram``), so a figure carries 30
bars a
layer, not every value. Gradient norms over time are a ``curves_figure``. Left out: streamlit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go

from explorer.analysis.learned import Histogram
from explorer.figures.build import figure
from explorer.figures.style import PALETTE

PANEL_GAP = 0.04  # between panels, as a share of the figure's width


def histograms_figure(
    hists: Sequence[Histogram],
    names: Sequence[str],
    *,
    x_title: str = "",
    height: int = 210,
) -> go.Figure:
    """One bar histogram per entry of ``hists``, titled by ``names``, left to right."""
    n = len(hists)
    width = (1 - PANEL_GAP * (n - 1)) / n if n else 1.0
    traces: list[dict[str, Any]] = []
    layout: dict[str, Any] = {
        "height": height,
        "margin": {"l": 40, "r": 10, "t": 25, "b": 35},
        "showlegend": False,
        "bargap": 0.05,
        "annotations": [],
    }
    for i, (hist, name) in enumerate(zip(hists, names, strict=True)):
        suffix = "" if i == 0 else str(i + 1)
        left = i * (width + PANEL_GAP)
        centres = (hist.edges[:-1] + hist.edges[1:]) / 2
        traces.append(
            {
                "type": "bar",
                "name": name,
                "x": centres.astype(np.float32),
                "y": hist.counts,
                "width": float(np.diff(hist.edges).mean()),
                "xaxis": f"x{suffix}",
                "yaxis": f"y{suffix}",
                "marker": {"color": PALETTE[i % len(PALETTE)]},
                "hovertemplate": f"{name}<br>%{{x:.3g}}: %{{y}}<extra></extra>",
            }
        )
        layout[f"xaxis{suffix}"] = {
            "domain": [left, left + width],
            "anchor": f"y{suffix}",
            "title": {"text": x_title},
            "nticks": 4,
        }
        layout[f"yaxis{suffix}"] = {"anchor": f"x{suffix}"}
        layout["annotations"].append(
            {
                "text": name,
                "x": left + width / 2,
                "y": 1.0,
                "xref": "paper",
                "yref": "paper",
                "yanchor": "bottom",
                "showarrow": False,
                "font": {"size": 11},
            }
        )
    return figure(traces, layout)
