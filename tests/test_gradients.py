"""Backprop against finite differences: every activation, every loss, several architectures."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import explorer.engine.gradcheck as gradcheck
from explorer.analysis.gradient_verdict import gradient_verdict
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
from explorer.engine.traces import Gradients
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


def test_the_check_compares_backprop_with_a_plain_difference_quotient(
    rng: np.random.Generator,
) -> None:
    """The check is not a tautology: its numeric side agrees with a plain float64 difference
    quotient computed here, its analytic side is backprop's."""
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
    assert check.max_rel_error <= TOL


def test_a_backprop_one_percent_off_in_one_weight_is_caught(
    rng: np.random.Generator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A planted bug inside the check's own backward pass: one weight's gradient 1 % off. The
    check flags that entry and no other, and the verdict fails its layer only."""
    spec = net((3, 4, 2), "sigmoid", "softmax", "cross_entropy")
    params = init_params(spec, rng)
    x, t = make_data(spec, 5, rng)

    def one_off(*args: Any) -> Gradients:
        grads = backward(*args)
        first = grads.weight_der[0].copy()  # the traces are read-only
        first[1, 2] *= 1.01
        return replace(grads, weight_der=(first, *grads.weight_der[1:]))

    monkeypatch.setattr(gradcheck, "backward", one_off)
    check = gradient_check(spec, params, x, t)
    first = check.checks[0]
    failed = first.index[first.rel_error > TOL]
    assert failed.tolist() == [[1, 2]] and first.rel_error.max() == pytest.approx(0.01, rel=0.01)
    assert all((c.rel_error <= TOL).all() for c in check.checks[1:])
    verdict = gradient_verdict(spec, check)
    assert not verdict.passed
    assert [r["verdict"] for r in verdict.rows()] == ["FAIL", "pass"]


def test_a_wrong_activation_derivative_fails_the_layers_below_it(
    rng: np.random.Generator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """tanh' written as 1 - tanh(z) (the square forgotten), as a student might: every
    gradient that backprop carries through a tanh layer is wrong, the output layer's are not."""
    spec = net((3, 5, 4, 2), "tanh", "softmax", "cross_entropy")
    params = init_params(spec, rng, "xavier_normal", bias=0.1)
    x, t = make_data(spec, 6, rng)
    tanh = ACTIVATIONS["tanh"]
    monkeypatch.setitem(ACTIVATIONS, "tanh", replace(tanh, der=lambda z: 1 - np.tanh(z)))
    verdict = gradient_verdict(spec, gradient_check(spec, params, x, t))
    assert [r["verdict"] for r in verdict.rows()] == ["FAIL", "FAIL", "pass"]
    assert verdict.summary.startswith("Fail:")


def test_sampling_big_layers(rng: np.random.Generator) -> None:
    spec = net((784, 16, 10), "relu", "softmax", "cross_entropy")
    params = init_params(spec, rng)
    x, t = make_data(spec, 8, rng)
    check = gradient_check(spec, params, x, t, max_per_layer=50, rng=rng)
    assert [len(c.index) for c in check.checks] == [50, 16, 50, 10]
    assert check.max_rel_error <= TOL
    assert set(check.max_rel_error_per_layer()) == {0, 1}
