"""The Stepper: phase order, what is known at each phase, stepping back, determinism, the fast
path, and the guard against NaN."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.engine import (
    NonFiniteError,
    Stepper,
    TrainConfig,
    backward,
    encode_targets,
    epoch_batches,
    error,
    forward,
    init_opt_state,
    init_params,
    train_epoch,
    train_steps,
    update,
)
from tests.conftest import assert_same_state, net, same_params

SPEC = net((4, 6, 5, 3), "tanh", "softmax", "cross_entropy")


def data(n: int = 50, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 4)), rng.integers(0, 3, size=n)


def stepper(config: TrainConfig | None = None, **kw: object) -> Stepper:
    x, y = data()
    return Stepper(SPEC, config or TrainConfig(batch_size=8), x, y, seed=5, **kw)  # type: ignore[arg-type]


def test_phase_order_and_what_is_known() -> None:
    s = stepper()
    seen = []
    for _ in range(8):
        seen.append(str(s.advance()))
        st = s.state
        kind = seen[-1].split(",")[0]
        if kind == "forward":
            assert len(st.z) == len(st.a) == st.done and st.err is None and not st.back
        if kind == "error":
            assert len(st.a) == 3 and st.err is not None and not st.back
        if kind == "backward":
            assert st.layer_gradients(0) is None or len(st.back) == 3
            assert len(st.back) == st.done - 4
    assert seen == [
        "forward, layer 1",
        "forward, layer 2",
        "forward, layer 3",
        "error",
        "backward, layer 3",
        "backward, layer 2",
        "backward, layer 1",
        "update",
    ]
    assert s.state.prev_params is not None and s.state.step == 1
    assert str(s.next_phase) == "forward, layer 1"


def test_traced_values_equal_the_pure_phases() -> None:
    s = stepper()
    start = s.state.params
    s.finish_step()
    st = s.state
    fwd = forward(SPEC, start, st.x)
    err = error(SPEC, fwd, st.target)
    grads = backward(SPEC, start, fwd, err)
    params, _ = update(start, grads, init_opt_state(start, s.config), s.config)
    assert st.err is not None and st.err.loss == err.loss
    got = st.gradients()
    assert got is not None
    for layer in range(3):
        assert np.array_equal(st.a[layer], fwd.output[layer])
        assert np.array_equal(got.weight_der[layer], grads.weight_der[layer])
        assert np.array_equal(got.output_der[layer], grads.output_der[layer])
    assert same_params(s.state.params, params)


def test_step_back_restores_bit_for_bit() -> None:
    s = stepper(TrainConfig(optimizer="adam", batch_size=8, learning_rate=0.01), history=150)
    snapshots = []
    for _ in range(120):
        snapshots.append(s.state)
        s.advance()
    for expected in reversed(snapshots[-100:]):
        assert s.step_back()
        assert_same_state(s.state, expected)
    # the restored state carries on exactly as it did the first time
    s2 = stepper(TrainConfig(optimizer="adam", batch_size=8, learning_rate=0.01))
    for _ in range(20):
        s2.advance()
    s.run_steps(0)
    while s.state.step < s2.state.step or s.state.done != s2.state.done:
        s.advance()
    assert same_params(s.state.params, s2.state.params)


def test_history_is_bounded() -> None:
    s = stepper(history=100)
    s.run_steps(130)
    backs = 0
    while s.step_back():
        backs += 1
    assert backs == 100


def test_epochs_walk_every_sample_once_in_a_seeded_order() -> None:
    s = stepper()
    used = []
    for _ in range(7):  # 50 samples in batches of 8: six of 8 and one of 2
        s.finish_step()
        used.extend(s.state.batch_index.tolist())
    assert sorted(used) == list(range(50)) and s.state.epoch == 0
    s.run_epoch()
    assert s.state.epoch == 1 and s.state.step == 14
    assert np.array_equal(s.state.batch_index, epoch_batches(50, 8, 5, 1)[-1])
    s.finish_step()
    assert s.state.epoch == 2 and s.state.position == 0


def test_same_seed_same_network_different_seed_different() -> None:
    a, b = stepper(), stepper()
    a.run_epoch()
    b.run_epoch()
    assert same_params(a.state.params, b.state.params)
    x, y = data()
    c = Stepper(SPEC, TrainConfig(batch_size=8), x, y, seed=6)
    c.run_epoch()
    assert not same_params(a.state.params, c.state.params)


def test_learning_rate_change_keeps_training_optimizer_change_resets_buffers() -> None:
    s = stepper(TrainConfig(optimizer="momentum", batch_size=8))
    s.run_steps(3)
    params = s.state.params
    s.set_config(TrainConfig(optimizer="momentum", batch_size=8, learning_rate=0.5))
    assert s.state.params is params and s.state.opt_state.velocity is not None
    assert s.state.opt_state.velocity.weights[0].any()
    s.set_config(TrainConfig(optimizer="adam", batch_size=8))
    assert s.state.params is params and s.state.opt_state.m is not None
    assert not s.state.opt_state.m.weights[0].any() and s.state.opt_state.step == 3


def test_set_params_is_undoable() -> None:
    s = stepper()
    s.advance()
    before = s.state
    edited = init_params(SPEC, np.random.default_rng(99))
    s.set_params(edited)
    assert s.state.done == 0 and same_params(s.state.params, edited)
    s.step_back()
    assert s.state is before


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_fast_path_equals_the_phase_path(optimizer: str) -> None:
    config = TrainConfig(optimizer=optimizer, batch_size=8, learning_rate=0.05, l1=1e-3, l2=1e-2)
    s = stepper(config)
    start = s.state.params
    s.run_epoch()
    x, y = data()
    result = train_epoch(
        SPEC,
        start,
        init_opt_state(start, config),
        config,
        x,
        encode_targets(SPEC, y),
        seed=5,
        epoch=0,
    )
    assert len(result.losses) == 7 and result.opt_state.step == 7
    for mine, ref in zip(
        (*result.params.weights, *result.params.biases),
        (*s.state.params.weights, *s.state.params.biases),
        strict=True,
    ):
        np.testing.assert_allclose(mine, ref, rtol=0, atol=1e-12)


def test_fast_path_float32_and_stop() -> None:
    config = TrainConfig(batch_size=8)
    x, y = data()
    params = init_params(SPEC, np.random.default_rng(0), dtype=np.float32)
    batches = epoch_batches(50, 8, 0, 0)
    result = train_steps(
        SPEC,
        params,
        init_opt_state(params, config),
        config,
        x.astype(np.float32),
        encode_targets(SPEC, y),
        batches,
        on_step=lambda i, loss: i < 2,
    )
    assert result.params.dtype == np.float32 and len(result.losses) == 3


def nan_setup() -> tuple[Stepper, TrainConfig]:
    # sigmoid hidden layers with a linear output: the output weights grow geometrically
    spec = net((2, 8, 1), "sigmoid", "identity", "mse")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 2))
    y = rng.normal(size=64)
    config = TrainConfig(learning_rate=1e6, batch_size=16)
    return Stepper(spec, config, x, y, seed=0), config


def test_nan_guard_names_the_phase_and_keeps_the_last_finite_network() -> None:
    s, _ = nan_setup()
    with pytest.raises(NonFiniteError) as info:
        for _ in range(10_000):
            s.advance()
    assert info.value.phase in {"forward", "error", "backward", "update"}
    assert "Lower the learning rate" in str(info.value)
    before = s.state
    assert before.params.is_finite()
    with pytest.raises(NonFiniteError):
        s.advance()
    assert s.state is before  # a failing phase changes nothing
    assert s.step_back()


def test_nan_guard_on_the_fast_path() -> None:
    s, config = nan_setup()
    spec = s.spec
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 2))
    y = rng.normal(size=64)
    params = init_params(spec, np.random.default_rng(0))
    seen: list[float] = []
    with pytest.raises(NonFiniteError) as info:
        train_steps(
            spec,
            params,
            init_opt_state(params, config),
            config,
            x,
            encode_targets(spec, y),
            epoch_batches(64, 16, 0, 0) * 200,
            on_step=lambda i, loss: seen.append(loss) or True,
        )
    assert info.value.phase in {"forward", "error", "backward", "update"}
    assert seen and all(np.isfinite(seen))
    assert params.is_finite()
