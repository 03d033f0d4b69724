"""The Convolution page's pictures: the shown sample's image, and per conv block each filter's
kernel with its numbers and its feature maps (before and after the activation, after the
pool); in backward the same places show dL/dw and dL/d(map).

One colour scale per quantity (a row): symmetric about 0, as wide as the largest magnitude
among the block's filters, written in the row's label. Each map's heatmap names itself in
``meta.pick``, (row, filter), so the page's kept chart (``explorer.ui.graph_view``) sends a
click on a cell as (row, filter, y, x). Pure functions of engine state; the dense part's graph
is ``conv_dense``'s.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.colors import get_colorscale

from explorer.engine.conv import BlockGradients, ConvNetSpec, ConvStepState
from explorer.engine.conv.pixel import Field
from explorer.engine.spec import Params
from explorer.engine.types import Array
from explorer.figures.build import figure
from explorer.figures.style import COLORSCALE

MAP_ROWS = ("z", "a", "pooled")  # a pick's row: 0, 1, 2
GREYS = get_colorscale("Greys")  # white to black: ink dark
HIGHLIGHT = "#f28e2b"
SELECTED = "#2ca02c"
_LABELS = {
    False: {"kernel": "kernel w", "z": "z = w∗x + b", "a": "a = f(z)", "pooled": "max-pool 2×2"},
    True: {"kernel": "dL/dw (batch)", "z": "δ = dL/dz", "a": "dL/da", "pooled": "dL/d(pool)"},
}


IMAGE_HEIGHT = 260
ROW_HEIGHT = 120  # px per row of a block's maps


def image_figure(
    image: Array, *, field: Field | None = None, title: str = "", height: int | None = None
) -> go.Figure:
    """The sample's image (H, W), ink dark; ``field``: a box drawn around those pixels."""
    heat = {
        "type": "heatmap",
        "z": image,
        "colorscale": GREYS,
        "showscale": False,
        "hovertemplate": "row %{y}, column %{x}: %{z:.3f}<extra></extra>",
    }
    shapes = []
    if field is not None:
        shapes.append(
            {
                "type": "rect",
                "x0": field.left - 0.5,
                "x1": field.right + 0.5,
                "y0": field.top - 0.5,
                "y1": field.bottom + 0.5,
                "line": {"color": SELECTED, "width": 3},
            }
        )
    layout = {
        "title": {"text": title, "font": {"size": 13}},
        "height": height or IMAGE_HEIGHT,
        "margin": {"l": 5, "r": 5, "t": 35, "b": 5},
        "xaxis": {"visible": False, "constrain": "domain"},
        "yaxis": {"visible": False, "autorange": "reversed", "scaleanchor": "x"},
        "shapes": shapes,
    }
    return figure([heat], layout)


def _stacked(kernel: Array) -> Array:
    """A kernel (C, k, k) as one (C*(k+1)-1, k) picture: channels one above the other, a row
    of gaps (NaN) between them."""
    c, k, _ = kernel.shape
    out = np.full((c * (k + 1) - 1, k), np.nan)
    for i in range(c):
        out[i * (k + 1) : i * (k + 1) + k] = kernel[i]
    return out


def block_rows(
    state: ConvStepState,
    block: int,
    sample: int,
    params: Params,
    gradients: BlockGradients | None,
) -> dict[str, Array]:
    """Row name -> (F, rows, columns) values of this block for ``sample``: the forward
    quantities, or the gradients when ``gradients`` is given; only the kernels before the
    block's forward phase."""
    if gradients is not None:
        rows = {
            "kernel": gradients.kernel_der,
            "z": gradients.input_der[sample],
            "a": gradients.output_der[sample],
        }
        if gradients.pooled_der is not None:
            rows["pooled"] = gradients.pooled_der[sample]
        return rows
    rows = {"kernel": params.weights[block]}
    if block < len(state.blocks):
        rec = state.blocks[block]
        rows["z"], rows["a"] = rec.z[sample], rec.a[sample]
        if rec.pooled is not None:
            rows["pooled"] = rec.pooled[sample]
    return rows


