"""The Explorer graph's teaching marks, read from fig.data: colours that follow the phase (the
colour bar's title names the quantity and its unit, layers not reached are muted, edges show
w·a, dL/dw or Δw), the square input image with its edges' pixels dotted, the output's class
labels with the prediction and the target, arrowheads the way the phase flows; and the guard
on picks the browser sends back."""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go
import pytest

from explorer.engine import NetworkSpec, Phase, Stepper, TrainConfig
from explorer.figures import network_figure
from explorer.figures.network import NOT_COMPUTED, phase_view
from explorer.ui.graph_view import picked
from tests.conftest import graph_labels, net

SMALL = net((2, 3, 2), "sigmoid", "sigmoid", "mse")
MNIST = net((784, 16, 16, 10), "relu", "softmax", "cross_entropy")
DIGITS = tuple(str(d) for d in range(10))


def stepper(spec: NetworkSpec) -> Stepper:
    rng = np.random.default_rng(0)
    x = rng.random((40, spec.input_size))
    y = rng.integers(0, spec.layers[-1].size, size=40)
    return Stepper(spec, TrainConfig(batch_size=8), x, y)


def trace(fig: go.Figure, name: str) -> Any:
    (found,) = [t for t in fig.data if t.name == name]
    return found


def title(fig: go.Figure) -> str:
    return str(trace(fig, "neurons").marker.colorbar.title.text)


def after(spec: NetworkSpec, n: int, **kwargs: Any) -> tuple[Stepper, go.Figure]:
    s = stepper(spec)
    for _ in range(n):
        s.advance()
    fig = network_figure(
        spec, s.state, color_by="phase", edge_by="phase", phase=s.last_phase, **kwargs
    )
    return s, fig


@pytest.mark.parametrize(
    ("n", "quantity", "edges"),
    [
        (0, "a (activation)", "edges: weight w"),
        (1, "a (activation)", "edges: w·a, what flowed in"),
        (3, "∂L/∂a", "edges: w·a"),
        (4, "δ = ∂L/∂z", "edges: ∂L/∂w"),
        (6, "δ = ∂L/∂z", "edges: Δw, this update"),
    ],
)
def test_the_colour_bar_names_the_phase_quantity_and_its_unit(
    n: int, quantity: str, edges: str
) -> None:
    _, fig = after(SMALL, n)
    assert title(fig).startswith(quantity) and edges in title(fig)
    assert "batch" in title(fig)
    _, one = after(SMALL, n, sample=2)
    assert "sample 2" in title(one)


def neuron_colours(fig: go.Figure, spec: NetworkSpec) -> list[list[Any]]:
    """Neuron colours per drawn column (the input too where it is drawn as neurons)."""
    colors = list(trace(fig, "neurons").marker.color)
    sizes = spec.sizes if spec.input_size <= 64 else spec.sizes[1:]
    out, k = [], 0
    for n in sizes:
        out.append(colors[k : k + n])
        k += n
    return out


def test_forward_shows_activations_so_far_and_mutes_the_rest() -> None:
    s, fig = after(SMALL, 1)  # forward, layer 1
    inputs, first, output = neuron_colours(fig, SMALL)
    assert np.allclose(first, s.state.a[0].mean(axis=0), rtol=1e-3)
    assert all(isinstance(c, float) for c in inputs)
    assert output == [NOT_COMPUTED] * 2
    grey = [t for t in fig.data if t.type == "scatter" and t.mode == "lines"]
    assert any(t.line.color == NOT_COMPUTED for t in grey)  # the output's edges: not yet


def test_edges_show_what_flowed_in_forward() -> None:
    s, fig = after(SMALL, 1)
    hover = trace(fig, "edge numbers 0")
    assert "w·a =" in hover.hovertemplate
    cd = np.asarray(hover.customdata)
    src, dst = cd[:, 0].astype(int), cd[:, 1].astype(int)
    flow = s.state.params.weights[0] * s.state.x.mean(axis=0)[:, None]
    assert np.allclose(cd[:, 2], flow[src, dst], rtol=1e-5)
    assert "muted" in trace(fig, "edge numbers 1").hovertemplate


def test_error_colours_the_output_by_dl_da_only() -> None:
    s, fig = after(SMALL, 3)
    inputs, hidden, output = neuron_colours(fig, SMALL)
    assert hidden == [NOT_COMPUTED] * 3 and inputs == [NOT_COMPUTED] * 2
    assert s.state.err is not None
    assert np.allclose(output, s.state.err.output_der.sum(axis=0), rtol=1e-3)


def test_backward_shows_delta_and_gradients_of_the_layers_reached() -> None:
    s, fig = after(SMALL, 4)  # backward, layer 2 (the output)
    _, hidden, output = neuron_colours(fig, SMALL)
    assert hidden == [NOT_COMPUTED] * 3
    grads = s.state.layer_gradients(1)
    assert grads is not None
    assert np.allclose(output, grads.input_der.sum(axis=0), rtol=1e-3)
    assert "dL/dw =" in trace(fig, "edge numbers 1").hovertemplate
    assert "muted" in trace(fig, "edge numbers 0").hovertemplate


