"""Gradient check for the CNN: backprop's gradients against central finite differences.

As ``explorer.engine.gradcheck`` does it for the MLP, and returning its ``GradientCheck``:
numeric = (L(p + h) - L(p - h)) / 2h with the losses in extended precision (longdouble), the
analytic gradients from the CNN's float64 ``backward``, the same relative error with its floor.
``layer`` counts blocks first, then dense layers; ``kind`` is "weight" (a kernel entry for a
block, ``index`` then (filter, channel, row, column)) or "bias". Big arrays can be sampled.
"""

from __future__ import annotations

import numpy as np

from explorer.engine.activations import ACTIVATIONS
from explorer.engine.conv.kernels import conv2d, maxpool2x2
from explorer.engine.conv.phases import backward, conv_error, forward, images
from explorer.engine.conv.spec import ConvNetSpec
from explorer.engine.gradcheck import REL_ERROR_FLOOR, GradientCheck, ParamCheck
from explorer.engine.losses import LOSS_FUNCTIONS
from explorer.engine.spec import Params
from explorer.engine.types import Array


def _loss_from(
    spec: ConvNetSpec, weights: list[Array], biases: list[Array], start: int, h: Array, t: Array
) -> np.longdouble:
    """The loss from layer ``start`` on, given that layer's input ``h``."""
    nb = spec.n_blocks
    for i in range(start, nb):
        b = spec.blocks[i]
        h = ACTIVATIONS[b.activation].output(conv2d(h, weights[i], biases[i], b.pad))
        if b.pool:
            h = maxpool2x2(h)[0]
    if start <= nb:
        h = h.reshape(len(h), -1)
    for j in range(max(start - nb, 0), len(spec.dense)):
        z = h @ weights[nb + j] + biases[nb + j]
        h = ACTIVATIONS[spec.dense[j].activation].output(z)
    return np.longdouble(LOSS_FUNCTIONS["cross_entropy"].value(z, h, t))


def conv_gradient_check(
    spec: ConvNetSpec,
    params: Params,
    x: Array,
    target: Array,
    *,
    h: float = 1e-6,
    max_per_layer: int | None = None,
    rng: np.random.Generator | None = None,
) -> GradientCheck:
    """Check the gradients of the loss on (x, class labels) at ``params``: every entry, or
    up to ``max_per_layer`` per parameter array drawn with ``rng``."""
    p64 = params.astype(np.float64)
    x64 = np.asarray(x, dtype=np.float64)
    fwd = forward(spec, p64, x64)
    grads = backward(spec, p64, fwd, conv_error(spec, fwd, target)).for_optimizer()
    ld = np.longdouble
    weights = [w.astype(ld) for w in p64.weights]
    biases = [b.astype(ld) for b in p64.biases]
    # Each layer's input is unchanged by its own parameters: compute it once.
    inputs = _widened_inputs(spec, weights, biases, images(spec, x64).astype(ld))
    rng = rng or np.random.default_rng(0)
    checks = []
    for layer in range(spec.n_layers):
        for kind, arrays, analytic_all in (
            ("weight", weights, grads.weight_der[layer]),
            ("bias", biases, grads.bias_der[layer]),
        ):
            arr = arrays[layer]
            flat = np.arange(arr.size)
            if max_per_layer is not None and arr.size > max_per_layer:
                flat = np.sort(rng.choice(arr.size, max_per_layer, replace=False))
            numeric = np.empty(len(flat))
            for k, i in enumerate(flat):
                pos = np.unravel_index(i, arr.shape)
                orig = arr[pos]
                arr[pos] = orig + h
                up = _loss_from(spec, weights, biases, layer, inputs[layer], target)
                arr[pos] = orig - h
                down = _loss_from(spec, weights, biases, layer, inputs[layer], target)
                arr[pos] = orig
                numeric[k] = float((up - down) / ld(2 * h))
            analytic = analytic_all.reshape(-1)[flat]
            scale = np.maximum(np.maximum(np.abs(analytic), np.abs(numeric)), REL_ERROR_FLOOR)
            rel = np.abs(analytic - numeric) / scale
            index = np.stack(np.unravel_index(flat, arr.shape), axis=1)
            checks.append(ParamCheck(layer, kind, index, analytic, numeric, rel))
    return GradientCheck(tuple(checks))


def _widened_inputs(
    spec: ConvNetSpec, weights: list[Array], biases: list[Array], x: Array
) -> list[Array]:
    """Each layer's input, computed in longdouble from the images ``x`` (B, 1, H, W)."""
    nb = spec.n_blocks
    out = [x]
    h = x
    for i, b in enumerate(spec.blocks):
        h = ACTIVATIONS[b.activation].output(conv2d(h, weights[i], biases[i], b.pad))
        if b.pool:
            h = maxpool2x2(h)[0]
        out.append(h if i < nb - 1 else h.reshape(len(h), -1))
    for j in range(len(spec.dense) - 1):
        h = ACTIVATIONS[spec.dense[j].activation].output(out[-1] @ weights[nb + j] + biases[nb + j])
        out.append(h)
    return out