def block_figure(
    spec: ConvNetSpec,
    state: ConvStepState,
    block: int,
    *,
    sample: int,
    params: Params,
    gradients: BlockGradients | None = None,
    current: bool = False,
    selected: tuple[int, int, int] | None = None,
    title: str = "",
    row_height: int | None = None,
) -> go.Figure:
    """Block ``block``: a column per filter, a row per quantity (see ``block_rows``), each row
    ``row_height`` px (ROW_HEIGHT by default). ``current``: this block's phase ran last (an
    outlined frame); ``selected``: (filter, y, x) of a conv output pixel, boxed in its maps."""
    rows = block_rows(state, block, sample, params, gradients)
    names = list(rows)
    n_filters = spec.blocks[block].filters
    labels = _LABELS[gradients is not None]
    text = rows["kernel"][0].size <= 25 and n_filters <= 8  # the kernel's numbers fit its cells
    traces: list[dict[str, Any]] = []
    layout: dict[str, Any] = {}
    columns = _spans([1.0] * n_filters, 0.03 if n_filters > 4 else 0.05)
    # rows of equal height (a kernel's cells are then large enough for its numbers); plotly's
    # y runs upwards, so the first row's band is the last span
    bands = _spans([1.0] * len(names), 0.07)[::-1]
    for r, name in enumerate(names):
        values = rows[name]
        peak = float(np.nanmax(np.abs(values))) if values.size else 0.0
        peak = peak if peak > 0 and np.isfinite(peak) else 1.0
        # the row's colour scale, once in the layout rather than in each of its heatmaps
        scale = f"coloraxis{_id(r + 1)}"
        layout[scale] = {
            "colorscale": COLORSCALE,  # the Explorer's: red negative, blue positive
            "cmin": -peak,
            "cmax": peak,
            "showscale": False,
        }
        for f in range(n_filters):
            n = r * n_filters + f + 1
            axes = {"xaxis": f"x{_id(n)}", "yaxis": f"y{_id(n)}"}
            picture = _stacked(values[f]) if name == "kernel" else values[f]
            heat: dict[str, Any] = {
                "type": "heatmap",
                "z": picture,
                "coloraxis": scale,
                "textfont": {"size": 10},
                **axes,
            }
            if name != "kernel":
                heat["meta"] = {"pick": [MAP_ROWS.index(name), f]}
                heat["hovertemplate"] = (
                    f"{labels[name]}, filter {f + 1}, (%{{y}}, %{{x}}): %{{z:.4g}}<extra></extra>"
                )
            else:
                heat["hovertemplate"] = "%{z:.4f}<extra></extra>"
                if text:
                    heat["texttemplate"] = "%{z:.2f}"
            traces.append(heat)
            bare = {
                "showticklabels": False,
                "showgrid": False,
                "zeroline": False,
                "fixedrange": True,  # no zoom: a drag or a click on the maps is a pick
            }
            layout[f"xaxis{_id(n)}"] = {**bare, "domain": columns[f], "constrain": "domain"}
            layout[f"yaxis{_id(n)}"] = {
                **bare,
                "domain": bands[r],
                "autorange": "reversed",
                "scaleanchor": f"x{_id(n)}",
                "title": {"text": f"{labels[name]}<br>±{peak:.3g}" if f == 0 else ""},
            }
    notes = [
        {
            "text": f"filter {f + 1}",
            "x": (columns[f][0] + columns[f][1]) / 2,
            "y": 1.0,
            "xref": "paper",
            "yref": "paper",
            "yanchor": "bottom",
            "showarrow": False,
        }
        for f in range(n_filters)
    ]
    shapes = [] if selected is None else _boxes(names, n_filters, *selected)
    if current:
        shapes.append(
            {
                "type": "rect",
                "xref": "paper",
                "yref": "paper",
                "x0": -0.01,  # right of the row labels, whatever the width
                "x1": 1.0,
                "y0": -0.02,
                "y1": 1.08,
                "line": {"color": HIGHLIGHT, "width": 3},
            }
        )
    font: dict[str, Any] = {"size": 14} | ({"color": HIGHLIGHT} if current else {})
    layout.update(
        title={"text": title, "font": font},
        height=110 + (row_height or ROW_HEIGHT) * len(names),
        margin={"l": 95, "r": 10, "t": 60, "b": 10},
        showlegend=False,
        clickmode="event",
        annotations=notes,
        shapes=shapes,
    )
    return figure(traces, layout)


