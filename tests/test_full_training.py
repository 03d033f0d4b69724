"""Full training jobs: epochs in chunks, the engine's batch order, the same numbers on both
backends, stop and overflow."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from explorer.data import load_dataset
from explorer.engine import encode_targets, init_opt_state, init_params, train_epoch
from explorer.state.run_config import RunConfig
from explorer.state.settings import Settings
from explorer.torch_backend import TorchMissingError
from explorer.training.full import FIRST_CHUNK, FullTraining, make_trainer

SETTINGS = Settings(
    dataset="spiral",
    n_points=120,
    hidden_sizes=(6, 5),
    hidden_activations=("tanh", "relu"),
    head="softmax + cross-entropy",
    optimizer="adam",
    learning_rate=0.01,
    batch_size=8,
    l1=1e-3,
    l2=1e-3,
)
DATA = load_dataset("spiral", **SETTINGS.data_params())


def config(**kw: object) -> RunConfig:
    return RunConfig(**{"settings": SETTINGS, "epochs": 2, **kw})  # type: ignore[arg-type]


def test_epochs_follow_the_engine_fast_path_exactly() -> None:
    job = FullTraining(config(dtype="float64"), DATA)
    while job.running:
        job.run_epoch()
    assert job.finished and job.epoch == 2 and len(job.epochs) == 3
    assert job.step == 2 * job.n_batches and [r.epoch for r in job.epochs] == [0, 1, 2]
    assert job.epochs[-1].train_loss < job.epochs[0].train_loss

    spec = SETTINGS.network_spec(DATA)
    params = init_params(spec, np.random.default_rng(SETTINGS.seed), SETTINGS.init)
    state = init_opt_state(params, SETTINGS.train_config())
    target = encode_targets(spec, DATA.y_train)
    for epoch in range(2):
        done = train_epoch(
            spec, params, state, SETTINGS.train_config(), DATA.x_train, target,
            seed=SETTINGS.seed, epoch=epoch,
        )  # fmt: skip
        params, state = done.params, done.opt_state
    for a, b in zip(job.params().weights, params.weights, strict=True):
        assert np.array_equal(a, b)


def test_torch_and_numpy_jobs_give_the_same_numbers() -> None:
    pytest.importorskip("torch")
    jobs = [FullTraining(config(backend=b, dtype="float64"), DATA) for b in ("numpy", "torch")]
    for job in jobs:
        while job.running:
            job.run_epoch()
    mine, theirs = (job.params() for job in jobs)
    for a, b in zip((*mine.weights, *mine.biases), (*theirs.weights, *theirs.biases), strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-10)
    assert abs(jobs[0].epochs[-1].test_loss - jobs[1].epochs[-1].test_loss) < 1e-10


def test_a_small_budget_trains_one_chunk_and_stop_keeps_it() -> None:
    job = FullTraining(config(epochs=50), DATA)
    start = job.params().weights[0].copy()
    job.advance(0.0)
    assert job.position == FIRST_CHUNK and job.step == FIRST_CHUNK and job.running
    job.advance(0.0)  # the time per batch is known now: still at least one batch
    assert job.step > FIRST_CHUNK
    job.advance(1.0)  # a small set: one budget spans several epochs, each evaluated
    assert job.epoch >= 2 and len(job.epochs) == job.epoch + 1
    job.stop()
    assert not job.running and job.stopped
    stopped_at = job.step
    job.advance(10.0)
    assert job.step == stopped_at  # nothing trained after the stop
    assert not np.array_equal(job.params().weights[0], start)
    assert job.samples_per_second and job.samples_per_second > 0


def test_an_overflow_stops_the_job_and_keeps_a_finite_network() -> None:
    settings = Settings(
        dataset="plane", head="identity + mean squared error", learning_rate=10.0,
        hidden_activations=("sigmoid", "tanh"),
    )  # fmt: skip
    data = load_dataset("plane", **settings.data_params())
    job = FullTraining(RunConfig(settings, epochs=100), data)
    while job.running:
        job.run_epoch()
    assert job.failure and "Lower the learning rate" in job.failure
    assert job.params().is_finite() and not job.finished


def test_the_torch_backend_without_torch_says_how_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)
    spec = SETTINGS.network_spec(DATA)
    params = init_params(spec, np.random.default_rng(0))
    with pytest.raises(TorchMissingError, match="pip install"):
        make_trainer(spec, params, config(backend="torch"), DATA.x_train, DATA.y_train)
