"""The network figure: what fig.data holds for the engine's state.

Traces stay few whatever the edge count; every edge is drawn exactly once; neuron colours are the
shown values (grey where not computed); a 784-input network is an image with exactly top_k
input edges; the selection ring, the phase band and the neuron ids in customdata are where they
belong; and the 784-16-16-10 figure stays under its JSON budget (docs/design.md, "What the
browser gets").
"""

from __future__ import annotations

import importlib
import itertools
import math
import pkgutil
import subprocess
import sys
from typing import Any

import numpy as np
import plotly.graph_objects as go
import pytest

import explorer.figures
from explorer.engine import NetworkSpec, Params, Phase, Stepper, TrainConfig
from explorer.engine.units import QUANTITIES, shown, unit_values
from explorer.figures import NODE_TRACE, build, network_figure, neuron_at
from explorer.figures.network import (
    DRAWN_EDGES,
    HOVER_EDGES,
    NOT_COMPUTED,
    drawn_edges,
    edges_capped,
    hover_limited,
)
from tests.conftest import graph_labels, net, validated_figure

SMALL = net((2, 3, 2), "sigmoid", "sigmoid", "mse")
MNIST = net((784, 16, 16, 10), "relu", "softmax", "cross_entropy")
CONFIG = TrainConfig(batch_size=8)


def stepper(spec: NetworkSpec, seed: int = 0) -> Stepper:
    rng = np.random.default_rng(seed)
    x = rng.random((40, spec.input_size))
    y = rng.integers(0, spec.layers[-1].size, size=40)
    return Stepper(spec, CONFIG, x, y, seed=seed)


def trace(fig: go.Figure, name: str) -> Any:
    found = [t for t in fig.data if t.name == name]
    assert len(found) == 1, name
    return found[0]


def line_traces(fig: go.Figure) -> list[Any]:
    return [t for t in fig.data if t.type == "scatter" and t.mode == "lines"]


def hover_traces(fig: go.Figure) -> list[Any]:
    return [t for t in fig.data if t.name.startswith("edge numbers")]


def segments(fig: go.Figure) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    """Every drawn segment (consecutive points of a line trace between NaNs), ends sorted."""
    out = []
    for t in line_traces(fig):
        x, y = np.asarray(t.x, dtype=float), np.asarray(t.y, dtype=float)
        for i in range(len(x) - 1):
            if not (math.isnan(x[i]) or math.isnan(x[i + 1])):
                a = (round(x[i], 5), round(y[i], 5))
                b = (round(x[i + 1], 5), round(y[i + 1], 5))
                out.append((min(a, b), max(a, b)))
    return out


def node_positions(fig: go.Figure) -> dict[tuple[int, int], tuple[float, float]]:
    nodes = trace(fig, NODE_TRACE)
    ids = [tuple(int(v) for v in row) for row in np.asarray(nodes.customdata)]
    return {
        i: (round(float(x), 5), round(float(y), 5))
        for i, x, y in zip(ids, nodes.x, nodes.y, strict=True)
    }


# -- structure ----------------------------------------------------------------------------------
def test_trace_count_is_small_and_does_not_grow_with_the_edges() -> None:
    for sizes in ((2, 3, 3, 2), (2, 40, 40, 2)):
        spec = net(sizes, "tanh", "sigmoid", "mse")
        s = stepper(spec)
        s.finish_step()
        fig = network_figure(spec, s.state, edge_by="weight_der", phase=s.last_phase)
        n_edges = sum(a * b for a, b in itertools.pairwise(sizes))
        n_layers = len(spec.layers)
        assert len(line_traces(fig)) <= 7 * n_layers  # per layer: sign x 3 tiers + not computed
        assert len(hover_traces(fig)) == n_layers
        assert len(fig.data) <= 7 * n_layers + n_layers + 2  # never per edge
        assert len(segments(fig)) == n_edges


def test_every_edge_is_drawn_once_between_its_neurons() -> None:
    s = stepper(SMALL)
    fig = network_figure(SMALL, s.state)
    pos = node_positions(fig)
    expected = []
    for layer in range(len(SMALL.layers)):
        for i in range(SMALL.sizes[layer]):
            for j in range(SMALL.sizes[layer + 1]):
                a, b = pos[(layer - 1, i)], pos[(layer, j)]
                expected.append((min(a, b), max(a, b)))
    assert sorted(segments(fig)) == sorted(expected)


