"""The CNN's dense part as the Explorer's graph: its input image holds the last block's maps in
a grid, the reordered first-layer weights still give the engine's z, the neurons colour by what
the phase computed (the engine's numbers), the output units name the classes with the target and
the prediction, and the phase's layer is highlighted only when it is a dense layer's."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.engine import LayerSpec, Phase, TrainConfig
from explorer.engine.conv import ConvBlockSpec, ConvNetSpec, ConvStepper
from explorer.figures.conv_dense import (
    dense_figure,
    dense_phase,
    dense_state,
    feature_grid,
    feature_image_shape,
)
from explorer.figures.network import NODE_TRACE
from tests.conftest import graph_labels

# 12x12 -> 4 maps 10x10 -> pooled 5x5: 100 features, more than the graph draws as neurons
SPEC = ConvNetSpec(
    (12, 12),
    (ConvBlockSpec(4, 3, "valid", "relu", True),),
    (LayerSpec(5, "tanh"), LayerSpec(3, "softmax")),
)
NAMES = ("cat", "dog", "owl")


def stepper() -> ConvStepper:
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(12, 144)), rng.integers(0, 3, 12)
    return ConvStepper(SPEC, TrainConfig(batch_size=4), x, y, seed=1)


def figure(s: ConvStepper, sample: int = 1, show: str = "phase") -> object:
    target = int(s.state.target[sample])
    return dense_figure(
        SPEC,
        s.state,
        phase=s.last_phase,
        sample=sample,
        class_names=NAMES,
        target=target,
        show=show,
    )


def trace(fig: object, name: str) -> object:
    (found,) = [t for t in fig.data if t.name == name]  # type: ignore[attr-defined]
    return found


def colours(fig: object) -> list[float | str]:
    return list(trace(fig, NODE_TRACE).marker.color)  # type: ignore[attr-defined]


def shown(values: np.ndarray) -> list[float]:
    return [float(f"{v:.4g}") for v in values]


def test_the_grid_is_the_squarest_factor_pair() -> None:
    assert feature_grid(SPEC) == (2, 2) and feature_image_shape(SPEC) == (10, 10)
    for filters, grid in [(1, (1, 1)), (5, (1, 5)), (6, (2, 3)), (8, (2, 4)), (16, (4, 4))]:
        spec = ConvNetSpec((12, 12), (ConvBlockSpec(filters),), (LayerSpec(3, "softmax"),))
        assert feature_grid(spec) == grid


def test_the_image_holds_the_maps_in_a_grid_and_the_weights_follow_them() -> None:
    s = stepper()
    s.advance()  # the block's forward: the features are known, the dense layers not yet
    pooled = s.state.blocks[0].pooled
    assert pooled is not None
    fig = figure(s)
    image = np.asarray(trace(fig, "input image").z, dtype=float)[::-1]  # row 0 at the top
    for f in range(4):
        r, c = divmod(f, 2)
        np.testing.assert_allclose(image[5 * r : 5 * r + 5, 5 * c : 5 * c + 5], pooled[1, f])
    assert set(colours(fig)) == {"#dcdcdc"}  # nothing of the head computed yet
    s.advance()  # the first dense layer
    d = dense_state(SPEC, s.state)
    # the reordered input and weights give the engine's z exactly as the original order does
    z = d.x @ d.params.weights[0] + d.params.biases[0]
    np.testing.assert_allclose(z, s.state.z[0], rtol=0, atol=1e-12)
    np.testing.assert_array_equal(
        np.sort(d.params.weights[0], axis=0), np.sort(s.state.params.weights[1], axis=0)
    )


def test_before_the_blocks_run_the_image_is_blank() -> None:
    image = np.asarray(trace(figure(stepper()), "input image").z, dtype=float)
    assert np.isnan(image).all()


def test_the_output_neurons_show_the_engines_activations_and_the_class_names() -> None:
    s = stepper()
    for _ in range(3):  # block, dense layer 1, output layer
        s.advance()
    assert s.last_phase == Phase("forward", 2)
    fig = figure(s)
    a = s.state.a
    assert colours(fig) == shown(a[0][1]) + shown(a[1][1])
    notes = graph_labels(fig)
    predicted = int(np.argmax(a[1][1]))
    target = int(s.state.target[1])
    assert f"<b>{NAMES[predicted]}</b> ◂ predicted" in " ".join(notes)
    assert any(NAMES[target] in n and "target" in n for n in notes)
    assert any("forward, layer 2" in n for n in notes)  # the phase's band names the layer
    assert [sh.name for sh in fig.layout.shapes].count("phase") == 1  # type: ignore[attr-defined]


def test_after_the_blocks_backward_the_head_shows_deltas_and_no_band() -> None:
    s = stepper()
    for _ in range(7):  # forward x3, error, backward output, dense 1, block
        s.advance()
    assert s.last_phase == Phase("backward", 0)
    fig = figure(s)
    g = [s.state.layer_gradients(layer) for layer in (1, 2)]
    assert colours(fig) == shown(g[0].input_der[1]) + shown(g[1].input_der[1])  # type: ignore[union-attr]
    assert "phase" not in [sh.name for sh in fig.layout.shapes]  # type: ignore[attr-defined]
    d = dense_state(SPEC, s.state)
    rebuilt = d.x.T @ d.back[-1].input_der  # dL/dW = x^T delta, in the image's order
    np.testing.assert_allclose(d.back[-1].weight_der, rebuilt, rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    ("phase", "head"),
    [
        (None, None),
        (Phase("forward", 0), None),
        (Phase("forward", 1), Phase("forward", 0)),
        (Phase("error"), Phase("error")),
        (Phase("backward", 2), Phase("backward", 1)),
        (Phase("backward", 0), None),
        (Phase("update"), Phase("update")),
    ],
)
def test_phases_are_renumbered_for_the_head(phase: Phase | None, head: Phase | None) -> None:
    assert dense_phase(SPEC, phase) == head
