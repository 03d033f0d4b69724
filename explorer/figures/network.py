"""The network diagram: one ``StepState`` drawn as layers of neurons joined by weighted edges.

``network_figure`` is a pure function of the engine's state. By default (``"phase"``) colours
follow the phase just run: in forward the layers computed so far show their activations a and
the edges into them w * a (what flowed); at error the output shows dL/da, its target ringed; in
backward the layers reached show delta = dL/dz and their edges dL/dw; at update the edges show
the change the update made, Δw. Layers the phase has not reached are muted, the colour bar's
title names the quantity and whether it is one sample's, a batch mean or a batch total, and
arrowheads on the highlighted layer's strongest edges point the way the numbers flow (right in
forward, left in backward). Fixed choices remain: neurons by z, a, dL/da or delta, edges by
weight or weight gradient. Edge widths grow with the magnitude; the layer of the current phase
sits on a shaded band; a small square left of each neuron shows its bias (or what the edges
show for it: dL/db, Δb). Output units are labelled with their class names, the shown sample's
prediction and target marked.

Built for speed (docs/design.md, "What the browser gets"): all neurons are one marker trace with
(layer, unit) in ``customdata`` (layer -1 = input) so a click can select one; edges are a few
line traces per layer bucketed by sign and magnitude, float32 with NaN separators, never one
trace per edge, each bucket drawn as a few long walks (about one point per edge, remembered:
a phase changes one layer's edges, and the page sends only changed traces); line traces hover
only at their vertices, so an invisible marker near the middle of each edge (one trace per layer;
a layer's ``HOVER_EDGES`` strongest where it has more) carries the edge's number; a layer of
more than ``DRAWN_EDGES`` edges draws its strongest by what they show. An input of
more than 64 values is drawn as its image with only the ``top_k`` strongest edges into the
first layer, drawn square (the axes keep one scale) left of the graph, with the pixels those
edges start from dotted. plotly draws a heatmap below every line trace whatever their order,
so the edges cross the image on their way out. Edge widths and bias colours are relative to
their own layer: the 784 input weights are far smaller than the hidden ones.

Left out: streamlit (the page renders the figure and keeps the selection), animation (a
static arrowhead needs no reduced-motion switch), and any number the engine has not computed.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import plotly.graph_objects as go

from explorer.engine import NetworkSpec, Phase, StepState
from explorer.engine.types import Array
from explorer.engine.units import DERIVATIVES, QUANTITIES, shown, unit_values
from explorer.figures.build import figure
from explorer.figures.style import COLORSCALE

HEIGHT = 540
IMAGE_INPUT_OVER = 64  # inputs larger than this are drawn as an image, not as neurons
# Hover points per layer, at most: its strongest edges. They are drawn as nothing (mode "none":
# plotly still hovers them, without one SVG node each); where edges are denser than this one
# cannot point at a single one anyway.
HOVER_EDGES = 1000
# Edges drawn per layer, at most: a denser layer (128 x 128 is 16,384) draws its strongest by
# what it shows, as the image input draws its top_k. Past this a layer is a block of colour in
# which no edge can be followed, and its edges were most of a wide network's repaint.
DRAWN_EDGES = 4096
PHASE = "phase"  # colour by what the phase just run computed
COLOR_BY = (PHASE, *QUANTITIES)
EDGE_BY = (PHASE, "weight", "weight_der")
NODE_TRACE = "neurons"  # the trace whose customdata holds (layer, unit)
# The trace of the graph's words: layer headers, class names, the phase band's name. One text
# trace, not annotations, which plotly lays out and draws one by one on every react (in a
# blank page a react took 0.82x the time with them as one trace; bench/RESULTS.md).
LABEL_TRACE = "labels"
LABEL_PX = 11  # their font size
ARROWS = 40  # arrowheads on the highlighted layer's strongest edges
# Edge walks remembered, any session's, least recently used first out (a wide network's
# figure has up to 7 per layer, ~100 KB each at 128x128 edges).
WALKS_KEPT = 256
_WALKS: OrderedDict[bytes, tuple[Array, Array]] = OrderedDict()
_WALKS_LOCK = threading.Lock()

NOT_COMPUTED = "#dcdcdc"
MUTED_EDGE = "rgba(190,190,190,0.35)"
# As #rrggbbaa (alpha 0.35, 0.6, 0.85): shorter in the JSON than rgba(), one per edge trace.
_POSITIVE = ("#4393c359", "#2166ac99", "#053061d9")
_NEGATIVE = ("#d6604d59", "#b2182b99", "#67001fd9")
_WIDTHS = (0.5, 1.3, 2.6)  # three magnitude tiers, see _tiers

# Geometry in data units, one scale on both axes (the y axis is anchored to x), so the image is
# square whatever the chart's width; neurons span y in [0, 1].
_IMAGE_SIZE = 0.55
_IMAGE_GAP = 0.22  # between the image's right edge and the first layer
_Y_RANGE = (-0.17, 1.15)
_MARGIN_B = 80  # the colour bar lies below the graph
# px per unit where the height binds
_Y_UNIT_PX = (HEIGHT - 10 - _MARGIN_B) / (_Y_RANGE[1] - _Y_RANGE[0])
_LABEL_ROOM = 0.3  # right of the output column: class names, prediction, target

_LABELS = {
    "z": "z (total input)",
    "a": "a (activation)",
    "output_der": "∂L/∂a",
    "input_der": "δ = ∂L/∂z",
}
# What the edges show, by mode: its name on the colour bar and in the edge hover.
_EDGE_LABELS = {
    "weight": "w",
    "weight_der": "∂L/∂w",
    "flow": "w·a",
    "delta_w": "Δw",
}
_EDGE_NOTES = {
    "weight": "edges: weight w",
    "weight_der": "edges: ∂L/∂w (batch)",
    "flow": "edges: w·a, what flowed in",
    "delta_w": "edges: Δw, this update",
}


@dataclass(frozen=True)
class _View:
    """What is drawn, per layer: the neuron quantity (None = muted) and the edge mode (None =
    muted); ``arrow`` is the layer whose edges get arrowheads, pointing ``forward`` or not."""

    nodes: tuple[str | None, ...]
    edges: tuple[str | None, ...]
    arrow: int | None = None
    forward: bool = True

    @property
    def quantity(self) -> str | None:
        """The one quantity the neurons show (the colour bar's), if any."""
        shown = [q for q in self.nodes if q is not None]
        return shown[-1] if shown else None

    @property
    def edge_mode(self) -> str | None:
        modes = [m for m in self.edges if m is not None]
        return modes[-1] if modes else None


def phase_view(n_layers: int, phase: Phase | None) -> _View:
    """What "follow the phase" shows after ``phase`` (None: nothing run yet in this batch)."""
    layers = range(n_layers)
    if phase is None:
        return _View((None,) * n_layers, ("weight",) * n_layers)
    if phase.kind == "forward":
        assert phase.layer is not None
        done = tuple(layer <= phase.layer for layer in layers)
        return _View(
            tuple("a" if d else None for d in done),
            tuple("flow" if d else None for d in done),
            arrow=phase.layer,
        )
    if phase.kind == "error":
        return _View((None,) * (n_layers - 1) + ("output_der",), ("flow",) * n_layers)
    if phase.kind == "backward":
        assert phase.layer is not None
        done = tuple(layer >= phase.layer for layer in layers)
        return _View(
            tuple("input_der" if d else None for d in done),
            tuple("weight_der" if d else None for d in done),
            arrow=phase.layer,
            forward=False,
        )
    return _View(("input_der",) * n_layers, ("delta_w",) * n_layers)


def _fixed_view(n_layers: int, color_by: str, edge_by: str, phase: Phase | None) -> _View:
    """A fixed choice for neurons or edges (or both); the other may still follow the phase."""
    follow = phase_view(n_layers, phase)
    nodes = follow.nodes if color_by == PHASE else (color_by,) * n_layers
    edges = follow.edges if edge_by == PHASE else (edge_by,) * n_layers
    return _View(nodes, edges, follow.arrow, follow.forward)


@dataclass(frozen=True)
class _Layout:
    """Where everything goes: column x per layer (index 0 = input), neuron y per layer."""

    column: tuple[float, ...]
    ys: tuple[Array, ...]  # ys[c] for column c; empty for an image input
    node_px: float
    image: tuple[int, int] | None  # (rows, cols) of an image input

    @property
    def pixel(self) -> float:
        """The side of an image pixel in data units."""
        assert self.image is not None
        return _IMAGE_SIZE / max(self.image)

    @property
    def half_width(self) -> float:
        """Half the width of the input column: the image's, or room for one neuron."""
        return 0.12 if self.image is None else self.image[1] * self.pixel / 2

    def pixel_centres(self, pixels: Array) -> tuple[Array, Array]:
        """Data coordinates of flat pixel indices of the input image (row-major)."""
        assert self.image is not None
        rows, cols = self.image
        w = self.pixel
        r, c = np.divmod(pixels, cols)
        x = self.column[0] - cols * w / 2 + (c + 0.5) * w
        y = 0.5 + rows * w / 2 - (r + 0.5) * w
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
    class_names: Sequence[str] | None = None,
    target: int | None = None,
) -> go.Figure:
    """The network at ``state``: neurons coloured by ``color_by`` ("phase", or z, a, output_der,
    input_der) for row ``sample`` of the batch or the batch (mean of z and a, sum of the
    derivatives, whose rows carry the loss's 1/B), edges by ``edge_by`` ("phase", weight or
    weight_der), ``phase``'s layer highlighted and ``selected`` = (layer, unit) ringed. An input
    of more than 64 values is drawn as an ``input_shape`` image (square if None) with its
    ``top_k`` strongest edges. Output units are labelled by ``class_names`` (one per unit);
    ``target`` is the shown sample's class, ringed, with the predicted one, once computed."""
    if color_by not in COLOR_BY:
        raise ValueError(f"color_by must be one of {', '.join(COLOR_BY)}, not {color_by!r}.")
    if edge_by not in EDGE_BY:
        raise ValueError(f"edge_by must be one of {', '.join(EDGE_BY)}, not {edge_by!r}.")
    if sample is not None and not 0 <= sample < len(state.x):
        raise ValueError(f"Sample {sample} is not in this batch of {len(state.x)}.")
    if top_k < 0:
        raise ValueError(f"top_k must be >= 0, not {top_k}.")
    n_out = spec.layers[-1].size
    if class_names is not None and len(class_names) != n_out:
        raise ValueError(f"{len(class_names)} class names for {n_out} output units.")
    if target is not None and not 0 <= target < n_out:
        raise ValueError(f"Target {target} is not an output unit of {n_out}.")
    view = _fixed_view(len(spec.layers), color_by, edge_by, phase)
    lay = _layout(spec, input_shape)
    edges = _edges(spec, state, lay, view, sample, top_k)
    biases = _biases(spec, state, view)
    scale = _layer_scales(edges, biases)
    traces: list[dict[str, Any]] = _edge_traces(edges)
    if lay.image is not None:
        traces.append(_image_trace(state, sample, lay))
        if edges.modes[0] is not None:
            traces.append(_source_trace(edges))
    traces += _arrow_traces(edges, view)
    traces += _edge_hover_traces(spec, edges, lay, view)
    traces.append(_bias_trace(lay, biases, scale))
    traces.append(_node_trace(spec, state, lay, view, sample))
    traces += _output_marks(spec, state, lay, sample, target)
    if selected is not None:
        traces.append(_selected_trace(spec, lay, selected))
    shapes, labels = _decorations(spec, lay, phase)
    if lay.image is not None:
        shapes.append(_image_frame(lay))
    labels += _output_labels(spec, state, lay, sample, class_names, target)
    traces.append(_label_trace(labels))
    layout = {
        "height": HEIGHT,
        "margin": {"l": 10, "r": 10, "t": 10, "b": _MARGIN_B},
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "showlegend": False,
        "hovermode": "closest",
        "xaxis": {"visible": False, "range": _x_range(lay)},
        # One scale on both axes (the image stays square); plotly widens whichever range the
        # chart's shape needs, so nothing is cut off.
        "yaxis": {
            "visible": False,
            "range": list(_Y_RANGE),
            "scaleanchor": "x",
            "scaleratio": 1,
        },
        "shapes": shapes,
        # Zoom and pan survive reruns until the architecture changes.
        "uirevision": spec.describe(),
    }
    return figure(traces, layout)