def test_line_data_is_float32_and_nan_separated() -> None:
    s = stepper(SMALL)
    for t in line_traces(network_figure(SMALL, s.state)):
        assert t.x.dtype == np.float32 and t.y.dtype == np.float32
        assert math.isnan(t.x[-1])


def test_neuron_ids_in_customdata() -> None:
    s = stepper(SMALL)
    fig = network_figure(SMALL, s.state)
    ids = [tuple(int(v) for v in row) for row in trace(fig, NODE_TRACE).customdata]
    expected = [(layer, u) for layer in (-1, 0, 1) for u in range(SMALL.sizes[layer + 1])]
    assert ids == expected


def test_layout_is_fixed_clean_and_keeps_zoom() -> None:
    s = stepper(SMALL)
    fig = network_figure(SMALL, s.state)
    layout = fig.layout
    assert layout.height and layout.uirevision == SMALL.describe()
    assert layout.xaxis.visible is False and layout.yaxis.visible is False
    assert layout.plot_bgcolor == "white" and layout.showlegend is False


# -- colours ------------------------------------------------------------------------------------
@pytest.mark.parametrize("quantity", QUANTITIES)
@pytest.mark.parametrize("sample", [None, 3])
def test_node_colours_follow_the_values_or_grey(quantity: str, sample: int | None) -> None:
    s = stepper(SMALL)
    for _ in range(len(s.phases)):
        s.advance()
        fig = network_figure(SMALL, s.state, color_by=quantity, sample=sample)
        nodes = trace(fig, NODE_TRACE)
        colors = list(nodes.marker.color)
        k = 0
        for layer in range(-1, len(SMALL.layers)):
            values = unit_values(SMALL, s.state, layer, quantity)
            n = SMALL.sizes[layer + 1]
            if values is None:
                assert colors[k : k + n] == [NOT_COMPUTED] * n
            else:
                want = shown(values, quantity, sample)
                assert np.allclose(colors[k : k + n], want, rtol=1e-3, atol=1e-12)
                assert all(abs(c) <= nodes.marker.cmax for c in colors[k : k + n])
            k += n
        assert nodes.marker.cmin == -nodes.marker.cmax  # diverging, centred on 0
        assert nodes.marker.colorscale


def test_colours_before_the_forward_pass_are_grey_but_inputs() -> None:
    s = stepper(SMALL)
    colors = list(trace(network_figure(SMALL, s.state), NODE_TRACE).marker.color)
    assert all(isinstance(c, float) for c in colors[:2])  # the inputs are always known
    assert colors[2:] == [NOT_COMPUTED] * 5


def test_gradient_edges_are_grey_until_backward_reaches_them() -> None:
    s = stepper(SMALL)
    for _ in range(4):  # forward 1, forward 2, error, backward layer 2
        s.advance()
    fig = network_figure(SMALL, s.state, edge_by="weight_der")
    grey = [t for t in line_traces(fig) if t.line.color == NOT_COMPUTED]
    assert len(grey) == 1
    only_grey = go.Figure(data=grey)
    assert len(segments(only_grey)) == 2 * 3  # layer 1's edges, not yet reached
    hover = hover_traces(fig)
    assert "not computed" in hover[0].hovertemplate
    assert "dL/dw =" in hover[1].hovertemplate
    grads = s.state.layer_gradients(1)
    assert grads is not None
    cd = np.asarray(hover[1].customdata)
    src, dst = cd[:, 0].astype(int), cd[:, 1].astype(int)
    assert np.allclose(cd[:, 2], grads.weight_der[src, dst], rtol=1e-6)


def test_edge_hover_points_are_distinct_and_hold_the_weights() -> None:
    spec = net((3, 4, 4, 2), "tanh", "sigmoid", "mse")
    s = stepper(spec)
    fig = network_figure(spec, s.state)
    for layer, t in enumerate(hover_traces(fig)):
        points = set(zip(np.round(t.x, 5), np.round(t.y, 5), strict=True))
        assert len(points) == len(t.x) == spec.sizes[layer] * spec.sizes[layer + 1]
        cd = np.asarray(t.customdata)
        w = s.state.params.weights[layer]
        assert np.allclose(cd[:, 2], w[cd[:, 0].astype(int), cd[:, 1].astype(int)], rtol=1e-6)


