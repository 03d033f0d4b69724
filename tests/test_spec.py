"""Specs refuse invalid networks and settings with messages a student can act on."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.engine import (
    LayerSpec,
    NetworkSpec,
    Params,
    SpecError,
    TrainConfig,
    encode_targets,
    init_params,
)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: LayerSpec(0, "relu"), "between 1 and"),
        (lambda: LayerSpec(3, "swish2"), "Unknown activation"),
        (lambda: NetworkSpec(2, (), "mse"), "at least an output layer"),
        (lambda: NetworkSpec(0, (LayerSpec(1, "sigmoid"),)), "input needs"),
        (lambda: NetworkSpec(2, (LayerSpec(3, "relu"),), "cross_entropy"), "softmax output"),
        (lambda: NetworkSpec(2, (LayerSpec(1, "softmax"),), "cross_entropy"), "two output"),
        (lambda: NetworkSpec(2, (LayerSpec(1, "tanh"),), "binary_cross_entropy"), "sigmoid"),
        (lambda: NetworkSpec(2, (LayerSpec(3, "softmax"), LayerSpec(1, "relu"))), "output layer"),
        (lambda: NetworkSpec(2, (LayerSpec(1, "relu"),), "hinge"), "Unknown loss"),
        (lambda: TrainConfig(optimizer="lbfgs"), "Unknown optimizer"),
        (lambda: TrainConfig(learning_rate=float("nan")), "learning_rate"),
        (lambda: TrainConfig(learning_rate=-1.0), "learning_rate"),
        (lambda: TrainConfig(batch_size=0), "batch size"),
        (lambda: TrainConfig(beta2=1.0), "betas"),
    ],
)
def test_invalid_specs_are_refused(make: object, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        make()  # type: ignore[operator]


def test_sizes_and_params() -> None:
    spec = NetworkSpec(
        784,
        (LayerSpec(16, "relu"), LayerSpec(16, "relu"), LayerSpec(10, "softmax")),
        "cross_entropy",
    )
    assert spec.sizes == (784, 16, 16, 10)
    assert spec.describe() == "784-16-16-10"
    assert spec.n_params == 784 * 16 + 16 + 16 * 16 + 16 + 16 * 10 + 10


def test_params_are_read_only_and_checked() -> None:
    spec = NetworkSpec(2, (LayerSpec(3, "tanh"), LayerSpec(1, "sigmoid")))
    p = init_params(spec, np.random.default_rng(0))
    with pytest.raises(ValueError, match="read-only"):
        p.weights[0][0, 0] = 1.0
    bad = Params((np.zeros((2, 3)), np.zeros((4, 1))), (np.zeros(3), np.zeros(1)))
    with pytest.raises(SpecError, match="Layer 2"):
        bad.check_shapes(spec)


def test_encode_targets() -> None:
    ce = NetworkSpec(2, (LayerSpec(3, "softmax"),), "cross_entropy")
    assert encode_targets(ce, np.array([0, 2])).tolist() == [0, 2]
    with pytest.raises(SpecError, match=r"0\.\.2"):
        encode_targets(ce, np.array([0, 3]))
    mse = NetworkSpec(2, (LayerSpec(3, "sigmoid"),), "mse")
    np.testing.assert_array_equal(encode_targets(mse, np.array([1, 0])), [[0, 1, 0], [1, 0, 0]])
    single = NetworkSpec(2, (LayerSpec(1, "identity"),), "mse")
    assert encode_targets(single, np.array([0.5, 2.0])).shape == (2, 1)
