"""The input plane of a 2-D dataset: what the network outputs everywhere in it, with the data on
top, and every neuron's own map laid out as the network (the Playground's signature view).

Pure functions of ``explorer.analysis.learned.PlaneMaps`` and the data. Colours follow the
Playground:
class 0 orange, class 1 blue, with a neutral grey halfway; more classes take a qualitative
palette. Test points carry a dark outline and the ones the network gets wrong a red ring.

Built for size: the maps go as float32; neuron tiles are thinned to at most ``TILE`` points a
side (about 60 px on screen), and a layer shows at most ``max_units`` tiles with a note of the
rest. Edges between tiles are six line traces (sign x three magnitude tiers) with NaN
separators, never one trace per edge. Left out: streamlit, and any computation of the network.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import plotly.graph_objects as go

from explorer.analysis.learned import PlaneMaps, decision_map
from explorer.engine import NetworkSpec, Params
from explorer.engine.types import Array
from explorer.figures.build import figure
from explorer.figures.style import CLASS_PALETTE, COLORSCALE

ORANGE, NEUTRAL, BLUE = "#f59322", "#e8eaeb", "#0877bd"
TWO_CLASSES = [[0.0, ORANGE], [0.5, NEUTRAL], [1.0, BLUE]]
WRONG = "#d62728"
TILE = 30  # most grid points per side of a neuron's tile
TILE_GAP = 8  # between tiles of a column, in tile points
COLUMN_STEP = 3 * TILE  # from one column of tiles to the next, in tile points
_TIERS = (0.6, 1.6, 3.2)  # edge widths of the three magnitude tiers


def boundary_figure(
    maps: PlaneMaps,
    *,
    x_train: Array,
    y_train: Array,
    x_test: Array,
    y_test: Array,
    classify: bool,
    test_wrong: Array | None = None,
    discretize: bool = False,
    surface: bool = False,
    class_names: tuple[str, ...] = (),
    height: int = 460,
) -> go.Figure:
    """The output over the plane as a heatmap, with the train and test points; for
    classification the probability of class 1 (the predicted class if ``discretize``, or always
    with more than two classes), and test points flagged in ``test_wrong`` (n_test,) ringed.
    Regression shows the prediction, as a 3-D surface if ``surface``."""
    values = decision_map(maps.output, classify=classify, discretize=discretize)
    if surface and not classify:
        return _surface(maps, values, x_train, y_train, x_test, y_test, height)
    n_classes = max(len(class_names), 2)
    scale = _value_scale(values, classify, n_classes)
    heat = {
        "type": "heatmap",
        "name": "output",
        "x": maps.x1.astype(np.float32),
        "y": maps.x2.astype(np.float32),
        "z": values.astype(np.float32),
        **scale,
        "hovertemplate": "x1 = %{x:.2f}, x2 = %{y:.2f}<br>"
        + _value_label(classify, discretize or n_classes > 2, class_names)
        + " = %{z:.3f}<extra></extra>",
        "colorbar": {"thickness": 12, "len": 0.8},
    }
    traces = [heat, _points("train", x_train, y_train, classify, scale, "white")]
    traces.append(_points("test", x_test, y_test, classify, scale, "#222"))
    if test_wrong is not None and test_wrong.any():
        traces.append(_ring(x_test[test_wrong], f"test, wrong ({int(test_wrong.sum())})"))
    layout = {
        "height": height,
        "margin": {"l": 40, "r": 10, "t": 30, "b": 35},
        "xaxis": {"title": {"text": "x1"}, "range": _span(maps.x1), "constrain": "domain"},
        "yaxis": {"title": {"text": "x2"}, "range": _span(maps.x2), "scaleanchor": "x"},
        "legend": {"orientation": "h", "x": 0, "y": 1.01, "yanchor": "bottom"},
        "uirevision": "boundary",
    }
    return figure(traces, layout)


def _value_scale(values: Array, classify: bool, n_classes: int) -> dict[str, Any]:
    """Colour scale and range shared by the heatmap and the points."""
    if not classify:
        vmax = max(float(np.abs(values).max()), 1e-9)
        return {"colorscale": COLORSCALE, "zmin": -vmax, "zmax": vmax}
    if n_classes == 2:
        return {"colorscale": TWO_CLASSES, "zmin": 0.0, "zmax": 1.0}
    return {"colorscale": _stepped(n_classes), "zmin": -0.5, "zmax": n_classes - 0.5}


def _stepped(n: int) -> list[list[Any]]:
    """A colour scale of n flat bands, one per class."""
    steps: list[list[Any]] = []
    for k in range(n):
        color = CLASS_PALETTE[k % len(CLASS_PALETTE)]
        steps += [[k / n, color], [(k + 1) / n, color]]
    return steps


def _value_label(classify: bool, discrete: bool, class_names: tuple[str, ...]) -> str:
    if not classify:
        return "prediction"
    if discrete:
        return "predicted class"
    return f"P({class_names[1] if len(class_names) > 1 else 'class 1'})"


def _points(
    name: str, x: Array, y: Array, classify: bool, scale: dict[str, Any], outline: str
) -> dict[str, Any]:
    """The samples coloured by their label (or target) on the heatmap's scale."""
    return {
        "type": "scatter",
        "name": name,
        "mode": "markers",
        "x": x[:, 0].astype(np.float32),
        "y": x[:, 1].astype(np.float32),
        "customdata": y.astype(np.float32),
        "hovertemplate": f"{name}: %{{customdata:.3g}}<extra></extra>",
        "marker": {
            "size": 7,
            "color": y.astype(np.float32),
            "colorscale": scale["colorscale"],
            "cmin": scale["zmin"],
            "cmax": scale["zmax"],
            "line": {"width": 1, "color": outline},
        },
    }