def test_dense_layers_hover_their_strongest_edges_and_draw_them_all() -> None:
    spec = net((2, 50, 40, 1), "tanh", "sigmoid", "mse")  # 2,000 edges between the hidden layers
    s = stepper(spec)
    fig = network_figure(spec, s.state)
    hover = hover_traces(fig)
    assert [len(t.x) for t in hover] == [100, HOVER_EDGES, 40]
    w = s.state.params.weights[1]
    cd = np.asarray(hover[1].customdata)
    src, dst = cd[:, 0].astype(int), cd[:, 1].astype(int)
    assert len(set(zip(src, dst, strict=True))) == HOVER_EDGES
    assert np.allclose(cd[:, 2], w[src, dst], rtol=1e-6)
    weakest_shown = np.abs(cd[:, 2]).min()
    assert np.sum(np.abs(w) > weakest_shown * (1 + 1e-6)) < HOVER_EDGES  # none stronger left out
    assert len(segments(fig)) == 2 * 50 + 50 * 40 + 40  # every edge is still drawn


def test_a_layer_denser_than_the_cap_draws_its_strongest_edges() -> None:
    """A 100 x 50 layer (5,000 edges) draws DRAWN_EDGES of them, the strongest by what the edges
    show (the weights, then dL/dw once backward reaches it); the layers around it draw all."""
    spec = net((2, 100, 50, 1), "tanh", "sigmoid", "mse")
    s = stepper(spec)
    pos = node_positions(network_figure(spec, s.state))

    def drawn(fig: go.Figure) -> set[tuple[int, int]]:
        """The (source, target) units of the drawn edges between the two hidden layers."""
        at = {xy: unit for (layer, unit), xy in pos.items()}
        return {
            (at[a], at[b])
            for a, b in segments(fig)
            if a in at and b in at and pos.get((0, at[a])) == a and pos.get((1, at[b])) == b
        }

    def strongest(values: np.ndarray) -> set[tuple[int, int]]:
        flat = np.argsort(-np.abs(values).ravel())[:DRAWN_EDGES]
        return {(int(i), int(j)) for i, j in zip(*np.divmod(flat, values.shape[1]), strict=True)}

    fig = network_figure(spec, s.state)
    assert drawn(fig) == strongest(s.state.params.weights[1])
    assert len(segments(fig)) == 2 * 100 + DRAWN_EDGES + 50
    assert drawn_edges(spec, top_k=200) == [200, DRAWN_EDGES, 50]
    assert edges_capped(spec) and not edges_capped(
        net((784, 128, 32, 10), "relu", "softmax", "mse")
    )
    s.finish_step()
    s.advance()  # forward 1 of the next batch: the old gradients are gone
    while s.state.layer_gradients(1) is None:
        s.advance()
    fig = network_figure(spec, s.state, edge_by="weight_der")
    assert drawn(fig) == strongest(s.state.layer_gradients(1).weight_der)


def test_node_hover_shows_the_numbers() -> None:
    s = stepper(SMALL)
    s.finish_step()
    fig = network_figure(SMALL, s.state, sample=1)
    text = trace(fig, NODE_TRACE).hovertext[2 + 1]  # layer 0, unit 1
    z = s.state.z[0][1, 1]
    b = s.state.params.biases[0][1]
    db = s.state.back[-1].bias_der[1]
    assert f"z = {z:.4g}" in text and f"b = {b:.4g}" in text and f"dL/db = {db:.4g}" in text


def test_biases_are_drawn_one_per_neuron() -> None:
    s = stepper(SMALL)
    biases = trace(network_figure(SMALL, s.state), "biases")
    assert len(biases.x) == sum(SMALL.sizes[1:])


