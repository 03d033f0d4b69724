"""The Features page's hand-made feature maps: titled images of what each hand-made feature
family measures on one digit, ink black on white, each on its own range from 0 (a map's
largest value is black), so a faint stroke map still shows its shape.

The MLP's first-layer weights and the confusion matrices are ``explorer.figures.digits``'
figures. Pure function of arrays; left out: streamlit and the features' arithmetic
(``explorer.analysis.features``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go

from explorer.engine.types import Array
from explorer.figures.build import figure
from explorer.figures.digits import INK

GAP = 0.25  # between tiles, as a share of a tile's side
LABEL = 0.3  # room for a tile's title above it, as a share of its side
TILE_PX = 120  # figure height per row of tiles


def feature_maps_figure(maps: Sequence[tuple[str, Array]], *, columns: int = 5) -> go.Figure:
    """One tile per (title, image (h, w)), row by row, ``columns`` a row; row 0 of an image
    at the top."""
    h, w = maps[0][1].shape if maps else (1, 1)
    side = max(h, w)
    step_x, step_y = w + GAP * side, h + (GAP + LABEL) * side
    columns = max(min(columns, len(maps)), 1)
    rows = max(-(-len(maps) // columns), 1)
    traces: list[dict[str, Any]] = []
    notes: list[dict[str, Any]] = []
    for i, (title, image) in enumerate(maps):
        row, col = divmod(i, columns)
        x0, top = col * step_x, -row * step_y - LABEL * side
        top_value = max(float(np.max(image)), 1e-12)
        traces.append(
            {
                "type": "heatmap",
                "name": title,
                "z": np.asarray(image, dtype=np.float32)[::-1],
                "x0": x0 + 0.5,
                "dx": 1,
                "y0": top - h + 0.5,
                "dy": 1,
                "colorscale": INK,
                "zmin": 0.0,
                "zmax": top_value,
                "showscale": False,
                "hovertemplate": f"{title}: %{{z:.3g}}<extra></extra>",
            }
        )
        notes.append(
            {
                "x": x0 + w / 2,
                "y": top,
                "xref": "x",
                "yref": "y",
                "yanchor": "bottom",
                "text": title,
                "showarrow": False,
                "font": {"size": 11, "color": "#333"},
            }
        )
    width = columns * step_x - GAP * side
    layout = {
        "height": 20 + TILE_PX * rows,
        "margin": {"l": 5, "r": 5, "t": 5, "b": 5},
        "showlegend": False,
        "xaxis": {"visible": False, "range": [-1, width + 1], "constrain": "domain"},
        "yaxis": {"visible": False, "range": [-rows * step_y - 1, 1], "scaleanchor": "x"},
        "annotations": notes,
        "hovermode": "closest",
    }
    return figure(traces, layout)
