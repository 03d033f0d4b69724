"""The numbers behind the Training views: maps of the input plane (one pass, equal to the
forward pass point by point, fast), predictions, confusion matrix, mistakes, gradient norms,
dead and saturated units, histograms; and a network trained on xor whose boundary classifies
the test points."""

from __future__ import annotations

import time

import numpy as np
import pytest

from explorer.analysis.learned import (
    GRID,
    batch_gradient_norms,
    class_accuracy,
    class_probabilities,
    confusion_matrix,
    decision_map,
    gradient_norms,
    histogram,
    misclassified,
    plane_bounds,
    plane_maps,
    predict,
    unit_health,
    wrong,
)
from explorer.data import make_toy
from explorer.engine import (
    LayerSpec,
    NetworkSpec,
    Params,
    Stepper,
    TrainConfig,
    backward,
    error,
    forward,
    init_params,
    predict_classes,
)
from tests.conftest import net

PLANE = net((2, 6, 6, 1), "tanh", "sigmoid", "binary_cross_entropy")
BOUNDS = (-6.0, 6.0, -5.0, 5.0)


def params_of(spec: NetworkSpec, seed: int = 0) -> Params:
    return init_params(spec, np.random.default_rng(seed))


def test_plane_maps_hold_every_neuron_over_the_grid() -> None:
    params = params_of(PLANE)
    maps = plane_maps(PLANE, params, BOUNDS)
    assert [m.shape for m in maps.layers] == [(6, GRID, GRID), (6, GRID, GRID), (1, GRID, GRID)]
    assert maps.x1[0] == -6 and maps.x1[-1] == 6 and maps.x2[0] == -5 and maps.x2[-1] == 5
    # row i lies at x2[i], column j at x1[j]: the same numbers as one point's forward pass
    for i, j in [(0, 0), (7, 41), (GRID - 1, 3)]:
        point = np.array([[maps.x1[j], maps.x2[i]]])
        fwd = forward(PLANE, params, point)
        for layer, a in enumerate(fwd.output):
            np.testing.assert_allclose(maps.layers[layer][:, i, j], a[0], rtol=1e-12)
    assert maps.output is maps.layers[-1]


def test_plane_maps_of_a_2_6_6_1_network_take_at_most_20_ms() -> None:
    params = params_of(PLANE).astype(np.float32)
    plane_maps(PLANE, params, BOUNDS)
    times = []
    for _ in range(15):
        start = time.perf_counter()
        plane_maps(PLANE, params, BOUNDS)
        times.append(time.perf_counter() - start)
    assert float(np.median(times)) <= 0.020


def test_plane_maps_need_two_inputs() -> None:
    spec = net((3, 2, 1), "tanh", "sigmoid", "mse")
    with pytest.raises(ValueError, match="2 inputs"):
        plane_maps(spec, params_of(spec), BOUNDS)


def test_plane_bounds_hold_every_point_with_a_margin() -> None:
    a = np.array([[0.0, 1.0], [2.0, 3.0]])
    b = np.array([[1.0, 5.0]])
    x0, x1, y0, y1 = plane_bounds(a, b, margin=0.5)
    assert (x0, x1, y0, y1) == (-1.0, 3.0, -1.0, 7.0)
    same = plane_bounds(np.array([[1.0, 1.0]]))
    assert same == (0.0, 2.0, 0.0, 2.0)


def test_decision_map_per_head() -> None:
    rng = np.random.default_rng(0)
    one = rng.random((1, 4, 5))
    assert np.array_equal(decision_map(one, classify=True), one[0])
    assert np.array_equal(decision_map(one, classify=True, discretize=True), one[0] > 0.5)
    assert np.array_equal(decision_map(one, classify=False), one[0])
    two = rng.dirichlet([1, 1], size=(4, 5)).transpose(2, 0, 1)
    assert np.array_equal(decision_map(two, classify=True), two[1])
    assert np.array_equal(decision_map(two, classify=True, discretize=True), two[1] > two[0])
    three = rng.dirichlet([1, 1, 1], size=(4, 5)).transpose(2, 0, 1)
    assert np.array_equal(decision_map(three, classify=True), three.argmax(axis=0))