# -- the image input ----------------------------------------------------------------------------
def test_large_input_is_an_image_with_exactly_top_k_edges() -> None:
    s = stepper(MNIST)
    s.finish_step()
    fig = network_figure(MNIST, s.state, sample=2, top_k=150, input_shape=(28, 28))
    heat = [t for t in fig.data if t.type == "heatmap"]
    assert len(heat) == 1
    z = np.asarray(heat[0].z)
    assert z.shape == (28, 28)
    assert np.allclose(z[::-1].ravel(), s.state.x[2], atol=1e-6)  # row 0 drawn at the top
    first = hover_traces(fig)[0]
    assert len(first.x) == 150
    w = s.state.params.weights[0]
    cd = np.asarray(first.customdata)
    drawn = set(zip(cd[:, 0].astype(int), cd[:, 1].astype(int), strict=True))
    strongest = np.argsort(-np.abs(w).ravel())[:150]
    assert drawn == {tuple(divmod(int(f), w.shape[1])) for f in strongest}
    ids = np.asarray(trace(fig, NODE_TRACE).customdata)
    assert -1 not in ids[:, 0]  # no input neurons
    n_hidden = 16 * 16 + 16 * 10
    assert len(segments(fig)) == 150 + n_hidden


def test_image_edges_by_gradient_take_the_strongest_gradients() -> None:
    s = stepper(MNIST)
    s.finish_step()
    fig = network_figure(MNIST, s.state, edge_by="weight_der", top_k=50, input_shape=(28, 28))
    cd = np.asarray(hover_traces(fig)[0].customdata)
    g = s.state.back[-1].weight_der
    assert np.min(np.abs(cd[:, 2])) == pytest.approx(np.sort(np.abs(g).ravel())[-50], rel=1e-6)


def test_mnist_figure_fits_its_json_budget() -> None:
    s = stepper(MNIST)
    s.finish_step()
    for edge_by in ("weight", "weight_der"):
        fig = network_figure(
            MNIST,
            s.state,
            edge_by=edge_by,
            phase=s.last_phase,
            selected=(1, 3),
            input_shape=(28, 28),
        )
        # A session's first draw; a click then sends only the traces that changed
        # (tests/test_graph_view.py). 60 KB before the edges were split by layer.
        assert len(fig.to_json()) <= 61_000


def test_non_square_input_needs_a_shape() -> None:
    spec = net((90, 4, 2), "relu", "softmax", "cross_entropy")
    s = stepper(spec)
    with pytest.raises(ValueError, match="input_shape"):
        network_figure(spec, s.state)
    fig = network_figure(spec, s.state, input_shape=(9, 10))
    assert np.asarray(next(t for t in fig.data if t.type == "heatmap").z).shape == (9, 10)


# -- selection and phase ------------------------------------------------------------------------
def test_selected_neuron_is_ringed() -> None:
    s = stepper(SMALL)
    fig = network_figure(SMALL, s.state, selected=(0, 2))
    ring = trace(fig, "selected")
    pos = node_positions(fig)[(0, 2)]
    assert (round(float(ring.x[0]), 5), round(float(ring.y[0]), 5)) == pos
    assert "open" in ring.marker.symbol
    assert not [t for t in network_figure(SMALL, s.state).data if t.name == "selected"]


def test_selected_pixel_is_marked_on_the_image() -> None:
    s = stepper(MNIST)
    fig = network_figure(MNIST, s.state, selected=(-1, 28 * 5 + 7), input_shape=(28, 28))
    ring = trace(fig, "selected")
    heat = next(t for t in fig.data if t.type == "heatmap")
    col = (ring.x[0] - heat.x0) / heat.dx
    row_from_bottom = (ring.y[0] - heat.y0) / heat.dy
    assert round(col) == 7 and round(27 - row_from_bottom) == 5


def test_selecting_a_missing_neuron_raises() -> None:
    s = stepper(SMALL)
    with pytest.raises(ValueError):
        network_figure(SMALL, s.state, selected=(1, 5))


@pytest.mark.parametrize(
    ("phase", "columns"),
    [
        (Phase("forward", 0), [1]),
        (Phase("backward", 1), [2]),
        (Phase("error"), [2]),
        (Phase("update"), [0, 1, 2]),
    ],
)
def test_phase_layer_is_highlighted(phase: Phase, columns: list[int]) -> None:
    s = stepper(SMALL)
    fig = network_figure(SMALL, s.state, phase=phase)
    (band,) = fig.layout.shapes
    xs = sorted({x for x, _ in node_positions(fig).values()})
    inside = [c for c, x in enumerate(xs) if band.x0 < x < band.x1]
    assert inside == columns
    assert band.layer == "below"
    assert any(str(phase) in t for t in graph_labels(fig))
    assert not network_figure(SMALL, s.state).layout.shapes


