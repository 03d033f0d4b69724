"""The CNN's backprop against central finite differences, to 1e-6, for every kind of
parameter: kernels and biases of each block (valid and same padding, kernel 3 and 5, with
and without the pool, one and two blocks) and the dense layers after them."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.engine import LayerSpec, Params
from explorer.engine.conv import ConvBlockSpec, ConvNetSpec, conv_gradient_check, init_conv_params

OUT = (LayerSpec(3, "softmax"),)
CASES = {
    "valid k3 pool": ConvNetSpec((8, 8), (ConvBlockSpec(2, 3, "valid", "tanh", True),), OUT),
    "same k3 no pool": ConvNetSpec((6, 7), (ConvBlockSpec(2, 3, "same", "sigmoid", False),), OUT),
    "valid k5 no pool": ConvNetSpec((7, 7), (ConvBlockSpec(3, 5, "valid", "tanh", False),), OUT),
    "same k5 pool": ConvNetSpec((7, 6), (ConvBlockSpec(2, 5, "same", "elu", True),), OUT),
    "two blocks, hidden dense": ConvNetSpec(
        (10, 9),
        (ConvBlockSpec(2, 3, "same", "tanh", True), ConvBlockSpec(3, 3, "valid", "relu", False)),
        (LayerSpec(4, "tanh"), *OUT),
    ),
    "two blocks, both pooled": ConvNetSpec(
        (12, 12),
        (ConvBlockSpec(2, 5, "valid", "relu", True), ConvBlockSpec(2, 3, "same", "gelu", True)),
        OUT,
    ),
}


def _params(spec: ConvNetSpec) -> Params:
    rng = np.random.default_rng(7)
    p = init_conv_params(spec, rng, "xavier_normal")
    return Params(p.weights, tuple(rng.normal(0, 0.1, b.shape) for b in p.biases))


@pytest.mark.parametrize("spec", CASES.values(), ids=CASES.keys())
def test_every_gradient_matches_finite_differences(spec: ConvNetSpec) -> None:
    rng = np.random.default_rng(3)
    h, w = spec.input_shape
    x, y = rng.normal(size=(4, h * w)), rng.integers(0, 3, 4)

    check = conv_gradient_check(spec, _params(spec), x, y)

    kinds = {(c.layer, c.kind) for c in check.checks}
    assert kinds == {(layer, k) for layer in range(spec.n_layers) for k in ("weight", "bias")}
    kernels = [c for c in check.checks if c.layer < spec.n_blocks and c.kind == "weight"]
    assert [c.index.shape[1] for c in kernels] == [4] * spec.n_blocks  # (filter, channel, i, j)
    assert all(
        len(c.index) == np.prod(s) for c, s in zip(kernels, spec.param_shapes[0], strict=False)
    )
    assert check.max_rel_error < 1e-6, check.max_rel_error_per_layer()


def test_a_wrong_kernel_gradient_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """The check sees a kernel gradient off by a factor (it is not comparing backprop with
    itself)."""
    import explorer.engine.conv.phases as phases

    real = phases.conv2d_kernel_der
    monkeypatch.setattr(phases, "conv2d_kernel_der", lambda *a: 1.01 * real(*a))
    spec = CASES["valid k3 pool"]
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(4, 64)), rng.integers(0, 3, 4)

    per_layer = conv_gradient_check(spec, _params(spec), x, y).max_rel_error_per_layer()

    assert per_layer[0] > 1e-3 and per_layer[1] < 1e-6


def test_sampling_checks_at_most_the_number_asked() -> None:
    spec = CASES["two blocks, hidden dense"]
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(2, 90)), rng.integers(0, 3, 2)

    check = conv_gradient_check(
        spec, _params(spec), x, y, max_per_layer=5, rng=np.random.default_rng(1)
    )

    assert all(len(c.index) <= 5 for c in check.checks)
    assert check.max_rel_error < 1e-6
