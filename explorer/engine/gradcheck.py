"""Gradient checking: backprop's gradients against central finite differences.

For each parameter p checked, numeric = (L(p + h) - L(p - h)) / 2h. The losses are evaluated in
extended precision (numpy's longdouble, 80-bit on x86), so the difference quotient's rounding
error stays far below the gradients being checked; the analytic gradients come from the
engine's own float64 ``backward``. Relative error: |analytic - numeric| / max(|analytic|,
|numeric|, 1e-6): gradients smaller than 1e-6 are compared on that absolute scale, since the
difference quotient itself carries an error of about 1e-13 (an error of 1e-12 then reads 1e-6).
Big layers can be sampled (``max_per_layer``) with an explicit Generator.

A kink (a ReLU's or leaky ReLU's z = 0, a max-pool's tie) between p - h and p + h makes the
difference quotient a mix of two slopes, no derivative at all: each loss evaluation also
returns the network's switches there (which of those units are on, which place each pool
took), and an entry whose switches differ between p - h and p + h is flagged ``at_kink`` and
left out of the largest error, not compared. A ReLU with z exactly 0 at p is such a kink once
p moves its z. Left out: second derivatives.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from explorer.engine.activations import ACTIVATIONS
from explorer.engine.losses import LOSS_FUNCTIONS
from explorer.engine.phases import backward, error, forward
from explorer.engine.spec import NetworkSpec, Params
from explorer.engine.traces import Gradients
from explorer.engine.types import Array

REL_ERROR_FLOOR = 1e-6
KINKED = frozenset({"relu", "leaky_relu"})  # activations whose slope jumps at z = 0
NO_SWITCHES = np.zeros(0, dtype=bool)


@dataclass(frozen=True, eq=False)
class ParamCheck:
    """One parameter array's check: ``kind`` "weight" or "bias" of ``layer`` (0-based);
    ``index`` (k, ndim) the entries checked; ``analytic``, ``numeric``, ``rel_error`` (k,);
    ``at_kink`` (k,) bool: entries whose p - h and p + h lie across a kink, not compared."""

    layer: int
    kind: str
    index: Array
    analytic: Array
    numeric: Array
    rel_error: Array
    at_kink: Array

    @property
    def max_rel_error(self) -> float:
        """The largest relative error of the entries compared (those not at a kink)."""
        compared = self.rel_error[~self.at_kink]
        return float(compared.max()) if compared.size else 0.0


@dataclass(frozen=True, eq=False)
class GradientCheck:
    """Every checked parameter array, weights then bias for layer 0, 1, ..."""

    checks: tuple[ParamCheck, ...]

    @property
    def max_rel_error(self) -> float:
        return max(c.max_rel_error for c in self.checks)

    def max_rel_error_per_layer(self) -> dict[int, float]:
        out: dict[int, float] = {}
        for c in self.checks:
            out[c.layer] = max(out.get(c.layer, 0.0), c.max_rel_error)
        return out


def _loss_from(
    spec: NetworkSpec,
    weights: list[Array],
    biases: list[Array],
    start: int,
    a_prev: Array,
    t: Array,
) -> tuple[np.longdouble, Array]:
    """The loss from layer ``start`` on, given its input ``a_prev``, and the switches."""
    a = a_prev
    on = [NO_SWITCHES]
    for layer in range(start, len(spec.layers)):
        z = a @ weights[layer] + biases[layer]
        activation = spec.layers[layer].activation
        a = ACTIVATIONS[activation].output(z)
        on.append(switches(activation, z))
    return np.longdouble(LOSS_FUNCTIONS[spec.loss].value(z, a, t)), np.concatenate(on)


def switches(activation: str, z: Array) -> Array:
    """Which units of ``z`` are past the kink of ``activation``, flat (none if it has none)."""
    return (z > 0).ravel() if activation in KINKED else NO_SWITCHES


def gradient_check(
    spec: NetworkSpec,
    params: Params,
    x: Array,
    target: Array,
    *,
    h: float = 1e-6,
    max_per_layer: int | None = None,
    rng: np.random.Generator | None = None,
) -> GradientCheck:
    """Check every gradient of the loss on (x, target) at ``params`` (or up to
    ``max_per_layer`` entries per parameter array, drawn with ``rng``)."""
    p64 = params.astype(np.float64)
    x64 = np.asarray(x, dtype=np.float64)
    t64 = target if spec.loss == "cross_entropy" else np.asarray(target, dtype=np.float64)
    fwd = forward(spec, p64, x64)
    grads = backward(spec, p64, fwd, error(spec, fwd, t64))
    weights, biases = widened(p64)
    t_ld = target if spec.loss == "cross_entropy" else np.asarray(target, dtype=np.longdouble)
    # The input to each layer is unchanged by its own parameters: compute it once.
    a_in = [x64.astype(np.longdouble)]
    for layer in range(len(spec.layers) - 1):
        z = a_in[-1] @ weights[layer] + biases[layer]
        a_in.append(ACTIVATIONS[spec.layers[layer].activation].output(z))

    def loss_from(layer: int) -> tuple[np.longdouble, Array]:
        return _loss_from(spec, weights, biases, layer, a_in[layer], t_ld)

    return check_params(weights, biases, grads, loss_from, h, max_per_layer, rng)


def widened(params: Params) -> tuple[list[Array], list[Array]]:
    """Copies of the weights and biases in extended precision, to perturb in place."""
    ld = np.longdouble
    return [w.astype(ld) for w in params.weights], [b.astype(ld) for b in params.biases]


def check_params(
    weights: list[Array],
    biases: list[Array],
    grads: Gradients,
    loss_from: Callable[[int], tuple[np.longdouble, Array]],
    h: float,
    max_per_layer: int | None,
    rng: np.random.Generator | None,
) -> GradientCheck:
    """Central differences against ``grads`` for every parameter array, weights then bias per
    layer: ``loss_from(layer)`` is the loss at the current ``weights`` and ``biases`` (extended
    precision), which this perturbs in place one entry at a time and restores, with the
    network's switches there (an entry whose switches differ at p - h and p + h is at a kink)."""
    rng = rng or np.random.default_rng(0)
    checks = []
    for layer in range(len(weights)):
        for kind, arrays, analytic_all in (
            ("weight", weights, grads.weight_der[layer]),
            ("bias", biases, grads.bias_der[layer]),
        ):
            arr = arrays[layer]
            flat = np.arange(arr.size)
            if max_per_layer is not None and arr.size > max_per_layer:
                flat = np.sort(rng.choice(arr.size, max_per_layer, replace=False))
            numeric = np.empty(len(flat))
            at_kink = np.zeros(len(flat), dtype=bool)
            for k, i in enumerate(flat):
                pos = np.unravel_index(i, arr.shape)
                orig = arr[pos]
                arr[pos] = orig + h
                up, on_up = loss_from(layer)
                arr[pos] = orig - h
                down, on_down = loss_from(layer)
                arr[pos] = orig
                numeric[k] = float((up - down) / np.longdouble(2 * h))
                at_kink[k] = not np.array_equal(on_up, on_down)
            analytic = analytic_all.reshape(-1)[flat]
            scale = np.maximum(np.maximum(np.abs(analytic), np.abs(numeric)), REL_ERROR_FLOOR)
            rel = np.abs(analytic - numeric) / scale
            index = np.stack(np.unravel_index(flat, arr.shape), axis=1)
            checks.append(ParamCheck(layer, kind, index, analytic, numeric, rel, at_kink))
    return GradientCheck(tuple(checks))
