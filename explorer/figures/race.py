"""The Why GPUs race as one figure: samples per second (left) and achieved FLOP/s (right)
against the hidden width, one colour per contender, both axes logarithmic; on the right each
contender's measured matmul rate is a dashed line of its colour, the ceiling it works against.

A pure function of plain numbers; left out: streamlit, the timing (``explorer.analysis.race``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import plotly.graph_objects as go

from explorer.figures.build import figure
from explorer.figures.style import PALETTE

GAP = 0.12  # between the two panels, as a share of the width


class RaceLine(NamedTuple):
    """One contender's measured cells, by width, and its matmul rate (None: not measured)."""

    title: str
    widths: Sequence[int]
    samples_per_s: Sequence[float]
    flops_per_s: Sequence[float]
    matmul_rate: float | None


def race_figure(lines: Sequence[RaceLine], *, height: int = 340) -> go.Figure:
    """Samples/s and FLOP/s against width, each contender in one colour on both panels."""
    traces: list[dict[str, Any]] = []
    all_widths = sorted({w for line in lines for w in line.widths}) or [16]
    for i, line in enumerate(lines):
        color = PALETTE[i % len(PALETTE)]
        common = {
            "type": "scatter",
            "mode": "lines+markers",
            "x": list(line.widths),
            "legendgroup": line.title,
            "line": {"color": color, "width": 2},
        }
        traces.append(
            {
                **common,
                "name": line.title,
                "y": list(line.samples_per_s),
                "hovertemplate": f"{line.title}<br>width %{{x}}: %{{y:,.0f}} samples/s"
                "<extra></extra>",
            }
        )
        traces.append(
            {
                **common,
                "name": f"{line.title} FLOP/s",
                "y": list(line.flops_per_s),
                "xaxis": "x2",
                "yaxis": "y2",
                "showlegend": False,
                "hovertemplate": f"{line.title}<br>width %{{x}}: %{{y:.3s}}FLOP/s<extra></extra>",
            }
        )
        if line.matmul_rate:
            traces.append(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "name": f"{line.title} matmul rate",
                    "x": [all_widths[0], all_widths[-1]],
                    "y": [line.matmul_rate, line.matmul_rate],
                    "xaxis": "x2",
                    "yaxis": "y2",
                    "legendgroup": line.title,
                    "showlegend": False,
                    "line": {"color": color, "width": 1, "dash": "dash"},
                    "hovertemplate": f"{line.title}: matmul rate %{{y:.3s}}FLOP/s<extra></extra>",
                }
            )
    ticks = {"tickvals": all_widths, "ticktext": [f"{w:,}" for w in all_widths]}
    half = (1 - GAP) / 2
    layout = {
        "height": height,
        "margin": {"l": 60, "r": 10, "t": 30, "b": 45},
        "legend": {"orientation": "h", "y": -0.22},
        "xaxis": {"type": "log", "domain": [0, half], "title": {"text": "hidden width W"}, **ticks},
        "yaxis": {"type": "log", "dtick": 1, "title": {"text": "samples/s"}},
        "xaxis2": {
            "type": "log",
            "domain": [1 - half, 1],
            "anchor": "y2",
            "title": {"text": "hidden width W"},
            **ticks,
        },
        "yaxis2": {
            "type": "log",
            "dtick": 1,  # a tick a decade, in SI units: 1G, 10G, 100G
            "exponentformat": "SI",
            "anchor": "x2",
            "title": {"text": "FLOP/s (dashed: matmul rate)"},
        },
        "annotations": [
            _title("Samples per second", half / 2),
            _title("Achieved FLOP/s", 1 - half / 2),
        ],
        "hovermode": "closest",
    }
    return figure(traces, layout)


def _title(text: str, x: float) -> dict[str, Any]:
    return {
        "text": f"<b>{text}</b>",
        "x": x,
        "y": 1.0,
        "xref": "paper",
        "yref": "paper",
        "yanchor": "bottom",
        "showarrow": False,
    }
