"""The torch backend against the NumPy engine in float64 on the CPU: forward values, every
gradient of the trace, and the parameters after 20 optimizer steps, for every activation and
loss; parameter conversion, initialisation, device choice, overflow handling, the CUDA-graph
path's CPU fallback, and what happens without torch."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from explorer.engine import (
    HIDDEN_ACTIVATIONS,
    NetworkSpec,
    NonFiniteError,
    Params,
    TrainConfig,
    backward,
    epoch_batches,
    error,
    forward,
    init_opt_state,
    init_params,
    update,
)
from explorer.engine.init import INITIALIZERS
from tests.conftest import make_data, net

torch = pytest.importorskip("torch", reason="torch is not installed (pip install '.[torch]')")

from explorer.torch_backend import (  # noqa: E402
    DeviceError,
    TorchMissingError,
    phases,
    require_torch,
    torch_available,
)
from explorer.torch_backend.model import build_model, model_params  # noqa: E402
from explorer.torch_backend.trainer import (  # noqa: E402
    TorchTrainer,
    available_devices,
    select_device,
)

TOL = 1e-10
OUTPUTS = ("identity", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "gelu", "softplus")
OUTPUTS += ("silu", "softmax")


def _cases() -> list[tuple[tuple[int, ...], str, str, str]]:
    """Every hidden activation under both cross-entropies, every output activation under mse."""
    cases = [((4, 5, 3), h, "softmax", "cross_entropy") for h in HIDDEN_ACTIVATIONS]
    cases += [((3, 6, 4, 2), h, "sigmoid", "binary_cross_entropy") for h in HIDDEN_ACTIVATIONS]
    cases += [((3, 5, 2), "relu", out, "mse") for out in OUTPUTS]
    return cases


CASES = _cases()
CASE_IDS = [f"{h}-{o}-{loss}" for _, h, o, loss in CASES]


def close(a: np.ndarray, b: np.ndarray) -> None:
    assert a.shape == b.shape
    np.testing.assert_allclose(a, b, rtol=0, atol=TOL)


@pytest.mark.parametrize(("sizes", "hidden", "output", "loss"), CASES, ids=CASE_IDS)
def test_phases_match_the_engine(
    sizes: tuple[int, ...], hidden: str, output: str, loss: str
) -> None:
    spec = net(sizes, hidden, output, loss)
    rng = np.random.default_rng(len(hidden) * 7 + len(output))
    params = init_params(spec, rng, "xavier_normal", bias=0.05)
    x, t = make_data(spec, 9, rng)

    fwd = forward(spec, params, x)
    err = error(spec, fwd, t)
    grads = backward(spec, params, fwd, err)
    tfwd, terr, tgrads = phases.trace_step(spec, params, x, t)

    assert abs(err.loss - terr.loss) <= TOL
    close(err.output_der, terr.output_der)
    close(err.input_der, terr.input_der)
    for layer in range(len(spec.layers)):
        close(fwd.total_input[layer], tfwd.total_input[layer])
        close(fwd.output[layer], tfwd.output[layer])
        for field in ("output_der", "input_der", "weight_der", "bias_der"):
            close(getattr(grads, field)[layer], getattr(tgrads, field)[layer])
    assert not tgrads.weight_der[0].flags.writeable  # traces are read-only, as the engine's


def test_compare_with_engine_reports_every_quantity() -> None:
    spec = net((3, 4, 2), "gelu", "softmax", "cross_entropy")
    rng = np.random.default_rng(3)
    params = init_params(spec, rng, dtype=np.float32)
    x, t = make_data(spec, 5, rng)
    rows = phases.compare_with_engine(spec, params, x, t)
    assert [r["layer"] for r in rows] == [1, 2] and rows[0]["loss"] is None
    values = [v for r in rows for k, v in r.items() if k != "layer" and v is not None]
    assert len(values) == 2 * 6 + 1 and max(values) <= TOL  # type: ignore[type-var]


def engine_steps(
    spec: NetworkSpec,
    params: Params,
    config: TrainConfig,
    x: np.ndarray,
    t: np.ndarray,
    batches: list,
) -> Params:
    state = init_opt_state(params, config)
    for idx in batches:
        fwd = forward(spec, params, x[idx])
        params, state = update(
            params, backward(spec, params, fwd, error(spec, fwd, t[idx])), state, config
        )
    return params


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
@pytest.mark.parametrize(("sizes", "hidden", "output", "loss"), CASES, ids=CASE_IDS)
def test_twenty_steps_match_the_engine(
    sizes: tuple[int, ...], hidden: str, output: str, loss: str, optimizer: str
) -> None:
    spec = net(sizes, hidden, output, loss)
    config = TrainConfig(
        optimizer, learning_rate=0.05, batch_size=5, l1=1e-3, l2=1e-2, momentum=0.8
    )
    rng = np.random.default_rng(11)
    params = init_params(spec, rng, "he_normal", bias=0.01)
    x, t = make_data(spec, 23, rng)
    batches = epoch_batches(23, 5, seed=1, epoch=0) + epoch_batches(23, 5, seed=1, epoch=1)
    batches = (batches * 2)[:20]

    trainer = TorchTrainer(spec, params, config, x, t, device="cpu", dtype="float64")
    losses = trainer.train_batches(batches)
    ref = engine_steps(spec, params, config, x, t, batches)

    assert losses.shape == (20,) and np.isfinite(losses).all()
    got = trainer.params()
    for mine, theirs in zip((*got.weights, *got.biases), (*ref.weights, *ref.biases), strict=True):
        close(mine, theirs)
    assert not np.allclose(got.weights[0], params.weights[0])


def test_losses_are_the_engine_batch_losses() -> None:
    spec = net((4, 6, 3), "tanh", "softmax", "cross_entropy")
    config = TrainConfig("sgd", learning_rate=0.1, batch_size=4)
    rng = np.random.default_rng(2)
    params = init_params(spec, rng)
    x, t = make_data(spec, 12, rng)
    batches = epoch_batches(12, 4, seed=0, epoch=0)
    losses = TorchTrainer(spec, params, config, x, t, device="cpu", dtype="float64").train_batches(
        batches
    )
    first = error(spec, forward(spec, params, x[batches[0]]), t[batches[0]]).loss
    assert abs(losses[0] - first) <= TOL


def test_params_round_trip_exactly() -> None:
    spec = net((5, 7, 3), "relu", "softmax", "cross_entropy")
    params = init_params(spec, np.random.default_rng(0), bias=0.3)
    back = model_params(build_model(spec, params, dtype=torch.float64))
    for a, b in zip((*params.weights, *params.biases), (*back.weights, *back.biases), strict=True):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    assert build_model(spec, params).linears[0].weight.shape == (7, 5)  # Linear is (out, in)


@pytest.mark.parametrize("method", list(INITIALIZERS))
def test_initial_networks_match_the_engine(method: str) -> None:
    spec = net((6, 4, 2), "tanh", "sigmoid", "binary_cross_entropy")
    params = init_params(spec, np.random.default_rng(5), method)
    model = build_model(spec, params, dtype=torch.float64)
    x = np.random.default_rng(6).normal(size=(3, 6))
    with torch.no_grad():
        _, outs = model.layers(torch.tensor(x))
    close(outs[-1].numpy(), forward(spec, params, x).output[-1])
    assert np.array_equal(model.linears[1].weight.detach().numpy().T, params.weights[1])


def test_auto_falls_back_to_the_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert available_devices() == ("cpu",)
    assert select_device("auto") == "cpu"
    assert select_device("cpu") == "cpu"
    with pytest.raises(DeviceError, match="No cuda device here; available: cpu"):
        select_device("cuda")


def test_auto_prefers_cuda_then_mps(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert select_device("auto") == "mps"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert select_device("auto") == "cuda"


def test_an_overflow_names_where_and_keeps_the_last_finite_network() -> None:
    spec = net((2, 4, 1), "sigmoid", "identity", "mse")
    config = TrainConfig("sgd", learning_rate=10.0, batch_size=4)
    rng = np.random.default_rng(0)
    params = init_params(spec, rng)
    x, t = make_data(spec, 16, rng)
    t = t * 1e3
    trainer = TorchTrainer(spec, params, config, x, t, device="cpu", dtype="float64")
    batches = epoch_batches(16, 4, seed=0, epoch=0) * 50
    with pytest.raises(NonFiniteError, match="Lower the learning rate") as caught:
        trainer.train_batches(batches)
    assert caught.value.phase in ("forward", "error", "backward", "update")
    kept = trainer.params()
    assert kept.is_finite()
    # the call was rolled back whole: the network is the one it started from
    assert all(np.array_equal(a, b) for a, b in zip(kept.weights, params.weights, strict=True))


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_restoring_a_fresh_snapshot_is_a_fresh_start(optimizer: str) -> None:
    """What CUDA-graph capture relies on: warm-up steps undone in place leave no trace."""
    spec = net((3, 5, 3), "tanh", "softmax", "cross_entropy")
    config = TrainConfig(optimizer, learning_rate=0.1, batch_size=4, l1=1e-3, l2=1e-3)
    rng = np.random.default_rng(8)
    params = init_params(spec, rng)
    x, t = make_data(spec, 16, rng)
    batches = epoch_batches(16, 4, seed=0, epoch=0)

    def trainer() -> TorchTrainer:
        return TorchTrainer(spec, params, config, x, t, device="cpu", dtype="float64")

    warmed = trainer()
    fresh = warmed._snapshot()
    warmed.train_batches(batches)
    warmed._restore(fresh)
    warmed.train_batches(batches)
    ref = trainer()
    ref.train_batches(batches)
    for a, b in zip(warmed.params().weights, ref.params().weights, strict=True):
        assert np.array_equal(a, b)


def test_graphs_are_cuda_only_and_the_cpu_runs_the_same_steps_eagerly() -> None:
    spec = net((3, 4, 2), "relu", "softmax", "cross_entropy")
    config = TrainConfig("momentum", learning_rate=0.1, batch_size=2)
    rng = np.random.default_rng(1)
    params = init_params(spec, rng)
    x, t = make_data(spec, 40, rng)
    trainer = TorchTrainer(spec, params, config, x, t, device="cpu", dtype="float64")
    assert not trainer.use_graphs and trainer.resident
    assert "eager steps" in trainer.describe()
    batches = epoch_batches(40, 2, seed=0, epoch=0)  # 20 equal batches: a graph run on CUDA
    trainer.train_batches(batches)
    ref = engine_steps(spec, params, config, x, t, batches)
    close(trainer.params().weights[0], ref.weights[0])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_cuda_graphs_match_eager_steps(optimizer: str) -> None:
    spec = net((784, 16, 16, 10), "relu", "softmax", "cross_entropy")
    config = TrainConfig(optimizer, learning_rate=0.01, batch_size=64, l1=1e-4, l2=1e-4)
    rng = np.random.default_rng(0)
    params = init_params(spec, rng)
    x = rng.random((64 * 40 + 10, 784), dtype=np.float32)
    t = rng.integers(0, 10, len(x))
    batches = epoch_batches(len(x), 64, seed=0, epoch=0)
    graphed = TorchTrainer(spec, params, config, x, t, device="cuda")
    eager = TorchTrainer(spec, params, config, x, t, device="cuda", cuda_graphs=False)
    assert graphed.use_graphs and not eager.use_graphs
    for _ in range(2):
        np.testing.assert_allclose(
            graphed.train_batches(batches), eager.train_batches(batches), rtol=1e-4, atol=1e-5
        )
    for a, b in zip(graphed.params().weights, eager.params().weights, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_evaluation_matches_the_engine() -> None:
    from explorer.engine import evaluate

    spec = net((3, 5, 4), "tanh", "softmax", "cross_entropy")
    rng = np.random.default_rng(4)
    params = init_params(spec, rng)
    x = rng.normal(size=(30, 3))
    y = rng.integers(0, 4, 30)
    trainer = TorchTrainer(spec, params, TrainConfig(), x, y, device="cpu", dtype="float64")
    got = trainer.evaluate(x, y, classify=True)
    ref = evaluate(spec, params, x, y, classify=True)
    assert abs(got.loss - ref.loss) <= TOL and got.accuracy == ref.accuracy


def test_without_torch_the_package_imports_and_says_how_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert torch_available()
    monkeypatch.setitem(sys.modules, "torch", None)
    assert not torch_available()
    with pytest.raises(TorchMissingError, match=r"pip install '\.\[torch\]'"):
        require_torch()


def test_importing_the_package_does_not_import_torch() -> None:
    code = (
        "import sys; import explorer.torch_backend as tb, explorer.training.cli, "
        "explorer.training.full, explorer.state.run_config, explorer.ui.full_training_view; "
        "print('torch' in sys.modules, tb.torch_available())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]