def drawn_edges(spec: NetworkSpec, top_k: int) -> list[int]:
    """How many edges each layer draws: all, or its DRAWN_EDGES strongest (an image input its
    ``top_k`` strongest)."""
    drawn = [min(a * b, DRAWN_EDGES) for a, b in itertools.pairwise(spec.sizes)]
    if spec.input_size > IMAGE_INPUT_OVER:
        drawn[0] = min(spec.sizes[0] * spec.sizes[1], top_k)
    return drawn


def edges_capped(spec: NetworkSpec) -> bool:
    """Whether a layer draws only its DRAWN_EDGES strongest edges (an image input's top_k
    aside)."""
    pairs = list(itertools.pairwise(spec.sizes))[spec.input_size > IMAGE_INPUT_OVER :]
    return any(a * b > DRAWN_EDGES for a, b in pairs)


def hover_limited(spec: NetworkSpec, top_k: int) -> bool:
    """Whether a layer draws more edges than HOVER_EDGES, so only its strongest hover."""
    return max(drawn_edges(spec, top_k)) > HOVER_EDGES


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
    # About as wide as the graph's column is high: the axes share one scale.
    dx = float(np.clip(1.0 / n_layers, 0.25, 0.4))
    if image is None:
        column = tuple(c * dx for c in range(n_layers + 1))
    else:
        first = _IMAGE_SIZE + _IMAGE_GAP
        column = (_IMAGE_SIZE / 2, *(first + c * dx for c in range(n_layers)))
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
    return [lay.column[0] - lay.half_width - 0.06, lay.column[-1] + _LABEL_ROOM]


