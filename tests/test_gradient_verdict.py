"""The gradient check's verdict: pass or fail per layer against the stated tolerance, the layers
named as the graph names them, how many of each layer's gradients were compared."""

from __future__ import annotations

import dataclasses

import numpy as np

from explorer.analysis.gradient_verdict import TOLERANCE, gradient_verdict
from explorer.engine import GradientCheck, gradient_check, init_params
from tests.conftest import net

SPEC = net((3, 5, 4, 2), "tanh", "softmax", "cross_entropy")


def check() -> GradientCheck:
    rng = np.random.default_rng(0)
    params = init_params(SPEC, rng)
    x, y = rng.normal(size=(8, 3)), rng.integers(0, 2, size=8)
    return gradient_check(SPEC, params, x, y, max_per_layer=12, rng=np.random.default_rng(0))


def test_a_correct_backprop_passes_layer_by_layer_in_the_graphs_names() -> None:
    v = gradient_verdict(SPEC, check())
    assert v.passed and v.tolerance == TOLERANCE == 1e-6
    assert [row["layer"] for row in v.rows()] == [
        "layer 1 (tanh)",
        "layer 2 (tanh)",
        "output (softmax)",
    ]
    assert [row["verdict"] for row in v.rows()] == ["pass"] * 3
    # layer 1: 15 weights (12 sampled) and 5 biases; the output: 8 weights and 2 biases
    assert [row["checked"] for row in v.rows()] == ["17 of 20", "16 of 24", "10 of 10"]
    assert v.summary.startswith("Pass: all 43 gradients checked") and "1e-06" in v.summary


def test_one_wrong_gradient_fails_its_layer_and_names_it() -> None:
    c = check()
    bad = [
        dataclasses.replace(p, rel_error=p.rel_error + 1e-3)
        if p.layer == 2 and p.kind == "bias"
        else p
        for p in c.checks
    ]
    v = gradient_verdict(SPEC, GradientCheck(tuple(bad)))
    assert not v.passed
    assert [row["verdict"] for row in v.rows()] == ["pass", "pass", "FAIL"]
    assert v.summary.startswith("Fail:") and "output (softmax) (up to 1.0e-03)" in v.summary
    assert "layer 3" not in v.summary
