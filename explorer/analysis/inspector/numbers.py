"""One unit's numbers in each phase, read from the engine's traces (so they equal them exactly):
no formatting here. Every function assumes its phase has run; ``inspect_neuron`` checks."""

from __future__ import annotations

import numpy as np

from explorer.analysis.inspector.report import (
    BackwardNumbers,
    Change,
    ErrorNumbers,
    ErrorRule,
    ForwardNumbers,
    GradientNumbers,
    InputNumbers,
    Term,
    UpdateNumbers,
    WeightGradient,
)
from explorer.engine import ACTIVATIONS, LOSS_FUNCTIONS, NetworkSpec, Params, StepState
from explorer.engine.types import Array
from explorer.engine.units import shown


def weights_used(state: StepState) -> Params:
    """The parameters this batch's forward and backward passes used (before its update)."""
    return state.prev_params if state.prev_params is not None else state.params


def top_indices(values: Array, k: int) -> Array:
    """Indices of the k largest |values|, largest first (stable among ties)."""
    return np.argsort(-np.abs(values), kind="stable")[:k]


def largest_terms(weights: Array, values: Array, top: int) -> tuple[tuple[Term, ...], float, int]:
    """The ``top`` largest products w_i v_i, plus the sum and count of the others."""
    products = weights * values
    order = top_indices(products, top)
    terms = tuple(
        Term(int(i), float(weights[i]), float(values[i]), float(products[i])) for i in order
    )
    others = np.ones(len(products), dtype=bool)
    others[order] = False
    return terms, float(products[others].sum()), int(others.sum())


def input_numbers(
    spec: NetworkSpec, state: StepState, unit: int, sample: int | None, top: int
) -> InputNumbers:
    w = state.params.weights[0][unit]
    order = top_indices(w, top)
    grads = state.layer_gradients(0)
    g = grads.weight_der[unit] if grads is not None else None
    return InputNumbers(
        float(shown(state.x, "a", sample)[unit]),
        tuple(int(k) for k in order),
        tuple(float(w[k]) for k in order),
        None if g is None else tuple(float(g[k]) for k in order),
    )


def forward_numbers(
    state: StepState, layer: int, unit: int, sample: int | None, top: int
) -> ForwardNumbers:
    params = weights_used(state)
    a_prev = state.x if layer == 0 else state.a[layer - 1]
    terms, rest, n_rest = largest_terms(
        params.weights[layer][:, unit], shown(a_prev, "a", sample), top
    )
    return ForwardNumbers(
        float(shown(state.z[layer], "z", sample)[unit]),
        float(shown(state.a[layer], "a", sample)[unit]),
        float(params.biases[layer][unit]),
        terms,
        rest,
        n_rest,
    )


def output_target(spec: NetworkSpec, target: Array, unit: int, sample: int | None) -> float:
    """The target of this output unit (one-hot for class indices); the batch mean if no sample."""
    col = (target == unit).astype(float) if spec.loss == "cross_entropy" else target[:, unit]
    return float(col[sample]) if sample is not None else float(col.mean())


def error_numbers(
    spec: NetworkSpec, state: StepState, unit: int, sample: int | None
) -> ErrorNumbers:
    err = state.err
    assert err is not None
    layer = len(spec.layers) - 1
    act = ACTIVATIONS[spec.layers[layer].activation]
    rule: ErrorRule
    if spec.loss == "cross_entropy":
        rule = "cross_entropy"
    elif spec.loss == "binary_cross_entropy":
        rule = "bce"
    else:
        rule = "chain" if act.elementwise else "softmax"
    # f'(z) on the whole (B, n) array, as the engine computed it, so delta = dL/da f'(z) exactly.
    f_der = sample_loss = None
    label = None
    if sample is not None:
        if rule == "chain":
            f_der = float(act.der(state.z[layer])[sample, unit])
        one = slice(sample, sample + 1)
        z, a, t = state.z[layer][one], state.a[layer][one], err.target[one]
        sample_loss = float(LOSS_FUNCTIONS[spec.loss].value(z, a, t))
        if spec.loss == "cross_entropy":
            label = int(err.target[sample])
    return ErrorNumbers(
        float(shown(err.output_der, "output_der", sample)[unit]),
        float(shown(err.input_der, "input_der", sample)[unit]),
        float(shown(state.a[layer], "a", sample)[unit]),
        output_target(spec, err.target, unit, sample),
        f_der,
        rule,
        float(err.loss),
        sample_loss,
        label,
    )


def backward_numbers(
    spec: NetworkSpec, state: StepState, layer: int, unit: int, sample: int | None, top: int
) -> BackwardNumbers:
    own = state.layer_gradients(layer)
    above = state.layer_gradients(layer + 1)
    assert own is not None and above is not None
    w = weights_used(state).weights[layer + 1][unit]  # w_jk to every unit k above
    terms, rest, n_rest = largest_terms(w, shown(above.input_der, "input_der", sample), top)
    f_der: float | None = None
    if sample is not None:
        act = ACTIVATIONS[spec.layers[layer].activation]
        f_der = float(act.der(state.z[layer])[sample, unit])
    return BackwardNumbers(
        float(shown(own.output_der, "output_der", sample)[unit]),
        float(shown(own.input_der, "input_der", sample)[unit]),
        f_der,
        terms,
        rest,
        n_rest,
    )


def gradient_numbers(
    spec: NetworkSpec, state: StepState, layer: int, unit: int, sample: int | None, top: int
) -> GradientNumbers:
    grads = state.layer_gradients(layer)
    assert grads is not None
    a_prev = state.x if layer == 0 else state.a[layer - 1]
    g = grads.weight_der[:, unit]
    a_shown = shown(a_prev, "a", sample)
    weights = tuple(
        WeightGradient(
            int(i),
            float(a_shown[i]),
            None if sample is None else float(a_prev[sample, i] * grads.input_der[sample, unit]),
            float(g[i]),
        )
        for i in top_indices(g, top)
    )
    delta = float(shown(grads.input_der, "input_der", sample)[unit])
    return GradientNumbers(delta, float(grads.bias_der[unit]), weights)


def update_numbers(
    state: StepState, layer: int, unit: int, gradient: GradientNumbers
) -> UpdateNumbers:
    before, after = state.prev_params, state.params
    assert before is not None

    def change(source: int, grad: float) -> Change:
        if source == -1:
            b, a = before.biases[layer][unit], after.biases[layer][unit]
        else:
            b, a = before.weights[layer][source, unit], after.weights[layer][source, unit]
        # The step is the change the optimizer made, read back from the two parameter sets.
        return Change(source, grad, float(b), float(a - b), float(a))

    return UpdateNumbers(
        change(-1, gradient.bias_grad),
        tuple(change(wg.source, wg.grad) for wg in gradient.weights),
    )
