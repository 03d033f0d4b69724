"""``Stepper.run_epoch_fast`` and ``next_sample``: the rest of an epoch on the fast path gives
the traced epoch's parameters (to float32 precision), carries the optimizer state and the
counters on, steps back in one go (chunks too), and leaves the state alone on overflow."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.engine import NonFiniteError, Stepper, TrainConfig
from tests.conftest import net

SPEC = net((4, 6, 5, 3), "tanh", "softmax", "cross_entropy")


def stepper(config: TrainConfig | None = None) -> Stepper:
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(50, 4)), rng.integers(0, 3, size=50)
    return Stepper(SPEC, config or TrainConfig(batch_size=8), x, y, seed=5)


def test_next_sample_counts_samples_used_by_updates() -> None:
    s = stepper()
    assert s.next_sample() == (0, 0)
    s.advance()  # a batch part-way through its phases is not used yet
    assert s.next_sample() == (0, 0)
    s.finish_step()
    assert s.next_sample() == (0, 8)
    s.run_epoch()  # the last batch of the epoch has been used: the next epoch is next
    assert s.next_sample() == (1, 0)


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_the_rest_of_an_epoch_matches_the_traced_epoch(optimizer: str) -> None:
    config = TrainConfig(optimizer=optimizer, learning_rate=0.05, batch_size=8)
    fast, traced = stepper(config), stepper(config)
    for s in (fast, traced):
        s.finish_step()
        s.advance()  # part-way: this batch restarts from its forward pass
    losses = fast.run_epoch_fast()
    traced.run_epoch()
    assert len(losses) == traced.state.step - 1  # 6 batches of 8 and one of 2, less one
    state = fast.state
    assert (state.epoch, state.position, state.done, state.step) == (1, 0, 0, traced.state.step)
    assert state.params.dtype == np.float64 and state.opt_state.step == traced.state.step
    for a, b in zip(state.params.weights, traced.state.params.weights, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    if optimizer == "adam":
        assert state.opt_state.m is not None and traced.state.opt_state.m is not None
        np.testing.assert_allclose(
            state.opt_state.m.weights[0], traced.state.opt_state.m.weights[0], atol=1e-5
        )
    fast.finish_step()  # and stepping goes on with the next epoch's first batch
    assert fast.state.epoch == 1 and fast.state.step == traced.state.step + 1


def test_step_back_undoes_a_run_of_chunks_at_once() -> None:
    s = stepper()
    s.finish_step()
    before = s.state
    s.run_epoch_fast()
    s.run_epoch_fast(continued=True)
    s.run_epoch_fast(continued=True)
    assert s.state.epoch == 3
    assert s.step_back() and s.state is before


def test_overflow_leaves_the_state_alone() -> None:
    spec = net((4, 6, 1), "sigmoid", "identity", "mse")
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(50, 4)), rng.normal(size=50)
    s = Stepper(spec, TrainConfig(learning_rate=10.0, batch_size=8), x, y, seed=5)
    start = s.state
    with pytest.raises(NonFiniteError):
        for _ in range(50):
            before = s.state
            s.run_epoch_fast(continued=before is not start)
    assert s.state is before and s.state.params.is_finite()
    assert s.step_back() and s.state is start
