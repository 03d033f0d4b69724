"""The CNN's fast path: whole mini-batch steps with nothing traced, for epochs and full runs.

The same kernels (``explorer.engine.conv.kernels``) and the same optimizer (the MLP's
``optim.update``) as the phases, in the same order, so in float64 it gives the traced path's
numbers bit for bit; what it leaves out is the per-phase bookkeeping: no record is frozen or
kept, finiteness is checked once a step (the loss and the new parameters), and the first
block's input gradient is never formed. On overflow the step is replayed through the traced
phases to name the phase and layer, and NonFiniteError is raised with the last finite
parameters kept.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import partial

import numpy as np

from explorer.engine.activations import ACTIVATIONS
from explorer.engine.conv.kernels import (
    conv2d,
    conv2d_input_der,
    conv2d_kernel_der,
    im2col,
    maxpool2x2,
    maxpool2x2_der,
)
from explorer.engine.conv.phases import backward, conv_error, conv_update, forward
from explorer.engine.conv.spec import ConvNetSpec
from explorer.engine.errors import NonFiniteError
from explorer.engine.fast import TrainResult, first_nonfinite
from explorer.engine.optim import OptState, update
from explorer.engine.spec import Params, TrainConfig
from explorer.engine.traces import Gradients
from explorer.engine.types import Array


def _loss_and_grads(
    spec: ConvNetSpec, params: Params, x: Array, t: Array
) -> tuple[float, Gradients]:
    """The batch's loss and dL/d(every parameter), ``Params`` order."""
    nb = spec.n_blocks
    ws, bs = params.weights, params.biases
    acts_conv = [ACTIVATIONS[b.activation] for b in spec.blocks]
    acts_dense = [ACTIVATIONS[d.activation] for d in spec.dense]
    h = x.reshape(len(x), 1, *spec.input_shape)
    saved = []
    for i, b in enumerate(spec.blocks):
        cols = im2col(h, b.kernel, b.pad, np.result_type(h, ws[i]))
        z = conv2d(h, ws[i], bs[i], b.pad, cols)
        a = acts_conv[i].output(z)
        pooled, argmax = maxpool2x2(a) if b.pool else (a, None)
        saved.append((h, cols, z, a, argmax))
        h = pooled
    flat = h.reshape(len(h), -1)
    outs = [flat]
    zs = []
    for j in range(len(spec.dense) - 1):
        zs.append(outs[-1] @ ws[nb + j] + bs[nb + j])
        outs.append(acts_dense[j].output(zs[-1]))
    z = outs[-1] @ ws[-1] + bs[-1]
    # softmax + cross-entropy as the MLP's error: log-sum-exp loss, delta = (a - onehot) / B
    m = z.max(axis=1, keepdims=True)
    e = np.exp(z - m)
    s = e.sum(axis=1, keepdims=True)
    rows = np.arange(len(z))
    loss = float(np.mean(m[:, 0] + np.log(s[:, 0]) - z[rows, t]))
    delta = e / s
    delta[rows, t] -= 1.0
    delta /= len(z)
    wd: list[Array] = [np.empty(0)] * len(ws)
    bd: list[Array] = [np.empty(0)] * len(bs)
    for j in reversed(range(len(spec.dense))):
        wd[nb + j] = outs[j].T @ delta
        bd[nb + j] = delta.sum(axis=0)
        out_der = delta @ ws[nb + j].T
        if j:
            delta = acts_dense[j - 1].input_der(zs[j - 1], outs[j], out_der)
    out_der = out_der.reshape(h.shape)
    for i in reversed(range(nb)):
        b = spec.blocks[i]
        h_in, cols, z, a, argmax = saved[i]
        if argmax is not None:
            out_der = maxpool2x2_der(out_der, argmax, a)
        delta = acts_conv[i].input_der(z, a, out_der)
        wd[i] = conv2d_kernel_der(h_in, delta, b.kernel, b.pad, cols)
        bd[i] = delta.sum(axis=(0, 2, 3))
        if i:
            out_der = conv2d_input_der(delta, ws[i], b.pad)
    return loss, Gradients((), (), tuple(wd), tuple(bd))


def train_conv_steps(
    spec: ConvNetSpec,
    params: Params,
    opt_state: OptState,
    config: TrainConfig,
    x: Array,
    target: Array,
    batches: Sequence[Array],
    *,
    on_step: Callable[[int, float], bool] | None = None,
) -> TrainResult:
    """Train on ``batches`` (index arrays into x (n, H*W) and the class labels ``target``);
    ``on_step(step, loss)`` returning False stops early, keeping what was trained."""
    dtype = params.dtype
    losses = np.empty(len(batches))
    done = 0
    for i, idx in enumerate(batches):
        xb = x[idx] if x.dtype == dtype else x[idx].astype(dtype)
        t = target[idx]
        try:
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                loss, grads = _loss_and_grads(spec, params, xb, t)
            if not math.isfinite(loss):
                raise NonFiniteError("error", None)
            params, opt_state = update(params, grads, opt_state, config)
        except NonFiniteError:
            replay = partial(_traced_step, spec, params, opt_state, config, xb, t)
            raise first_nonfinite(replay) from None
        losses[i] = loss
        done += 1
        if on_step is not None and not on_step(i, loss):
            break
    return TrainResult(params, opt_state, losses[:done])


def _traced_step(
    spec: ConvNetSpec, params: Params, opt_state: OptState, config: TrainConfig, x: Array, t: Array
) -> None:
    """One step through the traced phases, which name the phase and layer that overflow."""
    fwd = forward(spec, params, x)
    conv_update(params, backward(spec, params, fwd, conv_error(spec, fwd, t)), opt_state, config)
