"""The trail: a fresh Stepper replaying a run's trail lands on the same state, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.engine import (
    Edit,
    FastEpoch,
    Loaded,
    Phases,
    SpecError,
    Stepper,
    TrainConfig,
    init_params,
    replay,
)
from tests.conftest import assert_same_state, net

SPEC = net((3, 5, 4, 2), "tanh", "softmax", "cross_entropy")


def fresh(config: TrainConfig | None = None) -> Stepper:
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(40, 3)), rng.integers(0, 2, size=40)
    return Stepper(SPEC, config or TrainConfig(batch_size=8), x, y, seed=9)


def test_a_mixed_run_replays_bit_for_bit() -> None:
    s = fresh()
    for _ in range(5):
        s.advance()
    s.finish_step()
    s.set_config(TrainConfig(batch_size=8, learning_rate=0.5))
    s.run_steps(3)
    s.edit(1, 2, 3, 0.75)
    s.edit(0, None, 4, -0.1)
    s.advance()
    s.set_config(TrainConfig(optimizer="adam", batch_size=5, learning_rate=0.01))
    s.run_epoch_fast()
    s.run_steps(2)
    s.advance()
    s.step_back()
    kinds = [type(e) for e in s.state.trail]
    assert kinds == [Phases, Phases, Edit, Edit, Phases, FastEpoch, Phases]
    assert s.state.trail[0] == Phases(8, TrainConfig(batch_size=8))  # 5 phases + the 3 left

    other = fresh()
    replay(other, s.state.trail)
    assert_same_state(s.state, other.state)


def test_consecutive_phases_merge_and_step_back_shortens_the_trail() -> None:
    s = fresh()
    s.run_steps(4)
    assert s.state.trail == (Phases(32, s.config),)
    s.step_back()
    assert s.state.trail == (Phases(24, s.config),)


def test_loaded_parameters_cannot_be_replayed() -> None:
    s = fresh()
    s.set_params(init_params(SPEC, np.random.default_rng(1)))
    assert s.state.trail == (Loaded(),)
    with pytest.raises(ValueError, match="loaded from elsewhere"):
        replay(fresh(), s.state.trail)


def test_edits_are_checked_and_undoable() -> None:
    s = fresh()
    before = s.state
    with pytest.raises(SpecError):
        s.edit(0, 3, 0, 1.0)  # the first layer has 3 rows (0..2)
    with pytest.raises(SpecError):
        s.edit(0, 0, 0, float("nan"))
    assert s.state is before
    s.edit(0, 0, 1, 2.5)
    assert s.state.params.weights[0][0, 1] == 2.5
    assert before.params.weights[0][0, 1] != 2.5
    s.step_back()
    assert s.state is before


def test_restore_stands_at_the_saved_batch() -> None:
    s = fresh(TrainConfig(optimizer="momentum", batch_size=8))
    s.run_steps(7)
    saved = s.state
    t = fresh(TrainConfig(optimizer="momentum", batch_size=8))
    t.restore(
        saved.params,
        saved.opt_state,
        epoch=saved.epoch,
        step=saved.step,
        position=saved.position + len(saved.batch_index),
        trail=saved.trail,
    )
    assert not t.can_step_back
    s.finish_step()
    t.finish_step()
    assert s.state.step == t.state.step and s.state.position == t.state.position
    for u, v in zip(s.state.params.weights, t.state.params.weights, strict=True):
        assert np.array_equal(u, v)