def _node_xy(lay: _Layout, layer: int) -> tuple[Array, Array]:
    ys = lay.ys[layer + 1]
    return np.full(len(ys), lay.column[layer + 1], dtype=np.float32), ys.astype(np.float32)


def _drawn_layers(spec: NetworkSpec, lay: _Layout) -> range:
    """Layers drawn as neurons: the input too, unless it is an image."""
    return range(-1 if lay.image is None else 0, len(spec.layers))


def _px(px: float) -> float:
    """A length given in pixels, in data units (one scale on both axes)."""
    return px / _Y_UNIT_PX


# -- neurons ----------------------------------------------------------------------------------
def _compact(values: Array) -> Array:
    """float32 halves the JSON; float64 where a value (a diverging weight) is beyond its range."""
    fits = np.abs(values).max(initial=0.0) <= np.finfo(np.float32).max
    return values.astype(np.float32 if fits else np.float64)


def _fmt(v: float) -> str:
    return f"{v:.4g}"


def _node_quantity(view: _View, layer: int) -> str | None:
    """What ``layer``'s neurons show; the input shows x while the neurons show z or a (or
    nothing has been computed yet), and is muted beside a derivative, which it has none of."""
    if layer >= 0:
        return view.nodes[layer]
    return "a" if view.quantity in (None, "z", "a") else None


