"""The Explorer's gradient check at a ReLU kink: a bias that moves a unit's total input across
0 between b - h and b + h is flagged and counted as not compared, never as a failure, and a
wrong gradient away from the kink still fails."""

from __future__ import annotations

import numpy as np

from explorer.analysis.gradient_verdict import gradient_verdict
from explorer.engine import Params, gradient_check, init_params
from tests.conftest import net

SPEC = net((3, 4, 2), "relu", "softmax", "cross_entropy")


def _at_the_kink() -> tuple[Params, np.ndarray, np.ndarray]:
    """Zero biases and a batch of blank inputs: every hidden unit's z is exactly 0."""
    params = init_params(SPEC, np.random.default_rng(0))
    zero = Params(params.weights, tuple(np.zeros_like(b) for b in params.biases))
    return zero, np.zeros((5, 3)), np.arange(5) % 2


def test_biases_at_a_relu_kink_are_counted_not_compared() -> None:
    params, x, y = _at_the_kink()

    check = gradient_check(SPEC, params, x, y)

    hidden_bias = next(c for c in check.checks if c.layer == 0 and c.kind == "bias")
    assert hidden_bias.at_kink.all() and hidden_bias.rel_error.max() > 0.1
    v = gradient_verdict(SPEC, check)
    assert v.passed and v.at_kink == 4
    assert v.summary.startswith("Pass: all 22 gradients checked") and "4 more" in v.summary
    assert v.rows()[0]["at a kink, not compared"] == "4"


def test_a_wrong_gradient_away_from_the_kink_still_fails() -> None:
    params, x, y = _at_the_kink()
    check = gradient_check(SPEC, params, x, y)
    out_bias = next(c for c in check.checks if c.layer == 1 and c.kind == "bias")
    wrong = [
        type(c)(c.layer, c.kind, c.index, c.analytic, c.numeric, c.rel_error + 1e-3, c.at_kink)
        if c is out_bias
        else c
        for c in check.checks
    ]

    v = gradient_verdict(SPEC, type(check)(tuple(wrong)))

    assert not v.passed and [r["verdict"] for r in v.rows()] == ["pass", "FAIL"]