def _id(n: int) -> str:
    """Subplot ``n``'s axis suffix as plotly names it: "" for the first (x, xaxis), else n."""
    return "" if n == 1 else str(n)


def _spans(sizes: list[float], gap: float) -> list[tuple[float, float]]:
    """Consecutive (start, end) parts of [0, 1] in proportion to ``sizes``, ``gap`` between."""
    room = 1.0 - gap * (len(sizes) - 1)
    total = sum(sizes)
    out, at = [], 0.0
    for size in sizes:
        end = at + room * size / total
        out.append((at, min(end, 1.0)))
        at = end + gap
    return out


def _boxes(names: list[str], n_filters: int, f: int, y: int, x: int) -> list[dict[str, object]]:
    """Boxes around conv pixel (y, x) in filter ``f``'s z and a maps, its window in the pool's."""
    out: list[dict[str, object]] = []
    for r, name in enumerate(names):
        if name == "kernel":
            continue
        py, px = (y // 2, x // 2) if name == "pooled" else (y, x)
        n = r * n_filters + f + 1
        out.append(
            {
                "type": "rect",
                "xref": f"x{_id(n)}",
                "yref": f"y{_id(n)}",
                "x0": px - 0.5,
                "x1": px + 0.5,
                "y0": py - 0.5,
                "y1": py + 0.5,
                "line": {"color": SELECTED, "width": 2},
            }
        )
    return out


def kernel_strip_figure(kernels: dict[int, Array], *, most: int = 8) -> go.Figure:
    """The first block's kernels at recorded steps: a row per step (up to ``most``, spread
    evenly from the first to the last, both kept), a column per filter, one colour scale
    symmetric about 0 for all of them. ``kernels``: step -> (F, 1, k, k)."""
    steps = sorted(kernels)
    if len(steps) > most:
        picks = np.linspace(0, len(steps) - 1, most).round().astype(int)
        steps = [steps[i] for i in sorted(set(picks.tolist()))]
    n_filters = kernels[steps[0]].shape[0] if steps else 0
    peak = max((float(np.abs(kernels[s]).max()) for s in steps), default=1.0) or 1.0
    columns = _spans([1.0] * max(n_filters, 1), 0.02)
    bands = _spans([1.0] * max(len(steps), 1), 0.04)[::-1]
    traces: list[dict[str, Any]] = []
    layout: dict[str, Any] = {}
    for r, step in enumerate(steps):
        for f in range(n_filters):
            n = r * n_filters + f + 1
            traces.append(
                {
                    "type": "heatmap",
                    "z": kernels[step][f, 0],
                    "zmin": -peak,
                    "zmax": peak,
                    "colorscale": COLORSCALE,
                    "showscale": False,
                    "hovertemplate": f"step {step}, filter {f + 1}: %{{z:.4f}}<extra></extra>",
                    "xaxis": f"x{_id(n)}",
                    "yaxis": f"y{_id(n)}",
                }
            )
            bare = {"showticklabels": False, "showgrid": False, "zeroline": False}
            layout[f"xaxis{_id(n)}"] = {**bare, "domain": columns[f], "fixedrange": True}
            layout[f"yaxis{_id(n)}"] = {
                **bare,
                "domain": bands[r],
                "autorange": "reversed",
                "scaleanchor": f"x{_id(n)}",
                "fixedrange": True,
                "title": {"text": f"step {step}" if f == 0 else ""},
            }
    layout.update(
        title={"text": f"Block 1's kernels over training (±{peak:.3g})", "font": {"size": 14}},
        height=60 + 60 * max(len(steps), 1),
        margin={"l": 70, "r": 10, "t": 40, "b": 10},
    )
    return figure(traces, layout)
