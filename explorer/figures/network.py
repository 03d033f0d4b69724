"""The network diagram: one ``StepState`` drawn as layers of neurons joined by weighted edges.

``network_figure`` is a pure function of the engine's state. Neurons are coloured by z, a, dL/da
or delta for one sample or for the batch (grey where the current phase has not computed them
yet); edges by weight or by weight gradient, their width growing with the magnitude; the layer
of the current phase sits on a shaded band; a small square left of each neuron shows its bias
(or bias gradient, following the edges).

Built for speed (DESIGN.md, "Known pitfalls"): all neurons are one marker trace with
(layer, unit) in ``customdata`` (layer -1 = input) so a click can select one; edges are a few
line traces bucketed by sign and magnitude, float32 with NaN separators, never one trace per
edge, each bucket drawn as a few long walks (about one point per edge); line traces only hover
at their vertices, so an invisible marker near the middle of each edge (one trace per layer;
a layer's ``HOVER_EDGES`` strongest where it has more) carries the edge's number. An input of
more than 64 values is drawn as its image with only the ``top_k`` strongest edges into the
first layer. Edge widths and bias colours are relative to their own layer: the 784 input
weights are far smaller than the hidden ones.

Left out: streamlit (the page renders the figure and keeps the selection), animation, and any
number the engine has not computed.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.colors import get_colorscale

from explorer.engine import NetworkSpec, Phase, StepState
from explorer.engine.types import Array
from explorer.figures.build import figure
from explorer.inspector import DERIVATIVES, QUANTITIES, shown, unit_values

HEIGHT = 540
IMAGE_INPUT_OVER = 64  # inputs larger than this are drawn as an image, not as neurons
# Hover points per layer, at most: its strongest edges. Each is an SVG marker in the browser;
# 6 x 128 units means 82,000 of them, and painting took ~3 s a Step in plotly alone (~20 s in
# the page). Where edges are that dense one cannot point at a single one anyway.
HOVER_EDGES = 1000
EDGE_BY = ("weight", "weight_der")
NODE_TRACE = "neurons"  # the trace whose customdata holds (layer, unit)

NOT_COMPUTED = "#dcdcdc"
# Red negative, blue positive; made symmetric by cmin = -cmax. Given as its colours: plotly.js
# has its own "RdBu", the other way round.
COLORSCALE = get_colorscale("RdBu")
_POSITIVE = ("rgba(67,147,195,0.35)", "rgba(33,102,172,0.6)", "rgba(5,48,97,0.85)")
_NEGATIVE = ("rgba(214,96,77,0.35)", "rgba(178,24,43,0.6)", "rgba(103,0,31,0.85)")
_WIDTHS = (0.5, 1.3, 2.6)  # three magnitude tiers, see _tiers

# Geometry in data units: neurons span y in [0, 1]; the columns span about 2 units in x, which
# on a typical 900 px wide, 540 px high chart keeps x and y units roughly the same size.
_WIDTH_UNITS = 2.0
_IMAGE_SIZE = 0.6
_Y_RANGE = (-0.17, 1.15)
_Y_UNIT_PX = (HEIGHT - 20) / (_Y_RANGE[1] - _Y_RANGE[0])  # the plot's height over its range
_X_UNIT_PX = 300.0  # one x unit on a 900 px wide chart, for sizes given in pixels

_LABELS = {
    "z": "z (total input)",
    "a": "a (activation)",
    "output_der": "∂L/∂a",
    "input_der": "δ = ∂L/∂z",
}


@dataclass(frozen=True)
class _Layout:
    """Where everything goes: column x per layer (index 0 = input), neuron y per layer."""

    column: tuple[float, ...]
    ys: tuple[Array, ...]  # ys[c] for column c; empty for an image input
    node_px: float
    image: tuple[int, int] | None  # (rows, cols) of an image input

    @property
    def pixel(self) -> tuple[float, float]:
        """Width and height of an image pixel in data units: square on a 900 px wide chart."""
        assert self.image is not None
        height = _IMAGE_SIZE / max(self.image)
        return height * _Y_UNIT_PX / _X_UNIT_PX, height

    @property
    def half_width(self) -> float:
        """Half the width of the input column: the image's, or room for one neuron."""
        return 0.12 if self.image is None else self.image[1] * self.pixel[0] / 2

    def pixel_centres(self, pixels: Array) -> tuple[Array, Array]:
        """Data coordinates of flat pixel indices of the input image (row-major)."""
        assert self.image is not None
        rows, cols = self.image
        w, h = self.pixel
        r, c = np.divmod(pixels, cols)
        x = self.column[0] - cols * w / 2 + (c + 0.5) * w
        y = 0.5 + rows * h / 2 - (r + 0.5) * h
        return x.astype(np.float32), y.astype(np.float32)


