"""Walks a CNN's mini-batches one phase at a time, and back again, as the MLP's Stepper does.

The phases of one step: forward block by block then dense layer by dense layer, error,
backward from the output layer down to the first block, update: ``phase_sequence`` of the MLP
over ``spec.n_layers`` layers (blocks first), so ``Phase("forward", 0)`` is conv block 1.
The walking itself (the batch order, the step-back ``History`` of sparse snapshots and redone
actions, optimizer switches, the fast epoch, parameters loaded or restored, each action's
trail event) is ``explorer.engine.walker.PhaseWalker``'s, shared with the MLP's Stepper; what
is here is the state with its per-block records and how one phase runs.

A trail replays with ``explorer.engine.conv.replay.replay_conv``, whose cost model counts a
CNN's work. Left out: editing a weight by hand (the MLP's ``Edit`` addresses 2-D matrices).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from explorer.engine.conv.fast import train_conv_steps
from explorer.engine.conv.init import DEFAULT_INIT, init_conv_params
from explorer.engine.conv.kernels import im2col
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
from explorer.engine.fast import TrainResult
from explorer.engine.losses import encode_targets
from explorer.engine.optim import OptState, init_opt_state
from explorer.engine.spec import Params, SpecError, TrainConfig
from explorer.engine.traces import ErrorTrace, ForwardTrace, LayerGradients
from explorer.engine.trail import Event, Phases
from explorer.engine.types import Array
from explorer.engine.walker import PhaseWalker, updated


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

    def layer_gradients(self, layer: int) -> LayerGradients | BlockGradients | None:
        """Layer ``layer``'s backward record (blocks first), None before backward reaches it
        (backward runs after every block's and layer's forward, so then they count the layers)."""
        i = len(self.blocks) + len(self.z) - 1 - layer
        return self.back[i] if self.back and 0 <= i < len(self.back) else None

    def gradients(self, n_blocks: int) -> ConvGradients | None:
        """All gradients, once backward has reached the first block."""
        n_dense = len(self.back) - n_blocks
        if not self.blocks or len(self.back) < len(self.blocks) + len(self.z):
            return None
        dense = tuple(g for g in reversed(self.back[:n_dense]) if isinstance(g, LayerGradients))
        blocks = tuple(g for g in reversed(self.back[n_dense:]) if isinstance(g, BlockGradients))
        return ConvGradients(blocks, dense)


class ConvStepper(PhaseWalker[ConvStepState]):
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
        super().__init__(
            config, x.reshape(len(x), h * w), spec.n_layers, seed=seed, dtype=dtype, history=history
        )
        self.spec = spec
        self._target = encode_targets(spec.head, y, self.dtype)
        self._kept_cols: dict[int, tuple[Array, Array]] = {}
        if params is None:
            params = init_conv_params(spec, np.random.default_rng(seed), init, dtype=self.dtype)
        spec.check_params(params)
        params = params.astype(self.dtype)
        self.state = self._batch_state(
            params,
            opt_state or init_opt_state(params, config),
            epoch=0,
            step=0,
            position=0,
            batch_size=config.batch_size,
        )

    # -- the phases ------------------------------------------------------------------------
    def _redo(self, s: ConvStepState, event: Event) -> ConvStepState:
        assert isinstance(event, Phases), "only phases are redone"
        return self._redo_phases(s, event)

    def _check_params(self, params: Params) -> None:
        self.spec.check_params(params)

    def _train_fast(self, params: Params, opt_state: OptState, batches: list[Array]) -> TrainResult:
        spec, config = self.spec, self.config
        return train_conv_steps(spec, params, opt_state, config, self._x, self._target, batches)

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
        epoch, position, idx, x = self._rows(epoch, position, batch_size)
        x = images(self.spec, x)
        x.flags.writeable = False
        target = self._target[idx]
        return ConvStepState(params, opt_state, epoch, step, position, idx, x, target, trail=trail)

    def _cols(self, s: ConvStepState, block: int, x_in: Array) -> Array:
        """The im2col matrix of block ``block``'s input ``x_in``, built by its forward phase
        and kept for its backward phase (one copy for both), outside the states the history
        holds: one per block, of the batch stepped last. Inputs are frozen and held here with
        their matrix, so the same object means the same numbers."""
        kept = self._kept_cols.get(block)
        if kept is None or kept[0] is not x_in:
            b = self.spec.blocks[block]
            dtype = np.result_type(x_in, s.params.weights[block])
            kept = (x_in, im2col(x_in, b.kernel, b.pad, dtype))
            self._kept_cols[block] = kept
        return kept[1]

    def _advanced(self, s: ConvStepState, config: TrainConfig) -> ConvStepState:
        s = self._next_batch(s, config)
        phase = self.phases[s.done]
        spec, nb = self.spec, self.spec.n_blocks
        if phase.kind == "forward":
            assert phase.layer is not None
            if phase.layer < nb:
                x_in = s.x if phase.layer == 0 else s.blocks[-1].output
                rec = forward_block(
                    spec, s.params, phase.layer, x_in, cols=self._cols(s, phase.layer, x_in)
                )
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
            x_in = fwd.blocks[phase.layer].input
            block = backward_block(
                spec, s.params, fwd, phase.layer, s.back[-1], cols=self._cols(s, phase.layer, x_in)
            )
            return replace(s, done=s.done + 1, back=(*s.back, block))
        grads = s.gradients(nb)
        assert grads is not None
        params, opt_state = conv_update(s.params, grads, s.opt_state, config)
        return updated(s, params, opt_state)