def _node_trace(
    spec: NetworkSpec, state: StepState, lay: _Layout, view: _View, sample: int | None
) -> dict[str, Any]:
    xs, ys, ids, texts = [], [], [], []
    colors: list[float | str] = []  # numbers take the colour scale, strings are used as is
    outline: list[str] = []
    for layer in _drawn_layers(spec, lay):
        x, y = _node_xy(lay, layer)
        xs.append(x)
        ys.append(y)
        ids.append(np.column_stack([np.full(len(x), layer), np.arange(len(x))]))
        values = {q: _shown_or_none(spec, state, layer, q, sample) for q in QUANTITIES}
        quantity = _node_quantity(view, layer)
        col = None if quantity is None else values[quantity]
        if col is None:
            colors += [NOT_COMPUTED] * len(x)
            outline += ["#b0b0b0"] * len(x)
        else:
            # 4 significant digits are plenty for a colour and keep the JSON small.
            colors += [float(_fmt(v)) for v in col]
            outline += ["#555"] * len(x)
        why = None if col is not None else "muted: not computed yet" if quantity else "muted"
        texts += _node_hover(spec, state, layer, values, why)
    cmax = _vmax(np.array([c for c in colors if isinstance(c, float)]))
    quantity = view.quantity or "a"
    which = f"sample {sample}" if sample is not None else _batch_word(quantity)
    title = f"{_LABELS[quantity]}<br>{which}"
    if view.edge_mode is not None:
        title += f"<br>{_EDGE_NOTES[view.edge_mode]}"
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
            "line": {"width": 1, "color": outline},
            "showscale": True,
            # Below the graph, not beside it: the graph gets the chart's whole width.
            "colorbar": {
                "title": {"text": title.replace("<br>", " · ", 1), "side": "top"},
                "orientation": "h",
                "x": 0.5,
                "y": 0,
                "yanchor": "top",
                "thickness": 10,
                "len": 0.6,
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
    why_muted: str | None,
) -> list[str]:
    n_layers = len(spec.layers)
    if layer == -1:
        head = "input"
        bias = grad_b = None
        if why_muted == "muted: not computed yet":
            why_muted = "the engine computes no dL/dx"
    else:
        name = "output" if layer == n_layers - 1 else f"layer {layer + 1}"
        head = f"{name} ({spec.layers[layer].activation})"
        bias = state.params.biases[layer]
        grads = state.layer_gradients(layer)
        grad_b = grads.bias_der if grads is not None else None
    # Two numbers a line keeps the hover short: the node hover text is most of its JSON.
    pairs: list[tuple[tuple[str, Array | None], ...]] = [
        (("x", values["a"]),) if layer == -1 else (("z", values["z"]), ("a", values["a"])),
        (("dL/da", values["output_der"]), ("delta = dL/dz", values["input_der"])),
        (("b", bias), ("dL/db", grad_b)),
    ]
    texts = []
    for unit in range(spec.sizes[layer + 1]):
        lines = [f"<b>{head}, unit {unit}</b>"]
        for pair in pairs:
            known = [f"{name} = {_fmt(float(v[unit]))}" for name, v in pair if v is not None]
            if known:
                lines.append(", ".join(known))
        if why_muted:
            lines.append(f"<i>colour: {why_muted}</i>")
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


