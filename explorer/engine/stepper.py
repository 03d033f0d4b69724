"""Walks mini-batches through training one phase at a time, and back again.

The phases of one step, for L layers: forward layer 1..L, error, backward layer L..1, update.
``Stepper.state`` exposes everything known so far (every z and a computed, the error, the
gradients from the output layer down to the current layer, the parameters before and after the
update). States are immutable and share arrays. Stepping back restores the state before the last
action exactly, bit for bit, from a history of the last ``history`` of them that keeps few
whole states and redoes the actions in between (``explorer.engine.history``): every action
records the event it adds to the trail, under the TrainConfig it ran with, so that it can be
redone whatever the settings are now. The walking itself is ``explorer.engine.walker``'s,
shared with the CNN's ConvStepper; what is here is the MLP's state and how one phase runs.

Left out: the fast path's own loop. ``run_steps`` here traces every step (about a millisecond
for 784-16-16-10), so a run of N steps equals N single steps, which a replayed link relies on;
full training and comparisons use ``explorer.engine.fast``, and ``run_epoch_fast`` hands the
rest of an epoch to it and carries on from where it stopped.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from explorer.engine.fast import TrainResult, train_steps
from explorer.engine.init import init_params
from explorer.engine.losses import encode_targets
from explorer.engine.optim import OptState, init_opt_state, update
from explorer.engine.phases import backward_layer, error, forward_layer
from explorer.engine.spec import NetworkSpec, Params, SpecError, TrainConfig
from explorer.engine.traces import ErrorTrace, ForwardTrace, Gradients, LayerGradients
from explorer.engine.trail import Edit, Event, Phases
from explorer.engine.types import Array
from explorer.engine.walker import Phase, PhaseWalker, phase_sequence, updated

__all__ = ["Phase", "StepState", "Stepper", "phase_sequence"]


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

    def layer_gradients(self, layer: int) -> LayerGradients | None:
        """Layer ``layer``'s backward record, or None before backward reaches it (backward runs
        after every layer's forward, so then ``z`` holds one entry a layer)."""
        i = len(self.z) - 1 - layer
        return self.back[i] if self.back and 0 <= i < len(self.back) else None

    def gradients(self) -> Gradients | None:
        """All gradients, once backward has reached layer 0."""
        if len(self.back) < len(self.z) or not self.back:
            return None
        return Gradients.from_layers(tuple(reversed(self.back)))


class Stepper(PhaseWalker[StepState]):
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
        super().__init__(config, x, len(spec.layers), seed=seed, dtype=dtype, history=history)
        self.spec = spec
        self._target = encode_targets(spec, y, self.dtype)
        if params is None:
            params = init_params(spec, np.random.default_rng(seed), init, dtype=self.dtype)
        params.check_shapes(spec)
        params = params.astype(self.dtype)
        self.state = self._batch_state(
            params,
            opt_state or init_opt_state(params, config),
            epoch=0,
            step=0,
            position=0,
            batch_size=config.batch_size,
        )

    def edit(self, layer: int, row: int | None, col: int, value: float) -> None:
        """Set weight W[layer][row, col], or bias b[layer][col] when row is None, by hand; the
        current batch restarts from its forward pass and step back undoes the edit.
        Raises SpecError for a position outside the network or a non-finite value."""
        self._act(Edit(layer, row, col, value))

    # -- the phases ------------------------------------------------------------------------
    def _redo(self, s: StepState, event: Event) -> StepState:
        """The state ``event`` leads to from ``s``: the one way an action is run, and the way
        the history rebuilds what it did not keep, so the two give the same bits."""
        if isinstance(event, Phases):
            return self._redo_phases(s, event)
        assert isinstance(event, Edit), "only phases and edits are redone"
        return self._with_params(s, _edited(s.params, event), event)

    def _check_params(self, params: Params) -> None:
        params.check_shapes(self.spec)

    def _train_fast(self, params: Params, opt_state: OptState, batches: list[Array]) -> TrainResult:
        target = self._target
        if target.dtype.kind != "i":
            target = target.astype(np.float32)
        return train_steps(self.spec, params, opt_state, self.config, self._x, target, batches)

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
        epoch, position, idx, x = self._rows(epoch, position, batch_size)
        target = self._target[idx]
        x.flags.writeable = False
        return StepState(params, opt_state, epoch, step, position, idx, x, target, trail=trail)

    def _advanced(self, s: StepState, config: TrainConfig) -> StepState:
        """``s`` one phase on, a new batch of ``config``'s size starting after an update."""
        s = self._next_batch(s, config)
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
        return updated(s, params, opt_state)


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