def test_update_edges_show_the_change_of_the_update() -> None:
    s, fig = after(SMALL, 6)
    hover = trace(fig, "edge numbers 0")
    assert "Δw =" in hover.hovertemplate
    assert s.state.prev_params is not None
    change = s.state.params.weights[0] - s.state.prev_params.weights[0]
    cd = np.asarray(hover.customdata)
    assert np.allclose(cd[:, 2], change[cd[:, 0].astype(int), cd[:, 1].astype(int)], rtol=1e-5)


@pytest.mark.parametrize(("n", "forward"), [(1, True), (2, True), (4, False), (5, False)])
def test_arrowheads_point_the_way_the_phase_goes(n: int, forward: bool) -> None:
    _, fig = after(SMALL, n)
    arrows = trace(fig, "arrows")
    angles = np.asarray(arrows.marker.angle, dtype=float)
    # clockwise from up: right-pointing arrows lie in (0, 180), left-pointing in (-180, 0)
    assert ((angles > 0) & (angles < 180)).all() if forward else (angles < 0).all()
    assert "→" in graph_labels(fig)[-1] if forward else "←" in graph_labels(fig)[-1]
    _, none = after(SMALL, 3)
    assert not [t for t in none.data if t.name == "arrows"]


def test_the_input_image_is_square_and_its_edges_leave_from_its_pixels() -> None:
    _, fig = after(MNIST, 1)
    image = trace(fig, "input image")
    assert image.dx == image.dy and np.asarray(image.z).shape == (28, 28)
    assert fig.layout.yaxis.scaleanchor == "x" and fig.layout.yaxis.scaleratio == 1
    # every drawn input edge leaves from a dotted pixel of the image
    dots = trace(fig, "edge sources")
    x0, x1 = image.x0 - image.dx / 2, image.x0 + 27.5 * image.dx
    assert all(x0 <= x <= x1 for x in dots.x)
    assert [s for s in fig.layout.shapes if s.name == "image frame"]


def test_the_image_takes_the_flow_so_its_edges_leave_from_ink() -> None:
    s = stepper(MNIST)
    s.advance()
    x = s.state.x.copy()
    x[:, 400:] = 0.0  # no ink in the lower half
    state = type(s.state)(**{**s.state.__dict__, "x": x})
    fig = network_figure(MNIST, state, color_by="phase", edge_by="phase", phase=Phase("forward", 0))
    sources = np.asarray(trace(fig, "edge numbers 0").customdata)[:, 0]
    assert (sources < 400).mean() > 0.9


def test_output_units_carry_class_names_the_prediction_and_the_target() -> None:
    s = stepper(MNIST)
    for _ in range(3):
        s.advance()
    target = 4
    fig = network_figure(
        MNIST, s.state, sample=1, class_names=DIGITS, target=target, phase=s.last_phase
    )
    labels = graph_labels(fig, "middle right")
    assert [t.removeprefix("<b>")[0] for t in labels] == list(DIGITS)
    predicted = int(np.argmax(s.state.a[-1][1]))
    assert "predicted" in labels[predicted] and "target" in labels[target]
    assert sum("predicted" in t for t in labels) == 1
    ring = trace(fig, "target")
    ys = trace(fig, "neurons").y[-10:]
    assert ring.y[0] == pytest.approx(ys[target])
    # the batch has no single target or prediction
    batch = network_figure(MNIST, s.state, class_names=DIGITS, phase=s.last_phase)
    assert not [t for t in batch.data if t.name == "target"]
    assert not [t for t in graph_labels(batch) if "predicted" in t]


def test_bad_labels_raise() -> None:
    s = stepper(MNIST)
    with pytest.raises(ValueError, match="class names"):
        network_figure(MNIST, s.state, class_names=DIGITS[:3])
    with pytest.raises(ValueError, match="Target"):
        network_figure(MNIST, s.state, target=10)


def test_edge_hover_points_make_no_svg_nodes() -> None:
    _, fig = after(MNIST, 1)
    hover = [t for t in fig.data if t.name.startswith("edge numbers")]
    assert hover and all(t.mode == "none" and t.hoveron == "points" for t in hover)


def test_phase_view_mutes_what_the_phase_has_not_reached() -> None:
    view = phase_view(3, Phase("backward", 1))
    assert view.nodes == (None, "input_der", "input_der")
    assert view.edges == (None, "weight_der", "weight_der") and not view.forward
    assert phase_view(3, None).nodes == (None, None, None)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ([0, 3], (0, 3)),
        ([-1, 1], (-1, 1)),
        ([2.0, 1.0], (2, 1)),
        ([3, 0], None),
        ([0, 5], None),
        ([0.5, 1], None),
        (["0", 1], None),
        ([0], None),
        ({"0": 0, "1": 1}, None),
        (None, None),
    ],
)
def test_a_pick_from_the_browser_must_name_a_neuron(value: Any, expected: Any) -> None:
    assert picked(value, (2, 5, 3, 2)) == expected
