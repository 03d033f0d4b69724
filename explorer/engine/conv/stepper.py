"""Walks a CNN's mini-batches one phase at a time, and back again, as the MLP's Stepper does.

The phases of one step: forward block by block then dense layer by dense layer, error,
backward from the output layer down to the first block, update: ``phase_sequence`` of the MLP
over ``spec.n_layers`` layers (blocks first), so ``Phase("forward", 0)`` is conv block 1.
Batches come in the MLP's order (``epoch_order`` of seed and epoch); the step-back history is
the MLP's ``History`` (sparse snapshots and redone actions, bit for bit), and every action
records its trail event (``Phases``, ``FastEpoch``, ``Loaded``) as the MLP's does.

Left out: editing a weight by hand (the MLP's ``Edit`` addresses 2-D matrices) and replaying
a trail (``explorer.engine.trail.replay``'s cost model counts an MLP's multiply-adds).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from explorer.engine.batches import epoch_order
from explorer.engine.conv.fast import train_conv_steps
from explorer.engine.conv.init import DEFAULT_INIT, init_conv_params
from explorer.engine.conv.phases import (
    backward_block,
    backward_dense,
    conv_error,
    conv_update,
    flat_features,
    forward_block,
    forward_dense,
    images,
)
from explorer.engine.conv.spec import ConvNetSpec
from explorer.engine.conv.traces import BlockGradients, BlockTrace, ConvForwardTrace, ConvGradients
from explorer.engine.history import History
from explorer.engine.losses import encode_targets
from explorer.engine.optim import OptState, fits, init_opt_state
from explorer.engine.spec import Params, SpecError, TrainConfig
from explorer.engine.stepper import Phase, phase_sequence
from explorer.engine.traces import ErrorTrace, ForwardTrace, LayerGradients
from explorer.engine.trail import Event, FastEpoch, Loaded, Phases, extend
from explorer.engine.types import Array


@dataclass(frozen=True, eq=False)
class ConvStepState:
    """Where training stands, and everything computed for the current mini-batch so far.

    As the MLP's ``StepState``, with ``x`` the batch as images (B, 1, H, W); ``blocks``: the
    blocks' forward records reached; ``z``/``a``: the dense layers' (B, n_l); ``back``: the
    backward records from the output layer down, dense layers' ``LayerGradients`` then
    blocks' ``BlockGradients``, as far as backward has reached.
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
    blocks: tuple[BlockTrace, ...] = ()
    z: tuple[Array, ...] = ()
    a: tuple[Array, ...] = ()
    err: ErrorTrace | None = None
    back: tuple[LayerGradients | BlockGradients, ...] = ()
    prev_params: Params | None = None
    prev_opt_state: OptState | None = None
    trail: tuple[Event, ...] = ()

    def forward_trace(self) -> ConvForwardTrace:
        """The forward record so far (its dense part empty until every block has run)."""
        flat = flat_features(self.blocks) if self.blocks and self.z else self.x[:, :0, 0, 0]
        return ConvForwardTrace(self.x, self.blocks, ForwardTrace(flat, self.z, self.a))

    def layer_gradients(self, layer: int, n_layers: int) -> LayerGradients | BlockGradients | None:
        """Layer ``layer``'s backward record (blocks first), None before backward reaches it."""
        i = n_layers - 1 - layer
        return self.back[i] if i < len(self.back) else None

    def gradients(self, n_blocks: int) -> ConvGradients | None:
        """All gradients, once backward has reached the first block."""
        n_dense = len(self.back) - n_blocks
        if not self.blocks or len(self.back) < len(self.blocks) + len(self.z):
            return None
        dense = tuple(g for g in reversed(self.back[:n_dense]) if isinstance(g, LayerGradients))
        blocks = tuple(g for g in reversed(self.back[n_dense:]) if isinstance(g, BlockGradients))
        return ConvGradients(blocks, dense)