def network_figure(
    spec: NetworkSpec,
    state: StepState,
    *,
    color_by: str = "a",
    edge_by: str = "weight",
    sample: int | None = None,
    top_k: int = 200,
    phase: Phase | None = None,
    selected: tuple[int, int] | None = None,
    input_shape: tuple[int, int] | None = None,
) -> go.Figure:
    """The network at ``state``: neurons coloured by ``color_by`` (z, a, output_der, input_der)
    for row ``sample`` of the batch or the batch (mean of z and a, sum of the derivatives, whose
    rows carry the loss's 1/B), edges by ``edge_by`` (weight or weight_der), ``phase``'s layer
    highlighted and ``selected`` = (layer, unit) ringed. An input of more than 64 values is drawn
    as an ``input_shape`` image (square if None) with its ``top_k`` strongest edges."""
    if color_by not in QUANTITIES:
        raise ValueError(f"color_by must be one of {', '.join(QUANTITIES)}, not {color_by!r}.")
    if edge_by not in EDGE_BY:
        raise ValueError(f"edge_by must be one of {', '.join(EDGE_BY)}, not {edge_by!r}.")
    if sample is not None and not 0 <= sample < len(state.x):
        raise ValueError(f"Sample {sample} is not in this batch of {len(state.x)}.")
    if top_k < 0:
        raise ValueError(f"top_k must be >= 0, not {top_k}.")
    lay = _layout(spec, input_shape)
    traces: list[dict[str, Any]] = []
    if lay.image is not None:
        traces.append(_image_trace(state, sample, lay))
    edges = _edges(spec, state, lay, edge_by, top_k)
    biases = _biases(spec, state, edge_by)
    scale = _layer_scales(edges, biases)
    traces += _edge_traces(edges)
    traces += _edge_hover_traces(spec, edges, lay, edge_by)
    traces.append(_bias_trace(lay, biases, scale))
    traces.append(_node_trace(spec, state, lay, color_by, sample))
    if selected is not None:
        traces.append(_selected_trace(spec, lay, selected))
    shapes, notes = _decorations(spec, lay, phase)
    layout = {
        "height": HEIGHT,
        "margin": {"l": 10, "r": 10, "t": 10, "b": 10},
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "showlegend": False,
        "hovermode": "closest",
        "xaxis": {"visible": False, "range": _x_range(lay)},
        "yaxis": {"visible": False, "range": list(_Y_RANGE)},
        "shapes": shapes,
        "annotations": notes,
        # Zoom and pan survive reruns until the architecture changes.
        "uirevision": spec.describe(),
    }
    return figure(traces, layout)


def hover_limited(spec: NetworkSpec, top_k: int) -> bool:
    """Whether a layer draws more edges than HOVER_EDGES, so only its strongest hover (an image
    input draws its ``top_k`` strongest)."""
    drawn = [a * b for a, b in itertools.pairwise(spec.sizes)]
    if spec.input_size > IMAGE_INPUT_OVER:
        drawn[0] = min(drawn[0], top_k)
    return max(drawn) > HOVER_EDGES


