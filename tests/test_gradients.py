"""Backprop against finite differences: every activation, every loss, several architectures."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.engine import (
    ACTIVATIONS,
    HIDDEN_ACTIVATIONS,
    NetworkSpec,
    Params,
    backward,
    error,
    forward,
    gradient_check,
    init_params,
)
from tests.conftest import make_data, net

TOL = 1e-6
ARCHS = [(3, 2), (2, 5, 3), (4, 6, 5, 3)]


def _cases() -> list[tuple[tuple[int, ...], str, str, str]]:
    cases = []
    for sizes in ARCHS:
        for hidden in HIDDEN_ACTIVATIONS:
            cases.append((sizes, hidden, "softmax", "cross_entropy"))
            cases.append((sizes, hidden, "sigmoid", "binary_cross_entropy"))
        for output in ACTIVATIONS:  # mse takes any output activation, softmax included
            cases.append((sizes, "tanh", output, "mse"))
    return cases


def _max_rel_error(spec: NetworkSpec, batch: int, seed: int) -> float:
    rng = np.random.default_rng(seed)
    params = init_params(spec, rng, "xavier_normal", bias=0.1)
    x, t = make_data(spec, batch, rng)
    return gradient_check(spec, params, x, t).max_rel_error


@pytest.mark.parametrize(("sizes", "hidden", "output", "loss"), _cases())
def test_backprop_matches_finite_differences(
    sizes: tuple[int, ...], hidden: str, output: str, loss: str
) -> None:
    spec = net(sizes, hidden, output, loss)
    assert _max_rel_error(spec, batch=4, seed=sum(sizes)) <= TOL


@settings(max_examples=40, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 20), min_size=1, max_size=4),
    n_in=st.integers(1, 20),
    batch=st.integers(1, 16),
    hidden=st.sampled_from(HIDDEN_ACTIVATIONS),
    head=st.sampled_from(["mse", "cross_entropy", "binary_cross_entropy"]),
    seed=st.integers(0, 2**16),
)
def test_backprop_matches_finite_differences_on_random_networks(
    sizes: list[int], n_in: int, batch: int, hidden: str, head: str, seed: int
) -> None:
    output = {"mse": "identity", "cross_entropy": "softmax", "binary_cross_entropy": "sigmoid"}
    if head == "cross_entropy":
        sizes[-1] = max(sizes[-1], 2)
    spec = net((n_in, *sizes), hidden, output[head], head)
    assert _max_rel_error(spec, batch, seed) <= TOL


def test_gradient_check_catches_a_wrong_gradient(rng: np.random.Generator) -> None:
    """The check is not a tautology: its numeric side agrees with a plain float64 difference
    quotient computed here, and would flag a gradient that is off by 1%."""
    spec = net((3, 4, 2), "sigmoid", "softmax", "cross_entropy")
    params = init_params(spec, rng)
    x, t = make_data(spec, 5, rng)
    check = gradient_check(spec, params, x, t)
    w = params.weights[0].copy()
    h = 1e-5

    def loss(w0: np.ndarray) -> float:
        p = Params((w0.copy(), params.weights[1]), params.biases)
        return error(spec, forward(spec, p, x), t).loss

    w[1, 2] += h
    up = loss(w)
    w[1, 2] -= 2 * h
    down = loss(w)
    first = check.checks[0]
    k = int(np.flatnonzero((first.index == [1, 2]).all(axis=1))[0])
    assert first.numeric[k] == pytest.approx((up - down) / (2 * h), rel=1e-7)
    analytic = backward(
        spec, params, forward(spec, params, x), error(spec, forward(spec, params, x), t)
    )
    assert first.analytic[k] == analytic.weight_der[0][1, 2]
    wrong = 1.01 * first.analytic[k]
    assert abs(wrong - first.numeric[k]) / abs(first.numeric[k]) > 100 * TOL


def test_sampling_big_layers(rng: np.random.Generator) -> None:
    spec = net((784, 16, 10), "relu", "softmax", "cross_entropy")
    params = init_params(spec, rng)
    x, t = make_data(spec, 8, rng)
    check = gradient_check(spec, params, x, t, max_per_layer=50, rng=rng)
    assert [len(c.index) for c in check.checks] == [50, 16, 50, 10]
    assert check.max_rel_error <= TOL
    assert set(check.max_rel_error_per_layer()) == {0, 1}
