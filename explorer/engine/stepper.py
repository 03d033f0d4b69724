"""Walks mini-batches through training one phase at a time, and back again.

The phases of one step, for L layers: forward layer 1..L, error, backward layer L..1, update.
``Stepper.state`` exposes everything known so far (every z and a computed, the error, the
gradients from the output layer down to the current layer, the parameters before and after the
update). States are immutable and share arrays, so the history of the last ``history`` states is
cheap and stepping back restores a state exactly, bit for bit.

Left out: the fast path. ``run_steps`` here traces every step (about a millisecond for
784-16-16-10), so a run of N steps equals N single steps, which a replayed link relies on;
full training and comparisons use ``explorer.engine.fast``.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from explorer.engine.batches import epoch_order
from explorer.engine.init import init_params
from explorer.engine.losses import encode_targets
from explorer.engine.optim import OptState, init_opt_state, update
from explorer.engine.phases import backward_layer, error, forward_layer
from explorer.engine.spec import NetworkSpec, Params, SpecError, TrainConfig
from explorer.engine.traces import ErrorTrace, ForwardTrace, Gradients, LayerGradients
from explorer.engine.types import Array


@dataclass(frozen=True)
class Phase:
    """One phase of a step: ``kind`` is forward, error, backward or update; ``layer`` is
    0-based for forward and backward, None otherwise."""

    kind: str
    layer: int | None = None

    def __str__(self) -> str:
        return self.kind if self.layer is None else f"{self.kind}, layer {self.layer + 1}"


def phase_sequence(n_layers: int) -> tuple[Phase, ...]:
    """forward 0..L-1, error, backward L-1..0, update."""
    return (
        *(Phase("forward", i) for i in range(n_layers)),
        Phase("error"),
        *(Phase("backward", i) for i in reversed(range(n_layers))),
        Phase("update"),
    )


@dataclass(frozen=True, eq=False)
class StepState:
    """Where training stands, and everything computed for the current mini-batch so far.

    ``position``: samples of the epoch already used by earlier batches; ``batch_index``: the
    current batch's rows of the training set (B,); ``done``: phases of this batch completed.
    ``z``/``a``: per layer, for the layers the forward pass has reached, each (B, n_l).
    ``back``: backward records from the output layer down, as far as backward has reached.
    ``prev_params``: the parameters before this batch's update, once it has happened.
    """

    params: Params
    opt_state: OptState
    epoch: int
    step: int
    position: int
    batch_index: Array
    x: Array
    target: Array
    done: int = 0
    z: tuple[Array, ...] = ()
    a: tuple[Array, ...] = ()
    err: ErrorTrace | None = None
    back: tuple[LayerGradients, ...] = ()
    prev_params: Params | None = None

    def forward_trace(self) -> ForwardTrace:
        """The forward record so far (tuples as long as the layers reached)."""
        return ForwardTrace(self.x, self.z, self.a)

    def layer_gradients(self, layer: int, n_layers: int) -> LayerGradients | None:
        """Layer ``layer``'s backward record, or None before backward reaches it."""
        i = n_layers - 1 - layer
        return self.back[i] if i < len(self.back) else None

    def gradients(self) -> Gradients | None:
        """All gradients, once backward has reached layer 0."""
        if len(self.back) < len(self.z) or not self.back:
            return None
        return Gradients.from_layers(tuple(reversed(self.back)))


