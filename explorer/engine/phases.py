"""The four phases of one training step, as pure functions: forward, error, backward (update
lives in ``optim``). Each phase is a loop over a one-layer function, which the Stepper calls
one at a time; the pure functions and the Stepper therefore compute identical numbers.

Math, with layer l (0-based) and a[-1] = x:
  forward   z[l] = a[l-1] @ W[l] + b[l],  a[l] = f_l(z[l])
  error     L, dL/da[L-1] and delta[L-1] = dL/dz[L-1]
  backward  dL/da[l] = delta[l+1] @ W[l+1]^T   (the output layer's comes from the error)
            delta[l] = dL/da[l] * f_l'(z[l])   (softmax: its Jacobian-vector product)
            dL/dW[l] = a[l-1]^T @ delta[l],  dL/db[l] = sum over the batch of delta[l]
Every phase raises NonFiniteError naming the layer where NaN or inf first appears.
"""

from __future__ import annotations

import numpy as np

from explorer.engine.activations import ACTIVATIONS
from explorer.engine.errors import FailedPhase, NonFiniteError
from explorer.engine.losses import LOSS_FUNCTIONS
from explorer.engine.spec import NetworkSpec, Params
from explorer.engine.traces import ErrorTrace, ForwardTrace, Gradients, LayerGradients
from explorer.engine.types import Array


def _finite(phase: FailedPhase, layer: int | None, *arrays: Array) -> None:
    for arr in arrays:
        if not np.isfinite(arr).all():
            raise NonFiniteError(phase, layer)


def _frozen(*arrays: Array) -> None:
    # Traces are shared with the step history; an in-place edit would rewrite the past.
    for arr in arrays:
        arr.flags.writeable = False


def forward_layer(
    spec: NetworkSpec, params: Params, layer: int, a_prev: Array
) -> tuple[Array, Array]:
    """z and a of ``layer`` from the previous layer's output a_prev (B, n_{l-1})."""
    if layer == 0:
        _finite("input", None, a_prev)  # bad data, not an overflow: a learning rate won't help
    with np.errstate(over="ignore", invalid="ignore"):
        z = a_prev @ params.weights[layer] + params.biases[layer]
        a = ACTIVATIONS[spec.layers[layer].activation].output(z)
    _finite("forward", layer, z, a)
    _frozen(z, a)
    return z, a


def forward(spec: NetworkSpec, params: Params, x: Array) -> ForwardTrace:
    """Run x (B, n_in) through every layer, keeping every z and a."""
    zs: list[Array] = []
    outs: list[Array] = []
    a = x
    for layer in range(len(spec.layers)):
        z, a = forward_layer(spec, params, layer, a)
        zs.append(z)
        outs.append(a)
    return ForwardTrace(x, tuple(zs), tuple(outs))


def error(spec: NetworkSpec, fwd: ForwardTrace, target: Array) -> ErrorTrace:
    """The loss of the batch and dL/da, dL/dz at the output layer (``target`` as made by
    ``encode_targets``: class indices for cross-entropy, else (B, n_out))."""
    loss_fn = LOSS_FUNCTIONS[spec.loss]
    z, a = fwd.total_input[-1], fwd.output[-1]
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        loss = float(loss_fn.value(z, a, target))
        output_der = loss_fn.output_der(z, a, target)
        if loss_fn.input_der is not None:
            input_der = loss_fn.input_der(z, a, target)
        else:
            act = ACTIVATIONS[spec.layers[-1].activation]
            input_der = act.input_der(z, a, output_der)
    # dL/da may legitimately be huge for a saturated cross-entropy; the loss and delta may not.
    _finite("error", None, np.asarray(loss), input_der)
    _frozen(output_der, input_der)
    return ErrorTrace(loss, target, output_der, input_der)


def backward_layer(
    spec: NetworkSpec,
    params: Params,
    fwd: ForwardTrace,
    err: ErrorTrace,
    layer: int,
    above: LayerGradients | None,
) -> LayerGradients:
    """``layer``'s gradients, given the layer above's record (None for the output layer)."""
    z, a = fwd.total_input[layer], fwd.output[layer]
    a_prev = fwd.input if layer == 0 else fwd.output[layer - 1]
    with np.errstate(over="ignore", invalid="ignore"):
        if above is None:
            output_der, input_der = err.output_der, err.input_der
        else:
            output_der = above.input_der @ params.weights[layer + 1].T
            act = ACTIVATIONS[spec.layers[layer].activation]
            input_der = act.input_der(z, a, output_der)
        weight_der = a_prev.T @ input_der
        bias_der = input_der.sum(axis=0)
    _finite("backward", layer, input_der, weight_der, bias_der)
    _frozen(output_der, input_der, weight_der, bias_der)
    return LayerGradients(output_der, input_der, weight_der, bias_der)


def backward(spec: NetworkSpec, params: Params, fwd: ForwardTrace, err: ErrorTrace) -> Gradients:
    """Backpropagate from the output layer down to layer 0."""
    records: list[LayerGradients] = []
    above: LayerGradients | None = None
    for layer in reversed(range(len(spec.layers))):
        above = backward_layer(spec, params, fwd, err, layer, above)
        records.append(above)
    return Gradients.from_layers(tuple(reversed(records)))
