"""Initialisers follow torch.nn.init's scales, and a seed fixes the network."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.engine import INITIALIZERS, LayerSpec, NetworkSpec, SpecError, init_params

SPEC = NetworkSpec(400, (LayerSpec(300, "relu"), LayerSpec(10, "softmax")), "cross_entropy")


@pytest.mark.parametrize(
    ("method", "std"),
    [
        ("uniform", 1 / np.sqrt(12)),
        ("xavier_uniform", np.sqrt(2 / 700)),
        ("xavier_normal", np.sqrt(2 / 700)),
        ("he_uniform", np.sqrt(2 / 400)),
        ("he_normal", np.sqrt(2 / 400)),
        ("lecun_normal", np.sqrt(1 / 400)),
    ],
)
def test_scale_of_first_layer(method: str, std: float) -> None:
    w = init_params(SPEC, np.random.default_rng(0), method).weights[0]
    assert w.shape == (400, 300)
    assert abs(w.std() / std - 1) < 0.02
    assert abs(w.mean()) < 0.05 * std


def test_zeros_and_bias() -> None:
    p = init_params(SPEC, np.random.default_rng(0), "zeros", bias=0.1)
    assert not p.weights[0].any()
    np.testing.assert_array_equal(p.biases[1], np.full(10, 0.1))


def test_seed_determines_params() -> None:
    for method in INITIALIZERS:
        a = init_params(SPEC, np.random.default_rng(7), method)
        b = init_params(SPEC, np.random.default_rng(7), method)
        assert all(np.array_equal(u, v) for u, v in zip(a.weights, b.weights, strict=True))
    c = init_params(SPEC, np.random.default_rng(8))
    assert not np.array_equal(a.weights[0], c.weights[0])


def test_dtype_and_unknown_method() -> None:
    assert init_params(SPEC, np.random.default_rng(0), dtype=np.float32).dtype == np.float32
    with pytest.raises(SpecError, match="Unknown initialization"):
        init_params(SPEC, np.random.default_rng(0), "orthogonal")
