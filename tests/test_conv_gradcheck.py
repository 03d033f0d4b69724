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


def _fresh_default() -> tuple[ConvNetSpec, Params, np.ndarray, np.ndarray]:
    """The Convolution page's default CNN at init (zero biases) on its first mini-batch of the
    MNIST sample, whose blank patches put most ReLUs exactly at their kink z = 0."""
    from explorer.ui.conv_session import ConvSettings, build_conv

    run = build_conv(ConvSettings())
    s = run.stepper.state
    return run.spec, s.params, s.x, s.target


def test_a_fresh_default_cnn_passes_with_its_kinks_flagged_not_compared() -> None:
    spec, params, x, y = _fresh_default()
    assert not params.biases[0].any()

    check = conv_gradient_check(spec, params, x, y, max_per_layer=40, rng=np.random.default_rng(0))

    assert check.max_rel_error < 1e-6, check.max_rel_error_per_layer()
    by = {(c.layer, c.kind): c for c in check.checks}
    # a kernel weight meets 0 in a blank patch, so it moves no z sitting at 0; a bias moves
    # them all across the kink, where (L(b + h) - L(b - h)) / 2h measures no derivative
    assert not by[0, "weight"].at_kink.any()
    assert by[0, "bias"].at_kink.all() and by[0, "bias"].rel_error.max() > 0.1
    assert not by[1, "weight"].at_kink.any() and not by[1, "bias"].at_kink.any()


def test_a_wrong_kernel_gradient_of_the_fresh_default_cnn_is_still_caught(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import explorer.engine.conv.phases as phases

    real = phases.conv2d_kernel_der

    def one_off(*args: np.ndarray) -> np.ndarray:
        out = real(*args).copy()
        out[0, 0, 1, 1] *= 1.01  # one kernel entry's gradient 1 % off
        return out

    monkeypatch.setattr(phases, "conv2d_kernel_der", one_off)
    spec, params, x, y = _fresh_default()

    check = conv_gradient_check(spec, params, x, y)

    kernel = next(c for c in check.checks if c.layer == 0 and c.kind == "weight")
    flat = np.ravel_multi_index(kernel.index.T, (4, 1, 3, 3))
    assert kernel.rel_error[flat == 4].item() > 1e-3 and not kernel.at_kink[flat == 4].item()
    assert check.max_rel_error_per_layer()[0] > 1e-3