def neuron_at(fig: go.Figure, points: list[dict[str, Any]]) -> tuple[int, int] | None:
    """The (layer, unit) of the first clicked neuron among a plotly selection's ``points``
    (as ``st.plotly_chart(on_select=...)`` returns them), or None if no neuron was hit."""
    names = [trace.name for trace in fig.data]
    for point in points:
        curve = point.get("curve_number")
        if curve is not None and curve < len(names) and names[curve] == NODE_TRACE:
            ids = point["customdata"]
            # A row of a typed-array customdata comes back from the browser as {"0": .., "1": ..}
            layer, unit = (ids["0"], ids["1"]) if isinstance(ids, dict) else ids
            return int(layer), int(unit)
    return None


# -- geometry ---------------------------------------------------------------------------------
def _layout(spec: NetworkSpec, input_shape: tuple[int, int] | None) -> _Layout:
    n_layers = len(spec.layers)
    image = _image_shape(spec.input_size, input_shape)
    dx = _WIDTH_UNITS / n_layers
    column = tuple(c * dx for c in range(n_layers + 1))
    sizes = spec.sizes if image is None else (0, *spec.sizes[1:])
    most = max(sizes)
    gap = 1.0 / (most - 1) if most > 1 else 0.0
    # Unit 0 at the top; smaller layers centred on the largest one's span.
    ys = tuple(0.5 + ((n - 1) / 2 - np.arange(n)) * gap for n in sizes)
    node_px = float(np.clip(0.6 * gap * _Y_UNIT_PX, 5.0, 22.0)) if most > 1 else 22.0
    return _Layout(column, ys, node_px, image)


def _image_shape(n_in: int, shape: tuple[int, int] | None) -> tuple[int, int] | None:
    if n_in <= IMAGE_INPUT_OVER:
        return None
    if shape is None:
        side = math.isqrt(n_in)
        if side * side != n_in:
            raise ValueError(f"Give input_shape to draw {n_in} inputs as an image.")
        return side, side
    if shape[0] * shape[1] != n_in:
        raise ValueError(f"input_shape {shape} does not hold {n_in} inputs.")
    return shape


def _x_range(lay: _Layout) -> list[float]:
    return [lay.column[0] - lay.half_width - 0.1, lay.column[-1] + 0.25]


def _node_xy(lay: _Layout, layer: int) -> tuple[Array, Array]:
    ys = lay.ys[layer + 1]
    return np.full(len(ys), lay.column[layer + 1], dtype=np.float32), ys.astype(np.float32)


def _drawn_layers(spec: NetworkSpec, lay: _Layout) -> range:
    """Layers drawn as neurons: the input too, unless it is an image."""
    return range(-1 if lay.image is None else 0, len(spec.layers))


# -- neurons ----------------------------------------------------------------------------------
def _compact(values: Array) -> Array:
    """float32 halves the JSON; float64 where a value (a diverging weight) is beyond its range."""
    fits = np.abs(values).max(initial=0.0) <= np.finfo(np.float32).max
    return values.astype(np.float32 if fits else np.float64)


def _fmt(v: float) -> str:
    return f"{v:.4g}"


def _node_trace(
    spec: NetworkSpec, state: StepState, lay: _Layout, color_by: str, sample: int | None
) -> dict[str, Any]:
    xs, ys, ids, texts = [], [], [], []
    colors: list[float | str] = []  # numbers take the colour scale, strings are used as is
    for layer in _drawn_layers(spec, lay):
        x, y = _node_xy(lay, layer)
        xs.append(x)
        ys.append(y)
        ids.append(np.column_stack([np.full(len(x), layer), np.arange(len(x))]))
        values = {q: _shown_or_none(spec, state, layer, q, sample) for q in QUANTITIES}
        col = values[color_by]
        if col is None:
            colors += [NOT_COMPUTED] * len(x)
        else:
            # 4 significant digits are plenty for a colour and keep the JSON small.
            colors += [float(_fmt(v)) for v in col]
        texts += _node_hover(spec, state, layer, values, color_by)
    cmax = _vmax(np.array([c for c in colors if isinstance(c, float)]))
    which = f"sample {sample}" if sample is not None else _batch_word(color_by)
    return {
        "type": "scatter",
        "name": NODE_TRACE,
        "mode": "markers",
        "x": np.concatenate(xs),
        "y": np.concatenate(ys),
        "customdata": np.concatenate(ids).astype(np.int16),
        "hovertext": texts,
        "hovertemplate": "%{hovertext}<extra></extra>",
        "marker": {
            "size": lay.node_px,
            "color": colors,
            "colorscale": COLORSCALE,
            "cmin": -cmax,
            "cmax": cmax,
            "line": {"width": 1, "color": "#555"},
            "showscale": True,
            "colorbar": {
                "title": {"text": f"{_LABELS[color_by]}<br>{which}", "side": "right"},
                "thickness": 12,
                "len": 0.75,
            },
        },
    }


