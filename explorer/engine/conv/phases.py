"""The phases of one CNN training step, as pure functions, one block or layer at a time.

  forward   block by block: z = conv(x, w) + b, a = f(z), pooled = maxpool(a); then the
            dense layers on the last block's output flattened (the MLP's ``forward_layer``)
  error     the MLP's ``error`` on the dense part (softmax + cross-entropy)
  backward  the dense layers from the output down (the MLP's ``backward_layer``), then block
            by block from the last: dL/d(output) from the layer above, through the pool to
            its winners, delta = dL/da * f'(z), dL/dw = sum over positions of delta * x
  update    the MLP's ``optim.update`` on ``ConvGradients.for_optimizer()``

Layers are numbered blocks first, then dense layers (``ConvNetSpec.layer_name``); every phase
raises NonFiniteError naming the layer where NaN or inf first appears, in that numbering.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

from explorer.engine.activations import ACTIVATIONS
from explorer.engine.conv.kernels import (
    conv2d,
    conv2d_input_der,
    conv2d_kernel_der,
    maxpool2x2,
    maxpool2x2_der,
)
from explorer.engine.conv.spec import ConvNetSpec
from explorer.engine.conv.traces import (
    BlockGradients,
    BlockTrace,
    ConvForwardTrace,
    ConvGradients,
)
from explorer.engine.errors import FailedPhase, NonFiniteError
from explorer.engine.optim import OptState, update
from explorer.engine.phases import backward_layer, error, forward_layer
from explorer.engine.phases import forward as dense_forward
from explorer.engine.spec import Params, TrainConfig
from explorer.engine.traces import ErrorTrace, LayerGradients
from explorer.engine.types import Array


def _finite(phase: FailedPhase, layer: int | None, *arrays: Array | None) -> None:
    for arr in arrays:
        if arr is not None and not np.isfinite(arr).all():
            raise NonFiniteError(phase, layer)


def _frozen(*arrays: Array | None) -> None:
    for arr in arrays:
        if arr is not None:
            arr.flags.writeable = False


def head_params(spec: ConvNetSpec, params: Params) -> Params:
    """The dense layers' parameters, as the MLP engine's ``Params`` of ``spec.head``."""
    n = spec.n_blocks
    return Params(params.weights[n:], params.biases[n:])


def images(spec: ConvNetSpec, x: Array) -> Array:
    """A batch as (B, 1, H, W) from flat rows (B, H*W) or images (B, H, W)."""
    return x.reshape(len(x), 1, *spec.input_shape)


def forward_block(
    spec: ConvNetSpec, params: Params, block: int, x: Array, *, cols: Array | None = None
) -> BlockTrace:
    """Block ``block``'s record from its input x (B, C, H, W); ``cols``: x's ``im2col``, when
    the caller keeps it for the block's backward phase."""
    if block == 0:
        _finite("input", None, x)
    b = spec.blocks[block]
    with np.errstate(over="ignore", invalid="ignore"):
        z = conv2d(x, params.weights[block], params.biases[block], b.pad, cols)
        a = ACTIVATIONS[b.activation].output(z)
        pooled, argmax = maxpool2x2(a) if b.pool else (None, None)
    _finite("forward", block, z, a)
    _frozen(z, a, pooled, argmax)
    return BlockTrace(x, z, a, pooled, argmax)


def flat_features(blocks: tuple[BlockTrace, ...]) -> Array:
    """The last block's output as the dense part's input (B, F*H*W), torch's flatten order."""
    out = blocks[-1].output
    flat = out.reshape(len(out), -1)
    _frozen(flat)
    return flat


@contextmanager
def _dense_layers(spec: ConvNetSpec) -> Iterator[None]:
    """Renumber a NonFiniteError from the MLP's phases on the dense part: its layer 0 is layer
    ``n_blocks`` here."""
    try:
        yield
    except NonFiniteError as exc:
        layer = None if exc.layer is None else spec.n_blocks + exc.layer
        raise NonFiniteError(exc.phase, layer) from None


