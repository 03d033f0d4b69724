"""The Training views' figures, read through ``fig.data``: heatmap shapes, the points and the
ringed mistakes on the plane, one tile per neuron, weight images that are the weights, a
confusion matrix that sums to the test set, a gallery that is really misclassified."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.analysis.learned import (
    GRID,
    class_accuracy,
    confusion_matrix,
    histograms,
    misclassified,
    plane_bounds,
    plane_maps,
    predict,
    wrong,
)
from explorer.data import load_digits_8x8, make_toy
from explorer.engine import Stepper, TrainConfig, init_params, predict_classes
from explorer.figures import (
    boundary_figure,
    class_accuracy_figure,
    confusion_figure,
    contribution_figure,
    curves_figure,
    histograms_figure,
    misclassified_figure,
    neuron_maps_figure,
    probabilities_figure,
    weight_images_figure,
)
from explorer.state.settings import Settings
from tests.conftest import net

PLANE = net((2, 6, 6, 1), "tanh", "sigmoid", "binary_cross_entropy")


def traces(fig, kind: str) -> list:
    return [t for t in fig.data if t.type == kind]


def named(fig, name: str):
    return next(t for t in fig.data if t.name == name)


@pytest.fixture(scope="module")
def circle():
    return make_toy("circle", n_points=200, noise=0.1, seed=0)


def plane_of(spec, data, seed: int = 0):
    params = init_params(spec, np.random.default_rng(seed))
    return params, plane_maps(spec, params, plane_bounds(data.x_train, data.x_test))


def test_boundary_heatmap_points_and_ringed_mistakes(circle) -> None:
    params, maps = plane_of(PLANE, circle)
    test_wrong = wrong(circle.y_test, predict(PLANE, params, circle.x_test))
    fig = boundary_figure(
        maps,
        x_train=circle.x_train,
        y_train=circle.y_train,
        x_test=circle.x_test,
        y_test=circle.y_test,
        classify=True,
        test_wrong=test_wrong,
        class_names=circle.class_names,
    )
    heat = named(fig, "output")
    assert np.asarray(heat.z).shape == (GRID, GRID) and len(heat.x) == len(heat.y) == GRID
    assert (heat.zmin, heat.zmax) == (0.0, 1.0)
    assert len(named(fig, "train").x) == len(circle.x_train)
    assert len(named(fig, "test").x) == len(circle.x_test)
    ring = next(t for t in fig.data if t.name.startswith("test, wrong"))
    assert 0 < len(ring.x) == int(test_wrong.sum())
    np.testing.assert_allclose(ring.x, circle.x_test[test_wrong, 0])
    assert f"({int(test_wrong.sum())})" in ring.name


def test_discretized_boundary_shows_classes(circle) -> None:
    _, maps = plane_of(PLANE, circle)
    fig = boundary_figure(
        maps,
        x_train=circle.x_train,
        y_train=circle.y_train,
        x_test=circle.x_test,
        y_test=circle.y_test,
        classify=True,
        discretize=True,
    )
    assert set(np.unique(np.asarray(named(fig, "output").z))) <= {0.0, 1.0}
    assert not any(t.name.startswith("test, wrong") for t in fig.data)


def test_regression_as_heatmap_or_surface() -> None:
    data = make_toy("plane", n_points=100, seed=0)
    spec = net((2, 4, 1), "tanh", "identity", "mse")
    _, maps = plane_of(spec, data)
    kw = {
        "x_train": data.x_train,
        "y_train": data.y_train,
        "x_test": data.x_test,
        "y_test": data.y_test,
        "classify": False,
    }
    heat = named(boundary_figure(maps, **kw), "output")
    assert heat.zmin == -heat.zmax and np.asarray(heat.z).shape == (GRID, GRID)
    fig = boundary_figure(maps, surface=True, **kw)
    (surface,) = traces(fig, "surface")
    assert np.asarray(surface.z).shape == (GRID, GRID)
    assert [len(t.z) for t in traces(fig, "scatter3d")] == [len(data.x_train), len(data.x_test)]


def test_more_than_two_classes_take_a_band_each(circle) -> None:
    spec = net((2, 5, 3), "tanh", "softmax", "cross_entropy")
    _, maps = plane_of(spec, circle)
    fig = boundary_figure(
        maps,
        x_train=circle.x_train,
        y_train=circle.y_train,
        x_test=circle.x_test,
        y_test=circle.y_test,
        classify=True,
        class_names=("a", "b", "c"),
    )
    heat = named(fig, "output")
    assert (heat.zmin, heat.zmax) == (-0.5, 2.5)
    assert set(np.unique(np.asarray(heat.z))) <= {0.0, 1.0, 2.0}


def test_one_tile_per_neuron_and_the_weights_between(circle) -> None:
    params, maps = plane_of(PLANE, circle)
    fig = neuron_maps_figure(PLANE, params, maps)
    tiles = traces(fig, "heatmap")
    assert len(tiles) == 2 + 6 + 6 + 1
    assert {np.asarray(t.z).shape for t in tiles} == {(30, 30)}
    assert [t.name for t in tiles[:3]] == ["x1", "x2", "layer 1 · tanh, unit 0"]
    # a tile is that neuron's map, thinned to every second grid point
    np.testing.assert_allclose(tiles[2].z, maps.layers[0][0, ::2, ::2], rtol=1e-6)
    # sigmoid output on 0..1, tanh layers symmetric
    assert (tiles[-1].zmin, tiles[-1].zmax) == (0.0, 1.0) and tiles[5].zmin == -tiles[5].zmax
    lines = traces(fig, "scatter")
    assert len(lines) <= 6
    n_edges = sum(int(np.isnan(np.asarray(t.x, dtype=float)).sum()) for t in lines)
    assert n_edges == 2 * 6 + 6 * 6 + 6 * 1


def test_a_wide_layer_shows_its_first_tiles_and_says_so(circle) -> None:
    spec = net((2, 40, 1), "relu", "sigmoid", "binary_cross_entropy")
    params, maps = plane_of(spec, circle)
    fig = neuron_maps_figure(spec, params, maps, max_units=16)
    assert len(traces(fig, "heatmap")) == 2 + 16 + 1
    assert any("24 more" in note.text for note in fig.layout.annotations)


@pytest.fixture(scope="module")
def digits():
    return load_digits_8x8()


@pytest.fixture(scope="module")
def digits_net(digits):
    spec = Settings(
        dataset="digits-8x8",
        hidden_sizes=(12,),
        hidden_activations=("relu",),
        head="softmax + cross-entropy",
    ).network_spec(digits)
    stepper = Stepper(spec, TrainConfig(batch_size=32), digits.x_train, digits.y_train, seed=0)
    stepper.run_steps(20)  # partly trained: some right, some wrong
    return spec, stepper.state.params


def test_weight_images_are_the_weights(digits_net) -> None:
    _, params = digits_net
    fig = weight_images_figure(params.weights[0], (8, 8), selected=3)
    tiles = traces(fig, "heatmap")
    assert len(tiles) == 12
    # row 0 of the image is at the top: the heatmap's rows run upwards
    np.testing.assert_allclose(tiles[5].z, params.weights[0][:, 5].reshape(8, 8)[::-1], rtol=1e-6)
    assert tiles[5].zmin == -tiles[5].zmax == -np.abs(params.weights[0][:, 5]).max()
    assert len(fig.layout.shapes) == 1
    assert not weight_images_figure(params.weights[0], (8, 8)).layout.shapes


def test_contribution_is_weights_times_input(digits, digits_net) -> None:
    _, params = digits_net
    x, w, b = digits.x_test[0], params.weights[0][:, 2], float(params.biases[0][2])
    fig = contribution_figure(x, w, b, (8, 8), unit=2)
    image, weights, product = traces(fig, "heatmap")
    np.testing.assert_allclose(image.z, x.reshape(8, 8)[::-1])
    np.testing.assert_allclose(weights.z, w.reshape(8, 8)[::-1], rtol=1e-6)
    np.testing.assert_allclose(product.z, (w * x).reshape(8, 8)[::-1], rtol=1e-6)
    z = float(w @ x) + b
    assert any(f"z = {z:.4g}" in note.text for note in fig.layout.annotations)


def test_confusion_matrix_sums_to_the_test_size(digits, digits_net) -> None:
    spec, params = digits_net
    predicted = predict_classes(predict(spec, params, digits.x_test))
    confusion = confusion_matrix(digits.y_test, predicted, digits.n_classes)
    fig = confusion_figure(confusion, digits.class_names)
    (heat,) = fig.data
    assert np.asarray(heat.z).sum() == len(digits.y_test)
    assert np.asarray(heat.z).shape == (10, 10) and heat.texttemplate == "%{z}"
    bars = class_accuracy_figure(class_accuracy(confusion), digits.class_names).data[0]
    np.testing.assert_allclose(bars.y, np.diag(confusion) / confusion.sum(axis=1))


def test_gallery_digits_are_really_misclassified(digits, digits_net) -> None:
    spec, params = digits_net
    output = predict(spec, params, digits.x_test)
    miss = misclassified(digits.y_test, output, limit=12)
    assert len(miss) == 12
    fig = misclassified_figure(
        digits.x_test[miss], (8, 8), digits.y_test[miss], output[miss], digits.class_names
    )
    tiles = traces(fig, "heatmap")
    assert len(tiles) == 12
    for tile, i, note in zip(tiles, miss, fig.layout.annotations, strict=True):
        np.testing.assert_allclose(tile.z, digits.x_test[i].reshape(8, 8)[::-1])
        true, predicted = note.text.split(" (")[0].split(" → ")
        assert true == str(digits.y_test[i]) != predicted
        assert predicted == str(int(np.argmax(output[i])))
    assert len(named(fig, "probabilities").hovertext) == 12


def test_an_empty_gallery_says_so() -> None:
    fig = misclassified_figure(
        np.zeros((0, 64)), (8, 8), np.zeros(0, int), np.zeros((0, 10)), "0123456789"
    )
    assert not traces(fig, "heatmap")
    assert "No misclassified" in fig.layout.annotations[0].text


def test_probabilities_colour_the_prediction_and_the_missed_label() -> None:
    names = ("a", "b", "c")
    fig = probabilities_figure(np.array([0.2, 0.7, 0.1]), names, label=0)
    (bars,) = fig.data
    np.testing.assert_allclose(bars.y, [0.2, 0.7, 0.1])
    assert bars.marker.color == ("#2ca02c", "#d62728", "#b0b8c1")
    right = probabilities_figure(np.array([0.2, 0.7, 0.1]), names, label=1).data[0]
    assert right.marker.color[1] == "#1f77b4"
    single = probabilities_figure(np.array([0.8]), ("no", "yes")).data[0]
    np.testing.assert_allclose(single.y, [0.2, 0.8])


def test_histograms_one_panel_per_layer() -> None:
    params = init_params(PLANE, np.random.default_rng(0))
    hists = histograms(params.weights, bins=10)
    fig = histograms_figure(hists, ["l1", "l2", "out"], x_title="w")
    assert [t.xaxis for t in fig.data] == ["x", "x2", "x3"]
    assert [int(np.sum(t.y)) for t in fig.data] == [w.size for w in params.weights]
    assert fig.layout.xaxis3.title.text == "w"


def test_curves_along_epochs_on_a_log_scale() -> None:
    fig = curves_figure([0.0, 0.5, 1.0], {"loss": [1.0, 0.5, None]}, x_title="epoch", log_y=True)
    assert fig.layout.xaxis.title.text == "epoch" and fig.layout.yaxis.type == "log"
    assert list(fig.data[0].x) == [0.0, 0.5, 1.0]


def test_steps_get_whole_number_ticks_epochs_keep_plotlys() -> None:
    """Two steps (0 and 1) are not ticked 0, 0.2, ..., 1: whole steps tick on whole numbers,
    at most eight of them; fractional epochs keep plotly's own ticks."""
    two = curves_figure([0, 1], {"loss": [1.0, 0.9]}).layout.xaxis
    assert (two.tickmode, two.tick0, two.dtick, two.tickformat) == ("linear", 0, 1, "d")
    long = curves_figure(list(range(0, 16001, 800)), {"loss": [1.0] * 21}).layout.xaxis
    assert long.dtick == 2000 and 16000 / long.dtick <= 8
    epochs = curves_figure([0.0, 0.04, 0.08], {"loss": [1.0, 0.9, 0.8]}, x_title="epoch")
    assert epochs.layout.xaxis.dtick is None and epochs.layout.xaxis.tickmode is None


def test_accuracy_curves_in_percent_as_the_tiles() -> None:
    fig = curves_figure([0, 1, 2], {"test accuracy": [0.5, 0.929, None]}, percent=True)
    np.testing.assert_allclose(fig.data[0].y[:2], [50.0, 92.9])
    assert fig.data[0].y[2] is None
    assert fig.layout.yaxis.ticksuffix == " %" and fig.layout.yaxis.title.text == "%"
    assert "%{y:.1f} %" in fig.data[0].hovertemplate
    loss = curves_figure([0, 1], {"loss": [0.5, 0.4]}, y_title="loss")
    assert list(loss.data[0].y) == [0.5, 0.4] and loss.layout.yaxis.ticksuffix is None
