"""Walks mini-batches through training one phase at a time, and back again.

The phases of one step, for L layers: forward layer 1..L, error, backward layer L..1, update.
``Stepper.state`` exposes everything known so far (every z and a computed, the error, the
gradients from the output layer down to the current layer, the parameters before and after the
update). States are immutable and share arrays. Stepping back restores the state before the last
action exactly, bit for bit, from a history of the last ``history`` of them that keeps few
whole states and redoes the actions in between (``explorer.engine.history``): every action
records the event it adds to the trail, under the TrainConfig it ran with, so that it can be
redone whatever the settings are now.

Left out: the fast path's own loop. ``run_steps`` here traces every step (about a millisecond
for 784-16-16-10), so a run of N steps equals N single steps, which a replayed link relies on;
full training and comparisons use ``explorer.engine.fast``, and ``run_epoch_fast`` hands the
rest of an epoch to it and carries on from where it stopped.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from explorer.engine.batches import epoch_order
from explorer.engine.fast import train_steps
from explorer.engine.history import History
from explorer.engine.init import init_params
from explorer.engine.losses import encode_targets
from explorer.engine.optim import OptState, fits, init_opt_state, update
from explorer.engine.phases import backward_layer, error, forward_layer
from explorer.engine.spec import NetworkSpec, Params, SpecError, TrainConfig
from explorer.engine.traces import ErrorTrace, ForwardTrace, Gradients, LayerGradients
from explorer.engine.trail import Edit, Event, FastEpoch, Loaded, Phases, extend
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
    ``prev_params``/``prev_opt_state``: before this batch's update, once it has happened.
    ``trail``: what was run since the Stepper was built (see ``trail``), for links and files.
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
    prev_opt_state: OptState | None = None
    trail: tuple[Event, ...] = ()

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
        self._history: History[StepState] = History(history, self._redo, _switched)
        self.state = self._batch_state(
            params,
            opt_state or init_opt_state(params, config),
            epoch=0,
            step=0,
            position=0,
            batch_size=config.batch_size,
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

    def next_sample(self) -> tuple[int, int]:
        """(epoch, position) of the first sample no update has used yet; a batch whose update
        has not happened yet counts as unused."""
        s = self.state
        position = s.position + (len(s.batch_index) if s.done == len(self.phases) else 0)
        return (s.epoch + 1, 0) if position >= self.n_train else (s.epoch, position)

    # -- moving --------------------------------------------------------------------------
    def advance(self) -> Phase:
        """Run exactly one phase; raises NonFiniteError (state unchanged) on overflow."""
        self._act(Phases(1, self.config))
        return self.phases[self.state.done - 1]

    def finish_step(self) -> None:
        """Run the phases left in this batch through its update (a whole step if none are)."""
        left = len(self.phases) - self.state.done % len(self.phases)
        self._act(Phases(left, self.config))

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

    def run_epoch_fast(self, *, continued: bool = False) -> Array:
        """Train the rest of the epoch on the fast path (float32, nothing traced) and stand at
        the first batch of the next epoch; returns each step's batch loss (steps,).

        Same batches, in the same order, as ``run_epoch``; a batch part-way through its phases
        restarts from its forward pass. Step back undoes it in one go; ``continued=True`` folds
        it into the history entry of the previous call instead (a long run trained in chunks
        then steps back at once). On overflow raises NonFiniteError, state unchanged.
        """
        s = self.state
        epoch, position = self.next_sample()
        size = self.config.batch_size
        order = epoch_order(self.n_train, self.seed, epoch)
        batches = [order[i : i + size] for i in range(position, self.n_train, size)]
        result = train_steps(
            self.spec,
            s.params.astype(np.float32),
            _opt_astype(s.opt_state, np.float32),
            self.config,
            self._x,
            self._target if self._target.dtype.kind == "i" else self._target.astype(np.float32),
            batches,
        )
        new = self._batch_state(
            result.params.astype(self.dtype),
            _opt_astype(result.opt_state, self.dtype),
            epoch=epoch + 1,
            step=s.step + len(batches),
            position=0,
            batch_size=size,
            trail=extend(s.trail, FastEpoch(self.config)),
        )
        if continued:
            self._history.detach()
        else:
            self._history.push(s, FastEpoch(self.config))
        self.state = new
        return result.losses

    def step_back(self) -> bool:
        """Return to the state before the last action; False if the history is empty. A state
        from before an optimizer switch comes back with the current optimizer's fresh state,
        as ``set_config`` would have given it."""
        state = self._history.pop()
        if state is None:
            return False
        if not fits(state.opt_state, self.config):
            state = _switched(state, self.config)
            self._history.switched(self.config)
        self.state = state
        return True

    def set_config(self, config: TrainConfig) -> None:
        """New optimisation settings, applied from the next update; training carries on.
        A different optimizer starts its own state (momentum and Adam buffers at zero)."""
        if config.optimizer != self.config.optimizer:
            self.state = _switched(self.state, config)
            self._history.switched(config)
        self.config = config

    def set_params(self, params: Params) -> None:
        """Replace the parameters with ones from elsewhere (a torch run, a file); the current
        batch restarts from its forward pass and the change can be stepped back."""
        s = self.state
        new = self._with_params(s, params, Loaded())
        self._history.push(s, Loaded())
        self.state = new

    def edit(self, layer: int, row: int | None, col: int, value: float) -> None:
        """Set weight W[layer][row, col], or bias b[layer][col] when row is None, by hand; the
        current batch restarts from its forward pass and step back undoes the edit.
        Raises SpecError for a position outside the network or a non-finite value."""
        self._act(Edit(layer, row, col, value))

    def restore(
        self,
        params: Params,
        opt_state: OptState,
        *,
        epoch: int,
        step: int,
        position: int,
        trail: tuple[Event, ...],
    ) -> None:
        """Stand at the start of the batch at (epoch, position) with these parameters and
        optimizer state, as a saved session left them; the history starts empty."""
        params.check_shapes(self.spec)
        if not (0 <= position < self.n_train and epoch >= 0 and step >= 0):
            raise SpecError("The saved position lies outside this training set.")
        self._history.clear()
        self.state = self._batch_state(
            params.astype(self.dtype),
            _opt_astype(opt_state, self.dtype),
            epoch=epoch,
            step=step,
            position=position,
            batch_size=self.config.batch_size,
            trail=trail,
        )

    # -- the phases ------------------------------------------------------------------------
    def _act(self, event: Phases | Edit) -> None:
        """Run ``event`` from the current state, which goes into the history; raises (state
        and history unchanged) where the event fails."""
        s = self.state
        new = self._redo(s, event)
        self._history.push(s, event)
        self.state = new

    def _redo(self, s: StepState, event: Event) -> StepState:
        """The state ``event`` leads to from ``s``: the one way an action is run, and the way
        the history rebuilds what it did not keep, so the two give the same bits."""
        if isinstance(event, Phases):
            new = s
            for _ in range(event.n):
                new = self._advanced(new, event.config)
            return replace(new, trail=extend(s.trail, event))
        assert isinstance(event, Edit), "only phases and edits are redone"
        return self._with_params(s, _edited(s.params, event), event)

    def _with_params(self, s: StepState, params: Params, event: Event) -> StepState:
        params.check_shapes(self.spec)
        return replace(
            s,
            params=params.astype(self.dtype),
            done=0,
            z=(),
            a=(),
            err=None,
            back=(),
            prev_params=None,
            prev_opt_state=None,
            trail=extend(s.trail, event),
        )

    def _batch_state(
        self,
        params: Params,
        opt_state: OptState,
        *,
        epoch: int,
        step: int,
        position: int,
        batch_size: int,
        trail: tuple[Event, ...] = (),
    ) -> StepState:
        if position >= self.n_train:
            epoch, position = epoch + 1, 0
        idx = epoch_order(self.n_train, self.seed, epoch)[position : position + batch_size]
        # Keep a float32 batch as float32: numpy widens it exactly where it meets float64
        # weights, so the numbers are the same at half the memory of every state that holds it.
        x = self._x[idx]
        if x.dtype.itemsize > self.dtype.itemsize or x.dtype.kind != "f":
            x = x.astype(self.dtype)
        target = self._target[idx]
        x.flags.writeable = False
        return StepState(params, opt_state, epoch, step, position, idx, x, target, trail=trail)

    def _advanced(self, s: StepState, config: TrainConfig) -> StepState:
        """``s`` one phase on, a new batch of ``config``'s size starting after an update."""
        if s.done == len(self.phases):
            s = self._batch_state(
                s.params,
                s.opt_state,
                epoch=s.epoch,
                step=s.step,
                position=s.position + len(s.batch_index),
                batch_size=config.batch_size,
                trail=s.trail,
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
        params, opt_state = update(s.params, grads, s.opt_state, config)
        return replace(
            s,
            done=s.done + 1,
            params=params,
            opt_state=opt_state,
            prev_params=s.params,
            prev_opt_state=s.opt_state,
            step=s.step + 1,
        )


def _edited(params: Params, edit: Edit) -> Params:
    """``params`` with the one value ``edit`` sets; SpecError for a position outside the
    network or a non-finite value."""
    layer, row, col, value = edit.layer, edit.row, edit.col, edit.value
    if not 0 <= layer < len(params.weights) or not np.isfinite(value):
        raise SpecError(f"Cannot set layer {layer + 1} to {value!r}.")
    weights, biases = list(params.weights), list(params.biases)
    target = weights if row is not None else biases
    arr = target[layer].copy()
    index = (row, col) if row is not None else (col,)
    if any(not 0 <= i < n for i, n in zip(index, arr.shape, strict=True)):
        raise SpecError(f"Layer {layer + 1} has no parameter at {index}.")
    arr[index] = value
    target[layer] = arr
    return Params(tuple(weights), tuple(biases))


def _switched(s: StepState, config: TrainConfig) -> StepState:
    """``s`` with ``config``'s optimizer starting afresh (zero buffers), its update count kept."""
    fresh = init_opt_state(s.params, config)
    return replace(s, opt_state=replace(fresh, step=s.opt_state.step))


def _opt_astype(state: OptState, dtype: npt.DTypeLike) -> OptState:
    """The optimizer state with its buffers (if any) cast to ``dtype``."""

    def cast(p: Params | None) -> Params | None:
        return None if p is None else p.astype(dtype)

    return OptState(state.step, cast(state.velocity), cast(state.m), cast(state.v))
