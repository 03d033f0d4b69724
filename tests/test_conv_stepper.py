"""The ConvStepper: the phase order (forward block by block, error, backward block by block,
update), what is known after each phase, the traced numbers against the pure phases, the fast
path against the traced one, and stepping back bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.engine import LayerSpec, NonFiniteError, Params, SpecError, TrainConfig, epoch_batches
from explorer.engine.conv import (
    BlockGradients,
    ConvBlockSpec,
    ConvNetSpec,
    ConvStepper,
    backward,
    conv_error,
    conv_update,
    forward,
    train_conv_steps,
)
from explorer.engine.optim import init_opt_state
from explorer.engine.traces import LayerGradients
from tests.conftest import assert_same_state

SPEC = ConvNetSpec(
    (10, 10),
    (ConvBlockSpec(3, 3, "same", "tanh", True), ConvBlockSpec(2, 3, "valid", "relu", False)),
    (LayerSpec(5, "relu"), LayerSpec(4, "softmax")),
)


def data(n: int = 77) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.normal(size=(n, 100)), rng.integers(0, 4, n)


def stepper(config: TrainConfig | None = None, **kw: object) -> ConvStepper:
    x, y = data()
    return ConvStepper(SPEC, config or TrainConfig(batch_size=16), x, y, seed=3, **kw)  # type: ignore[arg-type]


def test_phase_order_and_what_is_known_after_each() -> None:
    s = stepper()
    names = [SPEC.layer_name(p.layer) if p.layer is not None else p.kind for p in s.phases]
    assert [p.kind for p in s.phases] == ["forward"] * 4 + ["error"] + ["backward"] * 4 + ["update"]
    assert names[:4] == ["conv block 1", "conv block 2", "dense layer 1", "output layer"]
    assert names[5:9] == ["output layer", "dense layer 1", "conv block 2", "conv block 1"]

    known = []
    for _ in range(len(s.phases)):
        s.advance()
        st = s.state
        known.append((len(st.blocks), len(st.z), st.err is not None, len(st.back)))
        assert st.layer_gradients(0) is None or st.done >= 9
    assert known == [
        (1, 0, False, 0),
        (2, 0, False, 0),
        (2, 1, False, 0),
        (2, 2, False, 0),
        (2, 2, True, 0),
        (2, 2, True, 1),
        (2, 2, True, 2),
        (2, 2, True, 3),
        (2, 2, True, 4),
        (2, 2, True, 4),
    ]
    st = s.state
    assert [type(g) for g in st.back] == [LayerGradients] * 2 + [BlockGradients] * 2
    assert st.blocks[0].pooled is not None and st.blocks[1].pooled is None
    assert st.blocks[1].input is st.blocks[0].pooled
    assert st.step == 1 and st.prev_params is not None
    assert str(s.next_phase) == "forward, layer 1" and s.last_phase is not None


def test_traced_step_equals_the_pure_phases() -> None:
    s = stepper(TrainConfig(optimizer="momentum", learning_rate=0.05, batch_size=16))
    start = s.state.params
    s.finish_step()
    st = s.state
    fwd = forward(SPEC, start, st.x)
    err = conv_error(SPEC, fwd, st.target)
    grads = backward(SPEC, start, fwd, err)
    params, opt_state = conv_update(start, grads, init_opt_state(start, s.config), s.config)

    assert_same_state(st.forward_trace(), fwd, "forward")
    assert_same_state(st.err, err, "error")
    assert_same_state(st.gradients(SPEC.n_blocks), grads, "gradients")
    assert_same_state(st.params, params, "params")
    assert_same_state(st.opt_state, opt_state, "opt_state")


@pytest.mark.parametrize(
    "config",
    [
        TrainConfig(batch_size=16),
        TrainConfig(optimizer="adam", learning_rate=0.01, batch_size=10, l2=0.01),
    ],
    ids=["sgd", "adam-l2"],
)
def test_fast_epoch_equals_the_traced_epoch(config: TrainConfig) -> None:
    traced = stepper(config)
    start = traced.state.params
    traced.run_epoch()
    x, y = data()
    batches = epoch_batches(len(x), config.batch_size, seed=3, epoch=0)
    fast = train_conv_steps(SPEC, start, init_opt_state(start, config), config, x, y, batches)

    assert_same_state(fast.params, traced.state.params, "params")  # float64: bit for bit
    assert len(fast.losses) == traced.state.step == -(-77 // config.batch_size)

    in_float32 = stepper(config)
    in_float32.run_epoch_fast()
    assert (in_float32.state.epoch, in_float32.state.position) == (1, 0)
    for mine, ref in zip(in_float32.state.params.weights, traced.state.params.weights, strict=True):
        np.testing.assert_allclose(mine, ref, rtol=0, atol=1e-5)


def test_step_back_restores_bit_for_bit() -> None:
    s = stepper(TrainConfig(optimizer="adam", learning_rate=0.01, batch_size=16), history=100)
    snapshots = []
    for _ in range(45):  # past the history's snapshot interval, so the walk back redoes steps
        snapshots.append(s.state)
        s.advance()
    snapshots.append(s.state)
    s.run_epoch_fast()
    after_fast = s.state
    s.finish_step()

    assert s.step_back()
    assert_same_state(s.state, after_fast)
    for expected in reversed(snapshots):  # the fast epoch in one go, then phase by phase
        assert s.step_back()
        assert_same_state(s.state, expected)
    assert not s.step_back()


def test_a_batch_stepped_back_to_mid_way_finishes_as_it_would_have() -> None:
    """Its backward phases use its own inputs' im2col, not those of the batch stepped last."""
    s, fresh = stepper(), stepper()
    for _ in range(3):
        s.advance()
        fresh.advance()
    s.finish_step()
    s.run_steps(2)
    while s.state.step > 0 or s.state.done > 3:
        assert s.step_back()
    s.finish_step()
    fresh.finish_step()
    assert_same_state(s.state, fresh.state)