def test_predict_goes_in_chunks_and_equals_forward(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("explorer.analysis.learned.EVAL_CHUNK", 7)
    spec = net((4, 5, 3), "relu", "softmax", "cross_entropy")
    params = params_of(spec)
    x = np.random.default_rng(1).normal(size=(30, 4)).astype(np.float32)
    out = predict(spec, params, x)
    np.testing.assert_allclose(out, forward(spec, params, x.astype(np.float64)).output[-1])


def test_confusion_matrix_and_accuracy_per_class() -> None:
    labels = np.array([0, 0, 1, 1, 1, 2])
    predicted = np.array([0, 1, 1, 1, 0, 2])
    confusion = confusion_matrix(labels, predicted, 4)
    assert confusion.sum() == len(labels)
    assert confusion[0].tolist() == [1, 1, 0, 0] and confusion[1].tolist() == [1, 2, 0, 0]
    acc = class_accuracy(confusion)  # class 3 has no samples: NaN, without a warning
    assert acc[:3].tolist() == [0.5, 2 / 3, 1.0] and np.isnan(acc[3])


def test_misclassified_are_wrong_and_most_confident_first() -> None:
    labels = np.array([0, 1, 2, 0, 1])
    output = np.array(
        [[0.2, 0.7, 0.1], [0.1, 0.8, 0.1], [0.9, 0.05, 0.05], [0.4, 0.3, 0.3], [0.5, 0.4, 0.1]]
    )
    assert wrong(labels, output).tolist() == [True, False, True, False, True]
    assert misclassified(labels, output).tolist() == [2, 0, 4]
    assert misclassified(labels, output, limit=1).tolist() == [2]


def test_a_single_unit_gives_two_class_probabilities() -> None:
    p = class_probabilities(np.array([[0.25], [0.9]]))
    np.testing.assert_allclose(p, [[0.75, 0.25], [0.1, 0.9]])
    # a single unit's confidence is the probability of the class it predicts
    labels, output = np.array([1, 0, 1, 0]), np.array([[0.4], [0.95], [0.1], [0.2]])
    assert misclassified(labels, output).tolist() == [1, 2, 0]


def test_gradient_norms_per_layer() -> None:
    spec = net((3, 4, 2), "tanh", "sigmoid", "mse")
    params = params_of(spec)
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(8, 3)), rng.random((8, 2))
    fwd = forward(spec, params, x)
    grads = backward(spec, params, fwd, error(spec, fwd, y))
    norms = gradient_norms(grads)
    expected = [
        np.linalg.norm(np.concatenate([w.ravel(), b]))
        for w, b in zip(grads.weight_der, grads.bias_der, strict=True)
    ]
    np.testing.assert_allclose(norms, expected)
    assert batch_gradient_norms(spec, params, x, y) == norms


def test_unit_health_finds_dead_and_saturated_units() -> None:
    spec = NetworkSpec(
        2, (LayerSpec(3, "relu"), LayerSpec(2, "tanh"), LayerSpec(1, "sigmoid")), "mse"
    )
    w1 = np.array([[1.0, 0.0, 0.5], [0.0, 0.0, 0.5]])
    b1 = np.array([0.0, -1.0, 0.0])  # unit 1 never gets z > 0: dead
    w2 = np.array([[40.0, 0.1], [0.0, 0.0], [40.0, 0.1]])  # unit 0 pinned at +-1: saturated
    params = Params((w1, w2, np.ones((2, 1))), (b1, np.array([5.0, 0.0]), np.zeros(1)))
    x = np.abs(np.random.default_rng(3).normal(size=(50, 2))) + 0.1
    first, second = unit_health(spec, forward(spec, params, x))
    assert first.dead.tolist() == [False, True, False]
    assert not first.saturated.any()
    assert second.saturated.tolist() == [True, False] and not second.dead.any()


def test_histogram_counts_every_value() -> None:
    values = np.random.default_rng(4).normal(size=(20, 7))
    hist = histogram(values, bins=12)
    assert hist.counts.sum() == values.size and len(hist.edges) == 13
    for constant in (np.zeros(5), np.array([1e150, 1e150, np.nextafter(1e150, 2e150)])):
        hist = histogram(constant)
        assert hist.counts.tolist() == [len(constant)] and hist.edges[0] < hist.edges[1]


def test_a_network_trained_on_xor_has_a_boundary_that_classifies_the_test_points() -> None:
    data = make_toy("xor", n_points=400, noise=0.0, seed=1)
    spec = NetworkSpec(
        2,
        (LayerSpec(8, "tanh"), LayerSpec(8, "tanh"), LayerSpec(1, "sigmoid")),
        "binary_cross_entropy",
    )
    config = TrainConfig(optimizer="adam", learning_rate=0.03, batch_size=10)
    stepper = Stepper(spec, config, data.x_train, data.y_train, seed=0)
    stepper.run_steps(400)
    params = stepper.state.params
    maps = plane_maps(spec, params, plane_bounds(data.x_train, data.x_test))
    boundary = decision_map(maps.output, classify=True, discretize=True)
    # each test point takes the class of the grid cell it falls in
    col = np.abs(data.x_test[:, :1] - maps.x1[None, :]).argmin(axis=1)
    row = np.abs(data.x_test[:, 1:] - maps.x2[None, :]).argmin(axis=1)
    accuracy = float((boundary[row, col] == data.y_test).mean())
    assert accuracy >= 0.95
    # and the boundary agrees with the network's own predictions on the points
    direct = predict_classes(predict(spec, params, data.x_test))
    assert float((boundary[row, col] == direct).mean()) >= 0.95