def forward_dense(
    spec: ConvNetSpec, params: Params, layer: int, a_prev: Array
) -> tuple[Array, Array]:
    """z and a of dense layer ``layer`` (0 = the first dense layer) from a_prev."""
    with _dense_layers(spec):
        return forward_layer(spec.head, head_params(spec, params), layer, a_prev)


def forward(spec: ConvNetSpec, params: Params, x: Array) -> ConvForwardTrace:
    """Run a batch (flat rows or images) through every block and dense layer."""
    inp = images(spec, x)
    blocks: list[BlockTrace] = []
    h = inp
    for block in range(spec.n_blocks):
        blocks.append(forward_block(spec, params, block, h))
        h = blocks[-1].output
    with _dense_layers(spec):
        dense = dense_forward(spec.head, head_params(spec, params), flat_features(tuple(blocks)))
    return ConvForwardTrace(inp, tuple(blocks), dense)


def conv_error(spec: ConvNetSpec, fwd: ConvForwardTrace, target: Array) -> ErrorTrace:
    """The batch's cross-entropy and its derivatives at the output (target: class indices)."""
    return error(spec.head, fwd.dense, target)


def backward_dense(
    spec: ConvNetSpec,
    params: Params,
    fwd: ConvForwardTrace,
    err: ErrorTrace,
    layer: int,
    above: LayerGradients | None,
) -> LayerGradients:
    """Dense layer ``layer``'s gradients, given the dense layer above's (None for the output)."""
    with _dense_layers(spec):
        return backward_layer(spec.head, head_params(spec, params), fwd.dense, err, layer, above)


def backward_block(
    spec: ConvNetSpec,
    params: Params,
    fwd: ConvForwardTrace,
    block: int,
    above: LayerGradients | BlockGradients,
    *,
    cols: Array | None = None,
) -> BlockGradients:
    """Block ``block``'s gradients, given the record of what comes after it: the first dense
    layer's (for the last block) or the next block's; ``cols``: the block input's ``im2col``,
    if the caller kept it from the forward phase."""
    rec = fwd.blocks[block]
    b = spec.blocks[block]
    with np.errstate(over="ignore", invalid="ignore"):
        if isinstance(above, LayerGradients):
            n = spec.n_blocks
            out_der = (above.input_der @ params.weights[n].T).reshape(rec.output.shape)
        else:
            w_above = params.weights[block + 1]
            out_der = conv2d_input_der(above.input_der, w_above, spec.blocks[block + 1].pad)
        if b.pool:
            assert rec.argmax is not None
            pooled_der: Array | None = out_der
            output_der = maxpool2x2_der(out_der, rec.argmax, rec.a)
        else:
            pooled_der, output_der = None, out_der
        input_der = ACTIVATIONS[b.activation].input_der(rec.z, rec.a, output_der)
        kernel_der = conv2d_kernel_der(rec.input, input_der, b.kernel, b.pad, cols)
        bias_der = input_der.sum(axis=(0, 2, 3))
    _finite("backward", block, input_der, kernel_der, bias_der)
    _frozen(pooled_der, output_der, input_der, kernel_der, bias_der)
    return BlockGradients(pooled_der, output_der, input_der, kernel_der, bias_der)


def backward(
    spec: ConvNetSpec, params: Params, fwd: ConvForwardTrace, err: ErrorTrace
) -> ConvGradients:
    """Backpropagate from the output layer down to the first block."""
    dense: list[LayerGradients] = []
    above: LayerGradients | None = None
    for layer in reversed(range(len(spec.dense))):
        above = backward_dense(spec, params, fwd, err, layer, above)
        dense.append(above)
    blocks: list[BlockGradients] = []
    after: LayerGradients | BlockGradients = dense[-1]
    for block in reversed(range(spec.n_blocks)):
        after = backward_block(spec, params, fwd, block, after)
        blocks.append(after)
    return ConvGradients(tuple(reversed(blocks)), tuple(reversed(dense)))


def conv_update(
    params: Params, grads: ConvGradients, opt_state: OptState, config: TrainConfig
) -> tuple[Params, OptState]:
    """One optimizer step: the MLP's ``optim.update`` (sgd, momentum, adam; l1, l2 on the
    kernels and dense weights, not on biases)."""
    return update(params, grads.for_optimizer(), opt_state, config)
