"""The step-back history (explorer/engine/history.py): random sequences of every action that
pushes history, with optimizer and batch-size switches in between, step back to exactly the
states they passed through; and on the lesson network it holds a bounded amount of memory."""

from __future__ import annotations

import gc
import tracemalloc
from collections import deque
from dataclasses import replace

import numpy as np
import pytest

from explorer.engine import LayerSpec, NetworkSpec, Stepper, TrainConfig, init_params
from explorer.engine.optim import fits, init_opt_state
from explorer.engine.stepper import StepState
from tests.conftest import assert_same_state, net

SPEC = net((4, 6, 5, 3), "tanh", "softmax", "cross_entropy")


def data(n: int = 50) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.normal(size=(n, 4)), rng.integers(0, 3, size=n)


class Driver:
    """Runs random actions on a Stepper with a history and, in lockstep, on a reference
    Stepper that keeps none and is simply set back to the recorded state: a model stack of
    every state pushed (the states reached, including those inside run_steps and run_epoch)
    says what each step back must restore."""

    def __init__(self, seed: int, history: int) -> None:
        x, y = data()
        config = TrainConfig(batch_size=8)
        self.rng = np.random.default_rng(seed)
        self.stepper = Stepper(SPEC, config, x, y, seed=5, history=history)
        self.reference = Stepper(SPEC, config, x, y, seed=5, history=0)
        self.model: deque[StepState] = deque(maxlen=history)
        self.backs = 0

    def check(self) -> None:
        assert_same_state(self.stepper.state, self.reference.state)
        assert self.stepper.can_step_back == bool(self.model)

    def pushed(self) -> None:
        self.model.append(self.reference.state)

    def step(self) -> None:
        s, ref, rng = self.stepper, self.reference, self.rng
        kind = rng.choice(
            ["advance", "finish", "steps", "epoch", "fast", "edit", "load", "config", "back"],
            p=[0.22, 0.16, 0.08, 0.03, 0.06, 0.08, 0.03, 0.12, 0.22],
        )
        if kind == "advance":
            self.pushed()
            s.advance()
            ref.advance()
        elif kind == "finish":
            self.pushed()
            s.finish_step()
            ref.finish_step()
        elif kind == "steps":
            n = int(rng.integers(0, 4))
            s.run_steps(n)
            for _ in range(n):
                self.pushed()
                ref.finish_step()
        elif kind == "epoch":
            s.run_epoch()
            self.pushed()
            ref.finish_step()
            while ref.state.position + len(ref.state.batch_index) < ref.n_train:
                self.pushed()
                ref.finish_step()
        elif kind == "fast":
            continued = bool(rng.random() < 0.5)
            if not continued:
                self.pushed()
            s.run_epoch_fast(continued=continued)
            ref.run_epoch_fast()
        elif kind == "edit":
            layer = int(rng.integers(0, 3))
            row = None if rng.random() < 0.3 else int(rng.integers(0, SPEC.sizes[layer]))
            col = int(rng.integers(0, SPEC.sizes[layer + 1]))
            value = float(rng.normal())
            self.pushed()
            s.edit(layer, row, col, value)
            ref.edit(layer, row, col, value)
        elif kind == "load":
            params = init_params(SPEC, np.random.default_rng(int(rng.integers(1000))))
            self.pushed()
            s.set_params(params)
            ref.set_params(params)
        elif kind == "config":
            config = TrainConfig(
                optimizer=str(rng.choice(["sgd", "momentum", "adam"])),
                learning_rate=float(rng.choice([0.01, 0.05, 0.2])),
                batch_size=int(rng.choice([5, 8, 8])),
            )
            s.set_config(config)
            ref.set_config(config)
        else:
            for _ in range(int(rng.integers(1, 6))):
                self.back()
        self.check()

    def back(self) -> None:
        went = self.stepper.step_back()
        assert went == bool(self.model)
        if went:
            want = self.model.pop()
            if not fits(want.opt_state, self.stepper.config):
                # a state from before an optimizer switch comes back with the fresh state
                fresh = init_opt_state(want.params, self.stepper.config)
                want = replace(want, opt_state=replace(fresh, step=want.opt_state.step))
            assert_same_state(self.stepper.state, want)
            self.reference.state = want
            self.backs += 1


@pytest.mark.parametrize(("seed", "history"), [(0, 200), (1, 30), (2, 7), (3, 45), (4, 1)])
def test_random_actions_step_back_to_every_state_they_passed(seed: int, history: int) -> None:
    d = Driver(seed, history)
    for _ in range(250):
        d.step()
    while d.model:
        d.back()
    assert not d.stepper.step_back() and not d.stepper.can_step_back
    assert d.backs > 30


def test_stepping_on_after_stepping_back_gives_the_same_states() -> None:
    d = Driver(7, 60)
    for _ in range(120):
        d.step()
    for _ in range(25):
        d.back()
    for _ in range(120):
        d.step()  # every action checks the two steppers agree
    while d.model:
        d.back()


def test_the_newest_states_come_back_as_they_were() -> None:
    x, y = data()
    s = Stepper(SPEC, TrainConfig(batch_size=8), x, y, seed=5)
    s.run_steps(40)
    second, first = s.state, None
    s.finish_step()
    first = s.state
    s.finish_step()
    assert s.step_back() and s.state is first
    assert s.step_back() and s.state is second


LESSON = NetworkSpec(
    784, (LayerSpec(16, "relu"), LayerSpec(16, "relu"), LayerSpec(10, "softmax")), "cross_entropy"
)


def test_the_lesson_network_holds_at_most_15_mib_after_200_steps() -> None:
    rng = np.random.default_rng(0)
    x = rng.random((2000, 784), dtype=np.float32)  # MNIST-shaped, float32 as the sample
    y = rng.integers(0, 10, size=2000)
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        s = Stepper(LESSON, TrainConfig(batch_size=32), x, y, seed=1)
        for _ in range(200):
            s.finish_step()
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert s.can_step_back
    assert held <= 15 * 2**20, f"{held / 2**20:.1f} MiB"