# -- the output: class names, prediction, target ----------------------------------------------
def _predicted(spec: NetworkSpec, state: StepState, sample: int | None) -> int | None:
    """The shown sample's predicted class, once forward has reached the output."""
    if sample is None or len(state.a) < len(spec.layers) or spec.layers[-1].size < 2:
        return None
    return int(np.argmax(state.a[-1][sample]))


def _output_marks(
    spec: NetworkSpec, state: StepState, lay: _Layout, sample: int | None, target: int | None
) -> list[dict[str, Any]]:
    """A green ring round the shown sample's target unit."""
    if sample is None or target is None:
        return []
    xs, ys = _node_xy(lay, len(spec.layers) - 1)
    return [
        {
            "type": "scatter",
            "name": "target",
            "mode": "markers",
            "x": xs[target : target + 1],
            "y": ys[target : target + 1],
            "hoverinfo": "skip",
            "marker": {
                "symbol": "circle-open",
                "size": lay.node_px + 8,
                "color": "#2e7d32",
                "line": {"width": 3},
            },
        }
    ]


def _output_labels(
    spec: NetworkSpec,
    state: StepState,
    lay: _Layout,
    sample: int | None,
    class_names: Sequence[str] | None,
    target: int | None,
) -> list[_Label]:
    """Each output unit's class name right of it; the prediction and the target said in words."""
    if class_names is None:
        return []
    last = len(spec.layers) - 1
    xs, ys = _node_xy(lay, last)
    x = float(xs[0]) + _px(lay.node_px / 2 + 4)
    predicted = _predicted(spec, state, sample)
    target = target if sample is not None else None
    labels = []
    for unit, name in enumerate(class_names):
        text, color = str(name), "#333"
        if unit == predicted:
            text = f"<b>{name}</b> ◂ predicted"
        if unit == target:
            text += " ✓ target" if unit == predicted else " ◂ target"
            color = "#2e7d32"
        labels.append(_Label(x, float(ys[unit]), text, color, "middle right"))
    return labels