def _batch_word(quantity: str) -> str:
    return "batch total" if quantity in DERIVATIVES else "batch mean"


def _shown_or_none(
    spec: NetworkSpec, state: StepState, layer: int, quantity: str, sample: int | None
) -> Array | None:
    values = unit_values(spec, state, layer, quantity)
    return None if values is None else shown(values, quantity, sample)


def _node_hover(
    spec: NetworkSpec,
    state: StepState,
    layer: int,
    values: dict[str, Array | None],
    color_by: str,
) -> list[str]:
    n_layers = len(spec.layers)
    if layer == -1:
        head = "input"
        bias = grad_b = None
    else:
        name = "output" if layer == n_layers - 1 else f"layer {layer + 1}"
        head = f"{name} ({spec.layers[layer].activation})"
        bias = state.params.biases[layer]
        grads = state.layer_gradients(layer, n_layers)
        grad_b = grads.bias_der if grads is not None else None
    # Two numbers a line keeps the hover short: the node hover text is most of its JSON.
    pairs: list[tuple[tuple[str, Array | None], ...]] = [
        (("x", values["a"]),) if layer == -1 else (("z", values["z"]), ("a", values["a"])),
        (("dL/da", values["output_der"]), ("delta = dL/dz", values["input_der"])),
        (("b", bias), ("dL/db", grad_b)),
    ]
    missing = values[color_by] is None
    why_missing = "the engine computes no dL/dx" if layer == -1 else "not computed yet"
    texts = []
    for unit in range(spec.sizes[layer + 1]):
        lines = [f"<b>{head}, unit {unit}</b>"]
        for pair in pairs:
            known = [f"{name} = {_fmt(float(v[unit]))}" for name, v in pair if v is not None]
            if known:
                lines.append(", ".join(known))
        if missing:
            lines.append(f"<i>colour: {why_missing}</i>")
        texts.append("<br>".join(lines))
    return texts


def _selected_trace(spec: NetworkSpec, lay: _Layout, selected: tuple[int, int]) -> dict[str, Any]:
    layer, unit = selected
    if not (-1 <= layer < len(spec.layers) and 0 <= unit < spec.sizes[layer + 1]):
        raise ValueError(f"No neuron {selected} in a {spec.describe()} network.")
    if layer == -1 and lay.image is not None:
        x, y = lay.pixel_centres(np.array([unit]))
        # Amber, not black: the ring must show on dark ink too.
        symbol, size, color = "square-open", 12.0, "#ff9800"
    else:
        xs, ys = _node_xy(lay, layer)
        x, y = xs[unit : unit + 1], ys[unit : unit + 1]
        symbol, size, color = "circle-open", lay.node_px + 10, "black"
    return {
        "type": "scatter",
        "name": "selected",
        "mode": "markers",
        "x": x,
        "y": y,
        "hoverinfo": "skip",
        "marker": {"symbol": symbol, "size": size, "color": color, "line": {"width": 3}},
    }


# -- biases -----------------------------------------------------------------------------------
def _biases(spec: NetworkSpec, state: StepState, edge_by: str) -> list[Array | None]:
    """Per layer, the bias (or its gradient, following ``edge_by``); None before it is known."""
    if edge_by == "weight":
        return list(state.params.biases)
    n_layers = len(spec.layers)
    grads = (state.layer_gradients(layer, n_layers) for layer in range(n_layers))
    return [g.bias_der if g is not None else None for g in grads]