class Stepper:
    """Training on (x, y) one phase at a time, with a history for stepping back.

    ``x`` (n, n_in) and ``y`` (dataset labels or values) are kept as given; each batch is cast to
    ``dtype``. ``params`` defaults to ``init_params(spec, default_rng(seed), init)``.
    """

    def __init__(
        self,
        spec: NetworkSpec,
        config: TrainConfig,
        x: Array,
        y: Array,
        *,
        params: Params | None = None,
        opt_state: OptState | None = None,
        seed: int = 0,
        init: str = "xavier_uniform",
        dtype: npt.DTypeLike = np.float64,
        history: int = 200,
    ) -> None:
        if x.ndim != 2 or x.shape[1] != spec.input_size:
            raise SpecError(
                f"The data has {x.shape[-1] if x.ndim else 0} inputs per sample, "
                f"the network expects {spec.input_size}."
            )
        if len(x) == 0 or len(x) != len(y):
            raise SpecError("The training data is empty or its inputs and labels differ in count.")
        self.spec = spec
        self.config = config
        self.seed = seed
        self.dtype = np.dtype(dtype)
        self._x = x
        self._target = encode_targets(spec, y, self.dtype)
        self.phases = phase_sequence(len(spec.layers))
        if params is None:
            params = init_params(spec, np.random.default_rng(seed), init, dtype=self.dtype)
        params.check_shapes(spec)
        params = params.astype(self.dtype)
        self._history: deque[StepState] = deque(maxlen=history)
        self.state = self._batch_state(
            params, opt_state or init_opt_state(params, config), epoch=0, step=0, position=0
        )

    # -- what is known -------------------------------------------------------------------
    @property
    def n_train(self) -> int:
        return len(self._x)

    @property
    def next_phase(self) -> Phase:
        """The phase ``advance`` will run (the first of the next batch after an update)."""
        done = self.state.done
        return self.phases[done if done < len(self.phases) else 0]

    @property
    def last_phase(self) -> Phase | None:
        """The phase completed last in the current batch, None before the first."""
        return self.phases[self.state.done - 1] if self.state.done else None

    @property
    def can_step_back(self) -> bool:
        return bool(self._history)

    # -- moving --------------------------------------------------------------------------
    def advance(self) -> Phase:
        """Run exactly one phase; raises NonFiniteError (state unchanged) on overflow."""
        new = self._advanced(self.state)
        self._history.append(self.state)
        self.state = new
        return self.phases[new.done - 1]

    def finish_step(self) -> None:
        """Run the phases left in this batch through its update (a whole step if none are)."""
        new = self._finished(self.state)
        self._history.append(self.state)
        self.state = new

    def run_steps(self, n: int) -> None:
        """``finish_step`` n times; stops at (and re-raises) the first overflow, keeping the
        steps before it."""
        for _ in range(n):
            self.finish_step()

    def run_epoch(self) -> None:
        """Finish steps until the current epoch's data is used up."""
        self.finish_step()
        while self.state.position + len(self.state.batch_index) < self.n_train:
            self.finish_step()

    def step_back(self) -> bool:
        """Return to the state before the last action; False if the history is empty."""
        if not self._history:
            return False
        self.state = self._history.pop()
        return True

    def set_config(self, config: TrainConfig) -> None:
        """New optimisation settings, applied from the next update; training carries on.
        A different optimizer starts its own state (momentum and Adam buffers at zero)."""
        if config.optimizer != self.config.optimizer:
            fresh = init_opt_state(self.state.params, config)
            self.state = replace(
                self.state, opt_state=replace(fresh, step=self.state.opt_state.step)
            )
        self.config = config

    def set_params(self, params: Params) -> None:
        """Replace the parameters (an edited weight, a network trained elsewhere); the current
        batch restarts from its forward pass and the change can be stepped back."""
        params.check_shapes(self.spec)
        params = params.astype(self.dtype)
        s = self.state
        self._history.append(s)
        self.state = replace(
            s, params=params, done=0, z=(), a=(), err=None, back=(), prev_params=None
        )

    # -- the phases ------------------------------------------------------------------------
    def _batch_state(
        self, params: Params, opt_state: OptState, *, epoch: int, step: int, position: int
    ) -> StepState:
        if position >= self.n_train:
            epoch, position = epoch + 1, 0
        idx = epoch_order(self.n_train, self.seed, epoch)[
            position : position + self.config.batch_size
        ]
        x = self._x[idx].astype(self.dtype)
        target = self._target[idx]
        x.flags.writeable = False
        return StepState(params, opt_state, epoch, step, position, idx, x, target)

    def _advanced(self, s: StepState) -> StepState:
        if s.done == len(self.phases):
            s = self._batch_state(
                s.params,
                s.opt_state,
                epoch=s.epoch,
                step=s.step,
                position=s.position + len(s.batch_index),
            )
        phase = self.phases[s.done]
        n = len(self.spec.layers)
        if phase.kind == "forward":
            assert phase.layer is not None
            a_prev = s.x if phase.layer == 0 else s.a[-1]
            z, a = forward_layer(self.spec, s.params, phase.layer, a_prev)
            return replace(s, done=s.done + 1, z=(*s.z, z), a=(*s.a, a))
        if phase.kind == "error":
            err = error(self.spec, s.forward_trace(), s.target)
            return replace(s, done=s.done + 1, err=err)
        if phase.kind == "backward":
            assert phase.layer is not None and s.err is not None
            above = s.back[-1] if s.back else None
            rec = backward_layer(self.spec, s.params, s.forward_trace(), s.err, phase.layer, above)
            return replace(s, done=s.done + 1, back=(*s.back, rec))
        grads = s.gradients()
        assert grads is not None and len(s.back) == n
        params, opt_state = update(s.params, grads, s.opt_state, self.config)
        return replace(
            s,
            done=s.done + 1,
            params=params,
            opt_state=opt_state,
            prev_params=s.params,
            step=s.step + 1,
        )

    def _finished(self, s: StepState) -> StepState:
        s = self._advanced(s)
        while s.done < len(self.phases):
            s = self._advanced(s)
        return s