def _ring(x: Array, name: str) -> dict[str, Any]:
    return {
        "type": "scatter",
        "name": name,
        "mode": "markers",
        "x": x[:, 0].astype(np.float32),
        "y": x[:, 1].astype(np.float32),
        "hoverinfo": "skip",
        "marker": {"symbol": "circle-open", "size": 14, "color": WRONG, "line": {"width": 2}},
    }


def _span(axis: Array) -> list[float]:
    return [float(axis[0]), float(axis[-1])]


def _surface(
    maps: PlaneMaps,
    values: Array,
    x_train: Array,
    y_train: Array,
    x_test: Array,
    y_test: Array,
    height: int,
) -> go.Figure:
    """Regression: the prediction as a surface over the plane, the samples at their targets."""
    vmax = max(float(np.abs(values).max()), 1e-9)
    traces: list[dict[str, Any]] = [
        {
            "type": "surface",
            "name": "prediction",
            "x": maps.x1.astype(np.float32),
            "y": maps.x2.astype(np.float32),
            "z": values.astype(np.float32),
            "colorscale": COLORSCALE,
            "cmin": -vmax,
            "cmax": vmax,
            "opacity": 0.85,
            "colorbar": {"thickness": 12, "len": 0.8},
        }
    ]
    for name, x, y, color in (
        ("train", x_train, y_train, "white"),
        ("test", x_test, y_test, "#222"),
    ):
        traces.append(
            {
                "type": "scatter3d",
                "name": name,
                "mode": "markers",
                "x": x[:, 0].astype(np.float32),
                "y": x[:, 1].astype(np.float32),
                "z": y.astype(np.float32),
                "marker": {"size": 3, "color": color, "line": {"width": 1, "color": "#444"}},
            }
        )
    layout = {
        "height": height,
        "margin": {"l": 0, "r": 0, "t": 10, "b": 0},
        "scene": {
            "xaxis": {"title": {"text": "x1"}},
            "yaxis": {"title": {"text": "x2"}},
            "zaxis": {"title": {"text": "prediction"}},
        },
        "legend": {"orientation": "h"},
        "uirevision": "surface",
    }
    return figure(traces, layout)


# -- every neuron's map ----------------------------------------------------------------------------
def neuron_maps_figure(
    spec: NetworkSpec, params: Params, maps: PlaneMaps, *, max_units: int = 16
) -> go.Figure:
    """The network as columns of small heatmaps, one per neuron: the two inputs, each hidden
    layer, the output; each tile is that neuron's activation over the plane, and lines between
    tiles are the weights (blue positive, orange negative, wider for larger |w|, relative to
    their layer). Each column has its own colour range (``_tile_range``)."""
    stride = max(1, math.ceil(len(maps.x1) / TILE))
    g1, g2 = np.meshgrid(maps.x1[::stride], maps.x2[::stride])
    columns = [np.stack([g1, g2]), *(m[:, ::stride, ::stride] for m in maps.layers)]
    columns = [c[:max_units] for c in columns]
    side = columns[0].shape[1]
    traces: list[dict[str, Any]] = []
    notes = []
    centres: list[tuple[float, Array]] = []
    tallest = max(len(c) for c in columns)
    for c, tiles in enumerate(columns):
        x0 = c * COLUMN_STEP
        tops = _tile_tops(len(tiles), side)
        centres.append((x0, tops - side / 2))
        zrange = _tile_range(spec, c, tiles)
        title = _column_title(spec, c)
        for unit, (tile, top) in enumerate(zip(tiles, tops, strict=True)):
            name = f"x{unit + 1}" if c == 0 else f"{title}, unit {unit}"
            traces.append(_tile(tile, x0, top - side, zrange, name, c == 0))
        hidden = spec.sizes[c] - len(tiles)
        text = title if hidden <= 0 else f"{title}<br>(first {len(tiles)}, {hidden} more)"
        notes.append(_note(x0 + side / 2, _tile_tops(tallest, side)[0] + 4, text))
    traces = _edge_traces(params, centres, side, max_units) + traces
    span = _tile_tops(tallest, side)
    layout = {
        "height": int(min(820, max(260, 78 * tallest + 60))),
        "margin": {"l": 5, "r": 5, "t": 35, "b": 5},
        "showlegend": False,
        "xaxis": {"visible": False, "range": [-4, (len(columns) - 1) * COLUMN_STEP + side + 4]},
        "yaxis": {
            "visible": False,
            "range": [span[-1] - side - 4, span[0] + 4],
            "scaleanchor": "x",
        },
        "annotations": notes,
        "hovermode": "closest",
        "uirevision": spec.describe(),
    }
    return figure(traces, layout)


