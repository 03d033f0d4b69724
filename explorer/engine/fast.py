"""The fast path: whole mini-batch steps with no tracing, for full training and comparisons.

Same math and the same batch order as the phases (a test holds them equal), but nothing is kept
per phase: every buffer is allocated once per batch size and written in place with ``out=``,
the gradients of the input layer are never formed, and the parameters are updated in place in
private copies. float32 by default; the dtype of the given parameters otherwise.

Non-finite values: the loss and every new parameter array are checked each step; on overflow
the step is replayed through the traced phases to name the phase and layer, and NonFiniteError
is raised with the last finite parameters left as they were.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from explorer.engine.activations import ACTIVATIONS
from explorer.engine.batches import epoch_batches
from explorer.engine.errors import NonFiniteError
from explorer.engine.losses import LOSS_FUNCTIONS
from explorer.engine.optim import OptState, update
from explorer.engine.phases import backward, error, forward
from explorer.engine.spec import NetworkSpec, Params, TrainConfig
from explorer.engine.types import Array


@dataclass(frozen=True, eq=False)
class TrainResult:
    """Parameters and optimizer state after the run, and each step's batch loss (steps,)."""

    params: Params
    opt_state: OptState
    losses: Array


def locate_nonfinite(
    spec: NetworkSpec,
    params: Params,
    opt_state: OptState,
    config: TrainConfig,
    x: Array,
    target: Array,
) -> NonFiniteError:
    """Replay one step through the traced phases to find where it overflows."""
    try:
        fwd = forward(spec, params, x)
        err = error(spec, fwd, target)
        update(params, backward(spec, params, fwd, err), opt_state, config)
    except NonFiniteError as exc:
        return exc
    return NonFiniteError("update", None)


class _Buffers:
    """Per-layer work arrays for one batch size."""

    def __init__(self, sizes: tuple[int, ...], batch: int, dtype: np.dtype[Any]) -> None:
        self.x = np.empty((batch, sizes[0]), dtype)
        self.z = [np.empty((batch, n), dtype) for n in sizes[1:]]
        self.a = [np.empty((batch, n), dtype) for n in sizes[1:]]
        self.delta = [np.empty((batch, n), dtype) for n in sizes[1:]]


def train_steps(
    spec: NetworkSpec,
    params: Params,
    opt_state: OptState,
    config: TrainConfig,
    x: Array,
    target: Array,
    batches: Sequence[Array],
    *,
    on_step: Callable[[int, float], bool] | None = None,
) -> TrainResult:
    """Train on ``batches`` (index arrays into x and target, as ``encode_targets`` made them).

    ``on_step(step, loss)`` is called after each step; returning False stops early (a UI's
    Stop button), keeping what was trained.
    """
    dtype = params.dtype
    n_layers = len(spec.layers)
    acts = [ACTIVATIONS[layer.activation] for layer in spec.layers]
    loss_fn = LOSS_FUNCTIONS[spec.loss]
    ws = [w.copy() for w in params.weights]
    bs = [b.copy() for b in params.biases]
    state = opt_state
    buffers: dict[int, _Buffers] = {}
    losses = np.empty(len(batches))
    steps_done = 0
    for i, idx in enumerate(batches):
        n = len(idx)
        buf = buffers.get(n)
        if buf is None:
            buf = buffers[n] = _Buffers(spec.sizes, n, dtype)
        np.take(x, idx, axis=0, out=buf.x) if x.dtype == dtype else buf.x.__setitem__(
            slice(None), x[idx]
        )
        t = target[idx]
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            # forward: z = a_prev @ W + b, a = f(z)
            a_prev = buf.x
            for layer in range(n_layers):
                z = np.matmul(a_prev, ws[layer], out=buf.z[layer])
                z += bs[layer]
                buf.a[layer][...] = acts[layer].output(z)
                a_prev = buf.a[layer]
            z_out, a_out = buf.z[-1], buf.a[-1]
            loss = float(loss_fn.value(z_out, a_out, t))
            # backward: delta of the output layer, then down through the hidden layers
            if loss_fn.input_der is not None:
                buf.delta[-1][...] = loss_fn.input_der(z_out, a_out, t)
            else:
                out_der = loss_fn.output_der(z_out, a_out, t)
                buf.delta[-1][...] = acts[-1].input_der(z_out, a_out, out_der)
            weight_der: list[Array] = [np.empty(0)] * n_layers
            bias_der: list[Array] = [np.empty(0)] * n_layers
            for layer in reversed(range(n_layers)):
                d = buf.delta[layer]
                a_in = buf.x if layer == 0 else buf.a[layer - 1]
                weight_der[layer] = a_in.T @ d
                bias_der[layer] = d.sum(axis=0)
                if layer:
                    below = buf.delta[layer - 1]
                    np.matmul(d, ws[layer].T, out=below)
                    below[...] = acts[layer - 1].input_der(
                        buf.z[layer - 1], buf.a[layer - 1], below
                    )
        if not math.isfinite(loss):
            raise _located(spec, ws, bs, state, config, buf.x, t)
        from explorer.engine.traces import Gradients

        grads = Gradients((), (), tuple(weight_der), tuple(bias_der))
        try:
            new, state = update(Params(tuple(ws), tuple(bs)), grads, state, config)
        except NonFiniteError:
            raise _located(spec, ws, bs, state, config, buf.x, t) from None
        ws = list(new.weights)
        bs = list(new.biases)
        losses[i] = loss
        steps_done += 1
        if on_step is not None and not on_step(i, loss):
            break
    return TrainResult(Params(tuple(ws), tuple(bs)), state, losses[:steps_done])


def _located(
    spec: NetworkSpec,
    ws: list[Array],
    bs: list[Array],
    state: OptState,
    config: TrainConfig,
    x: Array,
    t: Array,
) -> NonFiniteError:
    return locate_nonfinite(spec, Params(tuple(ws), tuple(bs)), state, config, x.copy(), t)


def train_epoch(
    spec: NetworkSpec,
    params: Params,
    opt_state: OptState,
    config: TrainConfig,
    x: Array,
    target: Array,
    *,
    seed: int,
    epoch: int,
    on_step: Callable[[int, float], bool] | None = None,
) -> TrainResult:
    """One epoch in the Stepper's batch order for (seed, epoch)."""
    batches = epoch_batches(len(x), config.batch_size, seed, epoch)
    return train_steps(spec, params, opt_state, config, x, target, batches, on_step=on_step)
