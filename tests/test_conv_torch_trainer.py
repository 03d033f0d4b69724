"""The torch backend trains the same CNN as the NumPy engine: ten steps of sgd, momentum and
adam with l2 give the engine's parameters to 1e-10 in float64, parameters convert exactly
both ways, evaluation agrees, and an overflow is named and rolled back."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.engine import LayerSpec, NonFiniteError, Params, TrainConfig, epoch_batches
from explorer.engine.conv import (
    ConvBlockSpec,
    ConvNetSpec,
    evaluate_conv,
    init_conv_params,
    train_conv_steps,
)
from explorer.engine.losses import encode_targets
from explorer.engine.optim import init_opt_state

torch = pytest.importorskip("torch", reason="torch is not installed (pip install '.[torch]')")

from explorer.torch_backend.conv_model import build_conv_model, conv_model_params  # noqa: E402
from explorer.torch_backend.trainer import TorchTrainer  # noqa: E402

SPEC = ConvNetSpec(
    (9, 8),
    (ConvBlockSpec(3, 3, "same", "tanh", True), ConvBlockSpec(2, 3, "valid", "relu", False)),
    (LayerSpec(5, "elu"), LayerSpec(4, "softmax")),
)
TOL = 1e-10


def data(n: int = 40) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    return rng.normal(size=(n, 72)), rng.integers(0, 4, n)


def params() -> Params:
    p = init_conv_params(SPEC, np.random.default_rng(1), "xavier_normal")
    rng = np.random.default_rng(2)
    return Params(p.weights, tuple(rng.normal(0, 0.1, b.shape) for b in p.biases))


def test_parameters_convert_exactly_both_ways() -> None:
    p = params()
    back = conv_model_params(build_conv_model(SPEC, p, dtype=torch.float64))
    for a, b in zip((*p.weights, *p.biases), (*back.weights, *back.biases), strict=True):
        assert a.shape == b.shape and np.array_equal(a, b)


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_ten_steps_match_the_numpy_engine(optimizer: str) -> None:
    x, y = data()
    config = TrainConfig(optimizer=optimizer, learning_rate=0.05, batch_size=8, l2=0.01)
    target = encode_targets(SPEC.head, y, np.float64)
    batches = (epoch_batches(len(x), 8, 0, 0) + epoch_batches(len(x), 8, 0, 1))[:10]
    p = params()
    engine = train_conv_steps(SPEC, p, init_opt_state(p, config), config, x, target, batches)
    trainer = TorchTrainer(SPEC, p, config, x, target, device="cpu", dtype="float64")
    losses = trainer.train_batches(batches)
    np.testing.assert_allclose(losses, engine.losses, rtol=0, atol=TOL)
    got = trainer.params()
    for a, b in zip(
        (*engine.params.weights, *engine.params.biases), (*got.weights, *got.biases), strict=True
    ):
        np.testing.assert_allclose(b, a, rtol=0, atol=TOL)
    mine = evaluate_conv(SPEC, engine.params, x, y)
    theirs = trainer.evaluate(x, y, classify=True)
    assert abs(mine.loss - theirs.loss) < TOL and mine.accuracy == theirs.accuracy


def test_an_overflow_is_named_and_rolled_back() -> None:
    x, y = data()
    x[5] = np.inf
    p = params()
    config = TrainConfig(learning_rate=0.1, batch_size=40)
    target = encode_targets(SPEC.head, y, np.float64)
    trainer = TorchTrainer(SPEC, p, config, x, target, device="cpu", dtype="float64")
    with pytest.raises(NonFiniteError, match="input"):
        trainer.train_batches([np.arange(40)])
    for a, b in zip(p.weights, trainer.params().weights, strict=True):
        assert np.array_equal(a, b)