def _bias_trace(lay: _Layout, biases: list[Array | None], scale: Array) -> dict[str, Any]:
    """Small squares left of the neurons. A bias is the weight from a constant input of 1, so
    it takes its layer's edge scale; its exact value is in the neuron's hover."""
    xs, ys = [], []
    colors: list[float | str] = []
    offset = (lay.node_px / 2 + 5) / _X_UNIT_PX
    for layer, values in enumerate(biases):
        x, y = _node_xy(lay, layer)
        xs.append(x - offset)
        ys.append(y)
        if values is None:
            colors += [NOT_COMPUTED] * len(x)
        else:
            colors += [float(_fmt(v)) for v in values / scale[layer]]
    return {
        "type": "scatter",
        "name": "biases",
        "mode": "markers",
        "x": np.concatenate(xs),
        "y": np.concatenate(ys),
        "hoverinfo": "skip",
        "marker": {
            "symbol": "square",
            "size": max(4.0, lay.node_px * 0.4),
            "color": colors,
            "colorscale": COLORSCALE,
            "cmin": -1.0,
            "cmax": 1.0,
            "line": {"width": 0.5, "color": "#555"},
        },
    }


# -- edges ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Edges:
    """Every drawn edge, flat over the layers: ends, value, whether the value is computed."""

    x0: Array
    y0: Array
    x1: Array
    y1: Array
    layer: Array
    source: Array
    target: Array
    values: Array  # edge_by's value, or the weight where the gradient is not computed yet
    known: Array


def _edges(spec: NetworkSpec, state: StepState, lay: _Layout, edge_by: str, top_k: int) -> _Edges:
    n_layers = len(spec.layers)
    parts: list[tuple[Array, ...]] = []
    for layer in range(n_layers):
        w = state.params.weights[layer]
        g = state.layer_gradients(layer, n_layers)
        known = edge_by == "weight" or g is not None
        values = g.weight_der if edge_by == "weight_der" and g is not None else w
        if layer == 0 and lay.image is not None:
            flat = _strongest(values, top_k)
            src, dst = np.divmod(flat, w.shape[1])
            x0, y0 = lay.pixel_centres(src)
        else:
            src, dst = (i.ravel() for i in np.indices(w.shape))
            x0, y0 = _node_xy(lay, layer - 1)
            x0, y0 = x0[src], y0[src]
        x1, y1 = _node_xy(lay, layer)
        layer_of = np.full(len(src), layer)
        known_of = np.full(len(src), known)
        parts.append((x0, y0, x1[dst], y1[dst], layer_of, src, dst, values[src, dst], known_of))
    return _Edges(*(np.concatenate(column) for column in zip(*parts, strict=True)))


def _strongest(values: Array, k: int) -> Array:
    """Flat indices of the k entries with the largest |value| (all if there are fewer)."""
    mags = np.abs(values).ravel()
    if k >= mags.size:
        return np.arange(mags.size)
    return np.argpartition(-mags, k - 1)[:k]


def _vmax(*arrays: Array) -> float:
    """The largest magnitude, for a colour scale symmetric around 0 (1 if all are 0 or none)."""
    m = max((float(np.abs(a).max()) for a in arrays if a.size), default=0.0)
    return m if m > 0 and math.isfinite(m) else 1.0