def test_an_optimizer_switch_is_stepped_back_with_fresh_buffers() -> None:
    s = stepper(TrainConfig(optimizer="adam", learning_rate=0.01, batch_size=16))
    s.run_steps(2)
    s.set_config(TrainConfig(optimizer="momentum", batch_size=16))
    s.finish_step()
    assert s.state.opt_state.velocity is not None and s.state.opt_state.step == 3

    assert s.step_back()
    assert s.state.step == 2 and s.state.opt_state.velocity is not None
    assert not s.state.opt_state.velocity.weights[0].any() and s.state.opt_state.m is None


def test_restored_state_carries_on_as_the_first_time() -> None:
    s = stepper()
    s.run_steps(3)
    after = s.state
    s.step_back()
    s.finish_step()
    assert_same_state(s.state, after)


def test_set_params_restarts_the_batch_and_steps_back() -> None:
    s = stepper()
    s.advance()
    before = s.state
    p = before.params
    s.set_params(Params(tuple(w * 0 for w in p.weights), p.biases))
    assert s.state.done == 0 and not s.state.blocks
    assert not s.state.params.weights[0].any()
    with pytest.raises(SpecError, match="do not fit"):
        s.set_params(Params(p.weights[:1], p.biases))
    assert s.step_back() and s.state is before


def test_a_saved_session_is_restored_where_it_stood() -> None:
    s = stepper(TrainConfig(optimizer="momentum", batch_size=16))
    s.run_steps(7)  # into the second epoch (77 images, 5 batches an epoch)
    saved = s.state
    fresh = stepper(TrainConfig(optimizer="momentum", batch_size=16))
    fresh.restore(
        saved.params,
        saved.opt_state,
        epoch=saved.epoch,
        step=saved.step,
        position=saved.position + len(saved.batch_index),
        trail=saved.trail,
    )
    assert not fresh.can_step_back
    s.finish_step()
    fresh.finish_step()
    assert_same_state(fresh.state.params, s.state.params)
    assert (fresh.state.epoch, fresh.state.step) == (1, 8)
    with pytest.raises(SpecError, match="outside this training set"):
        fresh.restore(saved.params, saved.opt_state, epoch=0, step=0, position=77, trail=())


def test_overflow_names_the_phase_and_changes_nothing() -> None:
    p = stepper().state.params
    huge = Params((p.weights[0], p.weights[1] * 1e308, *p.weights[2:]), p.biases)
    s = stepper(params=huge)
    s.advance()
    before = s.state
    with pytest.raises(NonFiniteError) as info:
        s.advance()
    assert (info.value.phase, info.value.layer) == ("forward", 1)
    assert s.state is before


def test_an_overflow_in_the_dense_part_names_its_layer_after_the_blocks() -> None:
    p = stepper().state.params
    huge = Params((*p.weights[:2], np.full_like(p.weights[2], np.inf), p.weights[3]), p.biases)
    x, _ = data(8)
    with pytest.raises(NonFiniteError) as info:
        forward(SPEC, huge, x)
    assert (info.value.phase, info.value.layer) == ("forward", 2)  # dense layer 1
    assert "layer 3" in str(info.value)


def test_overflow_on_the_fast_path_names_the_phase() -> None:
    s = stepper()
    p = s.state.params
    huge = Params((p.weights[0], p.weights[1] * 1e308, *p.weights[2:]), p.biases)
    x, y = data()
    config = TrainConfig(batch_size=16)
    with pytest.raises(NonFiniteError) as info:
        train_conv_steps(SPEC, huge, init_opt_state(huge, config), config, x, y, [np.arange(16)])
    assert (info.value.phase, info.value.layer) == ("forward", 1)


@pytest.mark.parametrize(
    ("x", "y", "message"),
    [
        (np.zeros((5, 99)), np.zeros(5, int), "99 pixels each, the network expects 10x10"),
        (np.zeros((5, 100)), np.zeros(4, int), "differ in count"),
        (np.zeros((0, 100)), np.zeros(0, int), "empty"),
    ],
)
def test_bad_training_data_is_refused(x: np.ndarray, y: np.ndarray, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        ConvStepper(SPEC, TrainConfig(), x, y)