# -- biases -----------------------------------------------------------------------------------
def _biases(spec: NetworkSpec, state: StepState, view: _View) -> list[Array | None]:
    """Per layer, what its edges show for the bias (b for w and w·a, dL/db, Δb); None where
    that is not known or the layer is muted."""
    out: list[Array | None] = []
    for layer, mode in enumerate(view.edges):
        if mode in ("weight", "flow"):
            known = mode == "weight" or layer < len(state.a)
            out.append(state.params.biases[layer] if known else None)
        elif mode == "weight_der":
            g = state.layer_gradients(layer)
            out.append(g.bias_der if g is not None else None)
        elif mode == "delta_w" and state.prev_params is not None:
            out.append(state.params.biases[layer] - state.prev_params.biases[layer])
        else:
            out.append(None)
    return out


def _bias_trace(lay: _Layout, biases: list[Array | None], scale: Array) -> dict[str, Any]:
    """Small squares left of the neurons. A bias is the weight from a constant input of 1, so
    it takes its layer's edge scale; its exact value is in the neuron's hover."""
    xs, ys = [], []
    colors: list[float | str] = []
    offset = _px(lay.node_px / 2 + 5)
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
    """Every drawn edge, flat over the layers: ends, value, whether the value is computed, and
    per layer what the value is (``modes``, None where muted)."""

    modes: tuple[str | None, ...]
    x0: Array
    y0: Array
    x1: Array
    y1: Array
    layer: Array
    source: Array
    target: Array
    values: Array  # the mode's value, or the weight where it is not computed yet
    known: Array


def _edge_values(
    state: StepState, layer: int, mode: str | None, sample: int | None, n_layers: int
) -> tuple[Array, bool]:
    """``layer``'s edge values in ``mode`` (fan_in, fan_out), and whether they are known; the
    weights stand in where they are not. w·a is each input's share of z: the weight times its
    source's activation (the sample's, or the batch mean, whose shares add up to mean z)."""
    w = state.params.weights[layer]
    if mode == "weight":
        return w, True
    if mode == "weight_der":
        g = state.layer_gradients(layer)
        return (g.weight_der, True) if g is not None else (w, False)
    if mode == "flow" and layer < len(state.a):
        source = state.x if layer == 0 else state.a[layer - 1]
        return w * shown(source, "a", sample)[:, None], True
    if mode == "delta_w" and state.prev_params is not None:
        return w - state.prev_params.weights[layer], True
    return w, False


def _edges(
    spec: NetworkSpec, state: StepState, lay: _Layout, view: _View, sample: int | None, top_k: int
) -> _Edges:
    n_layers = len(spec.layers)
    parts: list[tuple[Array, ...]] = []
    modes: list[str | None] = []
    for layer in range(n_layers):
        w = state.params.weights[layer]
        values, known = _edge_values(state, layer, view.edges[layer], sample, n_layers)
        modes.append(view.edges[layer] if known else None)
        if layer == 0 and lay.image is not None:
            flat = _strongest(values, top_k)
            src, dst = np.divmod(flat, w.shape[1])
            x0, y0 = lay.pixel_centres(src)
        else:
            src, dst = np.divmod(np.sort(_strongest(values, DRAWN_EDGES)), w.shape[1])
            x0, y0 = _node_xy(lay, layer - 1)
            x0, y0 = x0[src], y0[src]
        x1, y1 = _node_xy(lay, layer)
        layer_of = np.full(len(src), layer)
        known_of = np.full(len(src), known)
        parts.append((x0, y0, x1[dst], y1[dst], layer_of, src, dst, values[src, dst], known_of))
    return _Edges(tuple(modes), *(np.concatenate(column) for column in zip(*parts, strict=True)))


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
    most of the JSON (docs/design.md), and a walk may go on through a neuron into the next layer."""
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
    """Per layer at most seven line traces: sign x three magnitude tiers, and grey for not
    computed; tier by tier, so thick edges lie on top. Per layer, because a phase changes one
    layer's edges (forward, backward) and the others' traces stay the same: the page sends only
    traces that changed (``explorer.ui.graph_view``) and their walks are remembered."""
    tier = _tiers(e)
    positive = e.values >= 0
    buckets = [(~e.known, NOT_COMPUTED, 0.6, "not computed")]
    for t in range(3):
        buckets.append((e.known & positive & (tier == t), _POSITIVE[t], _WIDTHS[t], f"+{t}"))
        buckets.append((e.known & ~positive & (tier == t), _NEGATIVE[t], _WIDTHS[t], f"-{t}"))
    traces = []
    for bucket, color, width, name in buckets:
        for layer in np.unique(e.layer).tolist():
            mask = bucket & (e.layer == layer)
            if not mask.any():
                continue
            x, y = _walk(e, mask)
            traces.append(
                {
                    "type": "scatter",
                    "name": f"edges {name} {layer}",
                    "mode": "lines",
                    "x": x,
                    "y": y,
                    "hoverinfo": "skip",
                    "line": {"color": color, "width": width},
                }
            )
    return traces


def _walk(e: _Edges, mask: Array) -> tuple[Array, Array]:
    """``_segments`` of the masked edges, remembered by what they are (ends and coordinates):
    the walk is most of a wide network's build (784-128x6-10: ~0.6 of 0.7 s), and between two
    phases all but one layer's buckets hold the same edges."""
    idx = np.flatnonzero(mask)
    digest = hashlib.blake2b(digest_size=16)
    for column in (e.layer, e.source, e.target, e.x0, e.y0, e.x1, e.y1):
        digest.update(np.ascontiguousarray(column[idx]).tobytes())
    key = digest.digest()
    with _WALKS_LOCK:
        if key in _WALKS:
            _WALKS.move_to_end(key)
            return _WALKS[key]
    walk = _segments(e, mask)
    for part in walk:
        part.setflags(write=False)  # shared between figures and sessions
    with _WALKS_LOCK:
        _WALKS[key] = walk
        while len(_WALKS) > WALKS_KEPT:
            _WALKS.popitem(last=False)
    return walk