def test_neuron_at_reads_a_click_on_a_neuron_only() -> None:
    s = stepper(SMALL)
    fig = network_figure(SMALL, s.state)
    names = [t.name for t in fig.data]
    node_curve = names.index(NODE_TRACE)
    assert neuron_at(fig, [{"curve_number": node_curve, "customdata": [0, 2]}]) == (0, 2)
    # what the browser really sends for a typed-array customdata row (seen in chromium)
    sent = {"curve_number": node_curve, "customdata": {"0": 1, "1": 0}}
    assert neuron_at(fig, [sent]) == (1, 0)
    other = {"curve_number": names.index("edge numbers 0"), "customdata": [1.0, 2.0, 0.3]}
    assert neuron_at(fig, [other]) is None
    assert neuron_at(fig, []) is None


@pytest.mark.parametrize(
    "kwargs",
    [{"color_by": "weight"}, {"edge_by": "a"}, {"sample": 99}, {"top_k": -1}],
    ids=str,
)
def test_bad_options_raise(kwargs: dict[str, Any]) -> None:
    s = stepper(SMALL)
    with pytest.raises(ValueError):
        network_figure(SMALL, s.state, **kwargs)


def test_weights_beyond_float32_are_drawn_and_shown_exactly() -> None:
    s = stepper(SMALL)
    p = s.state.params
    huge = Params(tuple(w * 1e40 for w in p.weights), tuple(b * 1e40 for b in p.biases))
    big = Stepper(SMALL, CONFIG, s.state.x, np.zeros(len(s.state.x), dtype=int), params=huge)
    fig = network_figure(SMALL, big.state)
    cd = np.asarray(hover_traces(fig)[0].customdata)
    w = huge.weights[0]
    assert np.allclose(cd[:, 2], w[cd[:, 0].astype(int), cd[:, 1].astype(int)], rtol=1e-12)
    assert len(fig.to_json()) < 60_000


def test_figures_import_no_streamlit() -> None:
    code = "import sys, explorer.figures; print(' '.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert not {m.split(".")[0] for m in out.stdout.split()} & {"streamlit", "torch"}


def test_figures_are_checked_by_plotly_in_the_tests() -> None:
    """The app builds figures unvalidated; in the tests every figure module's builder must
    still refuse a property plotly does not know, or the check in conftest would pass
    anything."""
    modules = [
        importlib.import_module(f"explorer.figures.{m.name}")
        for m in pkgutil.iter_modules(explorer.figures.__path__)
    ]
    builders = [m for m in modules if hasattr(m, "figure") and m is not build]
    assert len(builders) >= 6
    for module in builders:
        assert module.figure.__name__ == "validated_figure", module.__name__
    with pytest.raises(ValueError, match="bogus"):
        validated_figure([{"type": "scatter", "bogus": 1}], {})
    # plotly.js has its own "RdBu", reversed: a name would flip the colours in the browser
    with pytest.raises(AssertionError, match="colorscale"):
        validated_figure([{"type": "heatmap", "z": [[1.0]], "colorscale": "RdBu"}], {})
    fig = network_figure(SMALL, stepper(SMALL).state)
    assert fig.layout.template.to_plotly_json() == {"data": {"scatter": [{"type": "scatter"}]}}


def test_hover_is_limited_only_where_a_layer_has_more_edges_than_hover_points() -> None:
    assert not hover_limited(MNIST, top_k=1000)  # 784 inputs: an image, its top-k edges drawn
    assert hover_limited(MNIST, top_k=1001)
    assert not hover_limited(net((2, 31, 32, 1), "tanh", "sigmoid", "mse"), top_k=0)  # 992
    assert hover_limited(net((2, 50, 40, 1), "tanh", "sigmoid", "mse"), top_k=0)  # 2,000 edges
    assert hover_limited(net((64, 20, 1), "tanh", "sigmoid", "mse"), top_k=0)  # 1,280 inputs