class ConvStepper:
    """Training a CNN on (x, y) one phase at a time, with a history for stepping back.

    ``x`` (n, H*W) flat images as the datasets hold them (or (n, H, W)), ``y`` class labels.
    ``params`` defaults to ``init_conv_params(spec, default_rng(seed), init)``.
    """

    def __init__(
        self,
        spec: ConvNetSpec,
        config: TrainConfig,
        x: Array,
        y: Array,
        *,
        params: Params | None = None,
        opt_state: OptState | None = None,
        seed: int = 0,
        init: str = DEFAULT_INIT,
        dtype: npt.DTypeLike = np.float64,
        history: int = 200,
    ) -> None:
        h, w = spec.input_shape
        if len(x) == 0 or len(x) != len(y):
            raise SpecError("The training data is empty or its inputs and labels differ in count.")
        if x[0].size != h * w:
            raise SpecError(
                f"The images have {x[0].size} pixels each, the network expects {h}x{w}."
            )
        self.spec = spec
        self.config = config
        self.seed = seed
        self.dtype = np.dtype(dtype)
        self._x = x.reshape(len(x), h * w)
        self._target = encode_targets(spec.head, y, self.dtype)
        self.phases = phase_sequence(spec.n_layers)
        if params is None:
            params = init_conv_params(spec, np.random.default_rng(seed), init, dtype=self.dtype)
        spec.check_params(params)
        params = params.astype(self.dtype)
        self._history: History[ConvStepState] = History(history, self._redo, _switched)
        self._epoch_order: tuple[int, Array] = (-1, np.empty(0, dtype=np.intp))
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
        done = self.state.done
        return self.phases[done if done < len(self.phases) else 0]

    @property
    def last_phase(self) -> Phase | None:
        return self.phases[self.state.done - 1] if self.state.done else None

    @property
    def can_step_back(self) -> bool:
        return bool(self._history)

    def next_sample(self) -> tuple[int, int]:
        """(epoch, position) of the first sample no update has used yet."""
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
        for _ in range(n):
            self.finish_step()

    def run_epoch(self) -> None:
        """Finish steps until the current epoch's data is used up."""
        self.finish_step()
        while self.state.position + len(self.state.batch_index) < self.n_train:
            self.finish_step()

    def run_epoch_fast(self) -> Array:
        """Train the rest of the epoch on the fast path (float32, nothing traced) and stand at
        the first batch of the next epoch; returns each step's batch loss. Same batches as
        ``run_epoch``; step back undoes it in one go. On overflow raises NonFiniteError,
        state unchanged."""
        s = self.state
        epoch, position = self.next_sample()
        size = self.config.batch_size
        order = self._order(epoch)
        batches = [order[i : i + size] for i in range(position, self.n_train, size)]
        result = train_conv_steps(
            self.spec,
            s.params.astype(np.float32),
            _opt_astype(s.opt_state, np.float32),
            self.config,
            self._x,
            self._target,
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
        self._history.push(s, FastEpoch(self.config))
        self.state = new
        return result.losses

    def step_back(self) -> bool:
        """Return to the state before the last action; False if the history is empty."""
        state = self._history.pop()
        if state is None:
            return False
        if not fits(state.opt_state, self.config):
            state = _switched(state, self.config)
            self._history.switched(self.config)
        self.state = state
        return True

    def set_config(self, config: TrainConfig) -> None:
        """New optimisation settings from the next update; a different optimizer starts
        afresh (zero buffers)."""
        if config.optimizer != self.config.optimizer:
            self.state = _switched(self.state, config)
            self._history.switched(config)
        self.config = config

    def set_params(self, params: Params) -> None:
        """Parameters from elsewhere (a torch run, a file); the batch restarts from forward."""
        self.spec.check_params(params)
        s = self.state
        new = _restarted(s, params.astype(self.dtype), Loaded())
        self._history.push(s, Loaded())
        self.state = new

    # -- the phases ------------------------------------------------------------------------
    def _act(self, event: Phases) -> None:
        s = self.state
        new = self._redo(s, event)
        self._history.push(s, event)
        self.state = new

    def _redo(self, s: ConvStepState, event: Event) -> ConvStepState:
        assert isinstance(event, Phases), "only phases are redone"
        new = s
        for _ in range(event.n):
            new = self._advanced(new, event.config)
        return replace(new, trail=extend(s.trail, event))

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
    ) -> ConvStepState:
        if position >= self.n_train:
            epoch, position = epoch + 1, 0
        idx = self._order(epoch)[position : position + batch_size]
        x = self._x[idx]
        if x.dtype.itemsize > self.dtype.itemsize or x.dtype.kind != "f":
            x = x.astype(self.dtype)
        x = images(self.spec, x)
        x.flags.writeable = False
        target = self._target[idx]
        return ConvStepState(params, opt_state, epoch, step, position, idx, x, target, trail=trail)

    def _order(self, epoch: int) -> Array:
        """``epoch_order`` of this epoch, drawn once per epoch rather than once per batch."""
        if self._epoch_order[0] != epoch:
            order = epoch_order(self.n_train, self.seed, epoch)
            order.flags.writeable = False
            self._epoch_order = (epoch, order)
        return self._epoch_order[1]

    def _advanced(self, s: ConvStepState, config: TrainConfig) -> ConvStepState:
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
        spec, nb = self.spec, self.spec.n_blocks
        if phase.kind == "forward":
            assert phase.layer is not None
            if phase.layer < nb:
                x_in = s.x if phase.layer == 0 else s.blocks[-1].output
                rec = forward_block(spec, s.params, phase.layer, x_in)
                return replace(s, done=s.done + 1, blocks=(*s.blocks, rec))
            layer = phase.layer - nb
            a_prev = flat_features(s.blocks) if layer == 0 else s.a[-1]
            z, a = forward_dense(spec, s.params, layer, a_prev)
            return replace(s, done=s.done + 1, z=(*s.z, z), a=(*s.a, a))
        if phase.kind == "error":
            err = conv_error(spec, s.forward_trace(), s.target)
            return replace(s, done=s.done + 1, err=err)
        if phase.kind == "backward":
            assert phase.layer is not None and s.err is not None
            fwd = s.forward_trace()
            if phase.layer >= nb:
                above = s.back[-1] if s.back else None
                assert above is None or isinstance(above, LayerGradients)
                dense = backward_dense(spec, s.params, fwd, s.err, phase.layer - nb, above)
                return replace(s, done=s.done + 1, back=(*s.back, dense))
            block = backward_block(spec, s.params, fwd, phase.layer, s.back[-1])
            return replace(s, done=s.done + 1, back=(*s.back, block))
        grads = s.gradients(nb)
        assert grads is not None
        params, opt_state = conv_update(s.params, grads, s.opt_state, config)
        return replace(
            s,
            done=s.done + 1,
            params=params,
            opt_state=opt_state,
            prev_params=s.params,
            prev_opt_state=s.opt_state,
            step=s.step + 1,
        )


def _restarted(s: ConvStepState, params: Params, event: Event) -> ConvStepState:
    return replace(
        s,
        params=params,
        done=0,
        blocks=(),
        z=(),
        a=(),
        err=None,
        back=(),
        prev_params=None,
        prev_opt_state=None,
        trail=extend(s.trail, event),
    )


def _switched(s: ConvStepState, config: TrainConfig) -> ConvStepState:
    fresh = init_opt_state(s.params, config)
    return replace(s, opt_state=replace(fresh, step=s.opt_state.step))


def _opt_astype(state: OptState, dtype: npt.DTypeLike) -> OptState:
    def cast(p: Params | None) -> Params | None:
        return None if p is None else p.astype(dtype)

    return OptState(state.step, cast(state.velocity), cast(state.m), cast(state.v))