def _tile_tops(n: int, side: int) -> Array:
    """The top edge of each of n tiles stacked downwards, centred on y = 0."""
    height = n * side + (n - 1) * TILE_GAP
    return height / 2 - np.arange(n) * (side + TILE_GAP)


def _column_title(spec: NetworkSpec, column: int) -> str:
    if column == 0:
        return "input"
    layer = spec.layers[column - 1]
    name = "output" if column == len(spec.layers) else f"layer {column}"
    return f"{name} · {layer.activation}"


def _tile_range(spec: NetworkSpec, column: int, tiles: Array) -> tuple[float, float]:
    """A column's colour range: 0 to 1 for sigmoid and softmax units (0.5 neutral, like the
    decision boundary), else symmetric about 0 up to the column's largest |value|."""
    if column and spec.layers[column - 1].activation in ("sigmoid", "softmax"):
        return 0.0, 1.0
    vmax = max(float(np.abs(tiles).max()), 1e-9)
    return -vmax, vmax


def _tile(
    z: Array, x0: float, bottom: float, zrange: tuple[float, float], name: str, is_input: bool
) -> dict[str, Any]:
    """One neuron's map; its rows run up the plane as the tile's rows run up the figure."""
    what = "x" if is_input else "a"
    return {
        "type": "heatmap",
        "name": name,
        "z": z.astype(np.float32),
        "x0": x0 + 0.5,
        "dx": 1,
        "y0": bottom + 0.5,
        "dy": 1,
        "colorscale": TWO_CLASSES,
        "zmin": zrange[0],
        "zmax": zrange[1],
        "showscale": False,
        "hovertemplate": f"{name}<br>{what} = %{{z:.3f}}<extra></extra>",
    }


def _edge_traces(
    params: Params, centres: list[tuple[float, Array]], side: int, max_units: int
) -> list[dict[str, Any]]:
    """Weights between shown tiles as at most six line traces: sign x magnitude tier, the tier
    relative to the largest |w| of its layer."""
    xs: dict[tuple[bool, int], list[Array]] = {}
    ys: dict[tuple[bool, int], list[Array]] = {}
    for layer, w in enumerate(params.weights):
        w = w[:max_units, :max_units]
        (xa, ya), (xb, yb) = centres[layer], centres[layer + 1]
        source, target = (i.ravel() for i in np.indices(w.shape))
        values = w.ravel()
        mags = np.abs(values)
        tier = np.minimum((3 * mags / max(float(mags.max()), 1e-12)).astype(int), 2)
        n = len(values)
        seg_x = np.column_stack([np.full(n, xa + side), np.full(n, xb), np.full(n, np.nan)])
        seg_y = np.column_stack([ya[source], yb[target], np.full(n, np.nan)])
        for positive in (True, False):
            for t in range(3):
                mask = ((values >= 0) == positive) & (tier == t)
                if mask.any():
                    xs.setdefault((positive, t), []).append(seg_x[mask].ravel())
                    ys.setdefault((positive, t), []).append(seg_y[mask].ravel())
    return [
        {
            "type": "scatter",
            "name": f"weights {'+' if positive else '-'}{t}",
            "mode": "lines",
            "x": np.concatenate(xs[(positive, t)]).astype(np.float32),
            "y": np.concatenate(ys[(positive, t)]).astype(np.float32),
            "hoverinfo": "skip",
            "line": {"color": BLUE if positive else ORANGE, "width": _TIERS[t]},
            "opacity": 0.35 + 0.2 * t,
        }
        for positive, t in sorted(xs)
    ]


def _note(x: float, y: float, text: str) -> dict[str, Any]:
    return {
        "x": x,
        "y": y,
        "xref": "x",
        "yref": "y",
        "yanchor": "bottom",
        "text": text,
        "showarrow": False,
        "font": {"size": 11, "color": "#333"},
    }