_HOVER_LABELS = {"weight": "w", "weight_der": "dL/dw", "flow": "w·a", "delta_w": "Δw"}


def _edge_hover_traces(
    spec: NetworkSpec, e: _Edges, lay: _Layout, view: _View
) -> list[dict[str, Any]]:
    """One marker trace per layer, drawn as nothing, with a point on each drawn edge and its
    number: every edge, or the ``HOVER_EDGES`` strongest of a layer that has more.

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
        mode = e.modes[layer]
        label = _HOVER_LABELS[mode] if mode is not None else "w"
        wanted = view.edges[layer]
        note = ""
        if mode is None and wanted == "weight_der":
            note = " (dL/dw not computed yet)"
        elif mode is None:
            note = " (muted: not this phase's)"
        traces.append(
            {
                "type": "scatter",
                "name": f"edge numbers {layer}",
                # Drawn as nothing: plotly still hovers the points, and no SVG node is made for
                # each (hundreds of them were most of a repaint).
                "mode": "none",
                "hoveron": "points",
                "x": (e.x0[idx] + t * (e.x1[idx] - e.x0[idx])).astype(np.float32),
                "y": (e.y0[idx] + t * (e.y1[idx] - e.y0[idx])).astype(np.float32),
                "customdata": _compact(
                    np.column_stack([e.source[idx], e.target[idx], e.values[idx]])
                ),
                "hovertemplate": f"{source} %{{customdata[0]}} → {into} unit %{{customdata[1]}}"
                f"<br>{label} = %{{customdata[2]:.4g}}{note}<extra></extra>",
            }
        )
    return traces


def _arrow_traces(e: _Edges, view: _View) -> list[dict[str, Any]]:
    """Arrowheads on the ``ARROWS`` strongest edges of the highlighted layer, near their far
    end as the numbers go: towards the layer in forward, back towards its inputs in backward."""
    layer = view.arrow
    if layer is None or e.modes[layer] is None:
        return []
    idx = np.flatnonzero(e.layer == layer)
    idx = idx[_strongest(e.values[idx], ARROWS)]
    dx, dy = e.x1[idx] - e.x0[idx], e.y1[idx] - e.y0[idx]
    t = 0.75 if view.forward else 0.25
    sign = 1.0 if view.forward else -1.0
    # marker.angle turns clockwise from "up"; the axes share one scale, so data directions hold.
    angle = np.degrees(np.arctan2(sign * dx, sign * dy))
    return [
        {
            "type": "scatter",
            "name": "arrows",
            "mode": "markers",
            "x": (e.x0[idx] + t * dx).astype(np.float32),
            "y": (e.y0[idx] + t * dy).astype(np.float32),
            "hoverinfo": "skip",
            "marker": {
                "symbol": "triangle-up",
                "size": 8,
                "angle": np.round(angle, 1).astype(np.float32),
                "color": "#8a6d00",
                "line": {"width": 0},
            },
        }
    ]


# -- image input ------------------------------------------------------------------------------
def _image_trace(state: StepState, sample: int | None, lay: _Layout) -> dict[str, Any]:
    assert lay.image is not None
    rows, cols = lay.image
    image = shown(state.x, "a", sample).reshape(rows, cols)
    w = lay.pixel
    # Heatmap rows go upwards; flip so row 0 of the image is at the top.
    return {
        "type": "heatmap",
        "name": "input image",
        "z": _compact(image[::-1]),
        "x0": lay.column[0] - cols * w / 2 + w / 2,
        "dx": w,
        "y0": 0.5 - rows * w / 2 + w / 2,
        "dy": w,
        "colorscale": [[0.0, "white"], [1.0, "black"]],
        "showscale": False,
        "hovertemplate": "input pixel: x = %{z:.3g}<extra></extra>",
    }


def _image_frame(lay: _Layout) -> dict[str, Any]:
    """A thin line round the image: its white margin would not show where it ends."""
    assert lay.image is not None
    rows, cols = lay.image
    w = lay.pixel
    x0, y0 = lay.column[0] - cols * w / 2, 0.5 - rows * w / 2
    return {
        "type": "rect",
        "name": "image frame",
        "xref": "x",
        "yref": "y",
        "x0": x0,
        "x1": x0 + cols * w,
        "y0": y0,
        "y1": y0 + rows * w,
        "line": {"width": 1, "color": "#999"},
    }


def _source_trace(e: _Edges) -> dict[str, Any]:
    """A dot on each pixel an edge leaves from, drawn over the image."""
    first = e.layer == 0
    _, at = np.unique(e.source[first], return_index=True)
    return {
        "type": "scatter",
        "name": "edge sources",
        "mode": "markers",
        "x": e.x0[first][at],
        "y": e.y0[first][at],
        "hoverinfo": "skip",
        "marker": {"size": 3, "color": "rgba(255,152,0,0.85)", "line": {"width": 0}},
    }


# -- labels and the phase band ----------------------------------------------------------------
def _decorations(
    spec: NetworkSpec, lay: _Layout, phase: Phase | None
) -> tuple[list[dict[str, Any]], list[_Label]]:
    """Layer labels above the columns; for ``phase`` a shaded band and its name below, with an
    arrow the way it goes."""
    n_layers = len(spec.layers)
    top = 1.05  # the headers' bottom edge, clear of the top neuron however large their text
    labels = []
    for c, x in enumerate(lay.column):
        if c == 0:
            shape = f" ({lay.image[0]}×{lay.image[1]})" if lay.image else ""
            text = f"input<br>{spec.input_size}{shape}"
        else:
            layer = spec.layers[c - 1]
            name = "output" if c == n_layers else f"layer {c}"
            # Short lines: "output · softmax" on one overlapped its neighbour's label.
            text = f"{name}<br>{layer.size}<br>{layer.activation}"
        labels.append(_Label(x, top, text, "#333", "top center"))
    if phase is None:
        return [], labels
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
    name = {"forward": f"{phase} →", "backward": f"← {phase}"}.get(phase.kind, str(phase))
    labels.append(_Label((x0 + x1) / 2, _Y_RANGE[0] + 0.04, f"<b>{name}</b>", "#8a6d00"))
    return [band], labels


@dataclass(frozen=True)
class _Label:
    """A word on the graph at (x, y), placed by plotly's ``textposition``."""

    x: float
    y: float
    text: str
    color: str
    position: str = "middle center"


def _label_trace(labels: list[_Label]) -> dict[str, Any]:
    return {
        "type": "scatter",
        "name": LABEL_TRACE,
        "mode": "text",
        "x": np.array([label.x for label in labels], dtype=np.float32),
        "y": np.array([label.y for label in labels], dtype=np.float32),
        "text": [label.text for label in labels],
        "textposition": [label.position for label in labels],
        "textfont": {"size": LABEL_PX, "color": [label.color for label in labels]},
        "hoverinfo": "skip",
        "cliponaxis": False,  # the headers stand above the plot area
    }