def _segments(e: _Edges, mask: Array) -> tuple[Array, Array]:
    """x and y (float32) of the masked edges as polylines found by a greedy walk: each step is
    one edge, so about one point per edge, against three (s t NaN) drawn one by one. Edges are
    most of the JSON (DESIGN.md), and a walk may go on through a neuron into the next layer."""
    idx = np.flatnonzero(mask)
    # A vertex is a neuron (or pixel) of a column: column * 2^20 + unit.
    start = (e.layer[idx] << 20) + e.source[idx]
    end = ((e.layer[idx] + 1) << 20) + e.target[idx]
    xs = np.concatenate([e.x0[idx], e.x1[idx]]).tolist()
    ys = np.concatenate([e.y0[idx], e.y1[idx]]).tolist()
    vertices = np.concatenate([start, end]).tolist()
    where = dict(zip(vertices, zip(xs, ys, strict=True), strict=True))
    edges_at: dict[int, list[int]] = {}
    for k, (a, b) in enumerate(zip(start.tolist(), end.tolist(), strict=True)):
        edges_at.setdefault(a, []).append(k)
        edges_at.setdefault(b, []).append(k)
    used = [False] * len(idx)
    points: list[tuple[float, float]] = []
    # An Euler path starts at a vertex of odd degree: trying those first means fewer breaks.
    for vertex in sorted(edges_at, key=lambda v: len(edges_at[v]) % 2 == 0):
        while True:
            edges_at[vertex] = [k for k in edges_at[vertex] if not used[k]]
            if not edges_at[vertex]:
                break
            points.append(where[vertex])
            here = vertex
            while edges_at[here]:
                k = edges_at[here].pop()
                if used[k]:
                    continue
                used[k] = True
                here = int(end[k]) if here == start[k] else int(start[k])
                points.append(where[here])
            points.append((math.nan, math.nan))
    xy = np.array(points, dtype=np.float32).reshape(-1, 2)
    return xy[:, 0].copy(), xy[:, 1].copy()


def _layer_scales(e: _Edges, biases: list[Array | None]) -> Array:
    """Per layer, the largest |value| of its drawn edges and biases, for the bias colours. Each
    layer gets its own scale: magnitudes differ by orders between layers (784 inputs make
    small weights)."""
    return np.array(
        [
            _vmax(e.values[(e.layer == layer) & e.known], *([] if b is None else [b]))
            for layer, b in enumerate(biases)
        ]
    )


def _tiers(e: _Edges) -> Array:
    """Each edge's magnitude tier (0, 1, 2): the third of its layer's range of drawn |value|
    it falls in. The range starts at the smallest drawn, not at 0: the image's top-k edges are
    the strongest of thousands, nearly equal, and would all be drawn thick over the image."""
    mags = np.abs(e.values)
    tier = np.zeros(len(mags), dtype=int)
    for layer in np.unique(e.layer):
        mask = e.layer == layer
        lo, hi = float(mags[mask].min()), float(mags[mask].max())
        if hi > lo:
            tier[mask] = np.minimum((3 * (mags[mask] - lo) / (hi - lo)).astype(int), 2)
    return tier


def _edge_traces(e: _Edges) -> list[dict[str, Any]]:
    """At most seven line traces: sign x three magnitude tiers, and grey for not computed."""
    tier = _tiers(e)
    positive = e.values >= 0
    buckets = [(~e.known, NOT_COMPUTED, 0.6, "not computed")]
    for t in range(3):
        buckets.append((e.known & positive & (tier == t), _POSITIVE[t], _WIDTHS[t], f"+{t}"))
        buckets.append((e.known & ~positive & (tier == t), _NEGATIVE[t], _WIDTHS[t], f"-{t}"))
    traces = []
    for mask, color, width, name in buckets:
        if not mask.any():
            continue
        x, y = _segments(e, mask)
        traces.append(
            {
                "type": "scatter",
                "name": f"edges {name}",
                "mode": "lines",
                "x": x,
                "y": y,
                "hoverinfo": "skip",
                "line": {"color": color, "width": width},
            }
        )
    return traces


