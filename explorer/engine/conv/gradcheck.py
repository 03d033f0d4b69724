"""Gradient check for the CNN: backprop's gradients against central finite differences.

As ``explorer.engine.gradcheck`` does it for the MLP, and returning its ``GradientCheck``:
numeric = (L(p + h) - L(p - h)) / 2h with the losses in extended precision (longdouble), the
analytic gradients from the CNN's float64 ``backward``, the same relative error with its floor.
``layer`` counts blocks first, then dense layers; ``kind`` is "weight" (a kernel entry for a
block, ``index`` then (filter, channel, row, column)) or "bias". Big arrays can be sampled.

The kinks: a ReLU's z = 0 and a max-pool's choice. An entry whose p - h and p + h turn some
ReLU on or off, or change some pool's winner, is flagged ``at_kink`` and not compared. That
is no rare corner here: at init the biases are 0 and a blank patch of a digit (most of the
28x28 image) gives z = 0 exactly, so every bias of a ReLU block moves hundreds of z across
the kink, while a kernel weight meets x = 0 there and moves none of them.
"""

from __future__ import annotations

import numpy as np

from explorer.engine.activations import ACTIVATIONS
from explorer.engine.conv.kernels import conv2d, maxpool2x2
from explorer.engine.conv.phases import backward, conv_error, forward, images
from explorer.engine.conv.spec import ConvNetSpec
from explorer.engine.gradcheck import NO_SWITCHES, GradientCheck, check_params, switches, widened
from explorer.engine.losses import LOSS_FUNCTIONS
from explorer.engine.spec import Params
from explorer.engine.types import Array


def _loss_from(
    spec: ConvNetSpec, weights: list[Array], biases: list[Array], start: int, h: Array, t: Array
) -> tuple[np.longdouble, Array]:
    """The loss from layer ``start`` on, given that layer's input ``h``, and the switches on
    the way: the ReLUs on, the pools' winners."""
    nb = spec.n_blocks
    on = [NO_SWITCHES]
    for i in range(start, nb):
        b = spec.blocks[i]
        z = conv2d(h, weights[i], biases[i], b.pad)
        h = ACTIVATIONS[b.activation].output(z)
        on.append(switches(b.activation, z))
        if b.pool:
            h, argmax = maxpool2x2(h)
            on.append(argmax.ravel())
    if start <= nb:
        h = h.reshape(len(h), -1)
    for j in range(max(start - nb, 0), len(spec.dense)):
        z = h @ weights[nb + j] + biases[nb + j]
        h = ACTIVATIONS[spec.dense[j].activation].output(z)
        on.append(switches(spec.dense[j].activation, z))
    return np.longdouble(LOSS_FUNCTIONS["cross_entropy"].value(z, h, t)), np.concatenate(on)


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
    weights, biases = widened(p64)
    # Each layer's input is unchanged by its own parameters: compute it once.
    inputs = _widened_inputs(spec, weights, biases, images(spec, x64).astype(np.longdouble))

    def loss_from(layer: int) -> tuple[np.longdouble, Array]:
        return _loss_from(spec, weights, biases, layer, inputs[layer], target)

    return check_params(weights, biases, grads, loss_from, h, max_per_layer, rng)


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