def _edge_hover_traces(
    spec: NetworkSpec, e: _Edges, lay: _Layout, edge_by: str
) -> list[dict[str, Any]]:
    """One invisible marker trace per layer with a point on each drawn edge and its number:
    every edge, or the ``HOVER_EDGES`` strongest of a layer that has more.

    Not at the midpoints: between two equally spaced columns the edges i->j with the same i + j
    share one, and only one of them could be hovered. A point at the fraction 0.3 .. 0.7 of the
    way, set by the target unit, is distinct for every edge and still near the middle.
    """
    traces = []
    for layer in range(len(spec.layers)):
        idx = np.flatnonzero(e.layer == layer)
        idx = idx[_strongest(e.values[idx], HOVER_EDGES)]
        n_to = spec.sizes[layer + 1]
        t = 0.3 + 0.4 * e.target[idx] / max(n_to - 1, 1)
        source = "input pixel" if lay.image is not None else "input"
        source = source if layer == 0 else f"layer {layer} unit"
        into = "output" if layer == len(spec.layers) - 1 else f"layer {layer + 1}"
        known = bool(e.known[idx].all())
        label = "dL/dw" if edge_by == "weight_der" and known else "w"
        note = "" if known else " (dL/dw not computed yet)"
        traces.append(
            {
                "type": "scatter",
                "name": f"edge numbers {layer}",
                "mode": "markers",
                "x": (e.x0[idx] + t * (e.x1[idx] - e.x0[idx])).astype(np.float32),
                "y": (e.y0[idx] + t * (e.y1[idx] - e.y0[idx])).astype(np.float32),
                "customdata": _compact(
                    np.column_stack([e.source[idx], e.target[idx], e.values[idx]])
                ),
                "hovertemplate": f"{source} %{{customdata[0]}} → {into} unit %{{customdata[1]}}"
                f"<br>{label} = %{{customdata[2]:.4g}}{note}<extra></extra>",
                "marker": {"size": 6, "color": "rgba(0,0,0,0)"},
            }
        )
    return traces


# -- image input ------------------------------------------------------------------------------
def _image_trace(state: StepState, sample: int | None, lay: _Layout) -> dict[str, Any]:
    assert lay.image is not None
    rows, cols = lay.image
    image = shown(state.x, "a", sample).reshape(rows, cols)
    w, h = lay.pixel
    # Heatmap rows go upwards; flip so row 0 of the image is at the top.
    return {
        "type": "heatmap",
        "name": "input image",
        "z": _compact(image[::-1]),
        "x0": lay.column[0] - cols * w / 2 + w / 2,
        "dx": w,
        "y0": 0.5 - rows * h / 2 + h / 2,
        "dy": h,
        "colorscale": [[0.0, "white"], [1.0, "black"]],
        "showscale": False,
        "hovertemplate": "input pixel: x = %{z:.3g}<extra></extra>",
    }


# -- labels and the phase band ----------------------------------------------------------------
def _decorations(
    spec: NetworkSpec, lay: _Layout, phase: Phase | None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Layer labels above the columns; for ``phase`` a shaded band and its name below."""
    n_layers = len(spec.layers)
    top = _Y_RANGE[1] - 0.04
    notes = []
    for c, x in enumerate(lay.column):
        if c == 0:
            shape = f" ({lay.image[0]}×{lay.image[1]})" if lay.image else ""
            text = f"input<br>{spec.input_size}{shape}"
        else:
            layer = spec.layers[c - 1]
            name = "output" if c == n_layers else f"layer {c}"
            text = f"{name} · {layer.activation}<br>{layer.size}"
        notes.append(_note(x, top, text, "#333"))
    if phase is None:
        return [], notes
    if phase.kind == "update":
        x0, x1 = lay.column[0] - lay.half_width - 0.04, lay.column[-1] + 0.12
    else:
        c = n_layers if phase.layer is None else phase.layer + 1  # error: the output layer
        x0, x1 = lay.column[c] - 0.12, lay.column[c] + 0.12
    band = {
        "type": "rect",
        "name": "phase",
        "layer": "below",
        "xref": "x",
        "yref": "y",
        "x0": x0,
        "x1": x1,
        "y0": -0.08,
        "y1": 1.06,
        "fillcolor": "rgba(255,193,7,0.18)",
        "line": {"width": 0},
    }
    notes.append(_note((x0 + x1) / 2, _Y_RANGE[0] + 0.04, f"<b>{phase}</b>", "#8a6d00"))
    return [band], notes


def _note(x: float, y: float, text: str, color: str) -> dict[str, Any]:
    return {
        "x": x,
        "y": y,
        "xref": "x",
        "yref": "y",
        "text": text,
        "showarrow": False,
        "font": {"size": 11, "color": color},
    }
