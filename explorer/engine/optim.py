"""Optimisers, number for number with torch.optim: SGD, SGD with momentum, Adam.

Each update rule is written once, in ``RULES``, on one array at a time: the traced path
(``update``) runs it on every parameter array, the fast path (``explorer.engine.fast``) on the
flat vector of all of them, with preallocated output arrays (``into``) instead of fresh ones.

Regularisation applies to weights only (biases are left alone, as in the Playground): l1 adds
``l1 * sign(w)`` to the gradient first, then l2 adds ``l2 * w`` (torch's ``weight_decay``),
in that order, as the torch backend does it. Left out: Nesterov, dampening, AdamW, schedules.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from explorer.engine.errors import NonFiniteError
from explorer.engine.spec import Params, TrainConfig
from explorer.engine.traces import Gradients
from explorer.engine.types import Array, OptimizerName

# Where a rule writes: one array per buffer it keeps, then one for the step direction; None
# everywhere for fresh arrays (the traced path), preallocated ones on the fast path. Rules use
# ufuncs with ``out=`` and no in-place operators, so a fresh result keeps numpy's promotion.
Into = tuple[Array | None, ...]


@dataclass(frozen=True, eq=False)
class OptState:
    """``step``: updates taken. ``velocity`` (momentum) or ``m``/``v`` (Adam's moment
    estimates), each shaped like the parameters; None where the optimizer keeps none."""

    step: int = 0
    velocity: Params | None = None
    m: Params | None = None
    v: Params | None = None


@dataclass(frozen=True)
class Rule:
    """One optimizer: the ``OptState`` buffers it keeps, and ``direction(config, t, grad,
    held, into)``, which turns the (regularised) gradient of update number ``t`` (from 1) and
    the buffers' current values into the step direction (before the learning rate) and the
    buffers' new values, writing into ``into`` where it holds arrays."""

    buffers: tuple[str, ...]
    direction: Callable[
        [TrainConfig, int, Array, tuple[Array, ...], Into], tuple[Array, tuple[Array, ...]]
    ]


def _sgd(
    config: TrainConfig, t: int, grad: Array, held: tuple[Array, ...], into: Into
) -> tuple[Array, tuple[Array, ...]]:
    return grad, ()


def _momentum(
    config: TrainConfig, t: int, grad: Array, held: tuple[Array, ...], into: Into
) -> tuple[Array, tuple[Array, ...]]:
    # torch: buf = momentum * buf + g (the first step starts from buf = g, the same thing)
    (velocity,) = held
    new = np.add(np.multiply(velocity, config.momentum, out=into[0]), grad, out=into[0])
    return new, (new,)


def _adam(
    config: TrainConfig, t: int, grad: Array, held: tuple[Array, ...], into: Into
) -> tuple[Array, tuple[Array, ...]]:
    b1, b2 = config.beta1, config.beta2
    m, v = held
    new_m = np.add(np.multiply(m, b1, out=into[0]), (1 - b1) * grad, out=into[0])
    new_v = np.add(np.multiply(v, b2, out=into[1]), (1 - b2) * grad * grad, out=into[1])
    # torch: step_size = lr / (1 - b1^t); denom = sqrt(v) / sqrt(1 - b2^t) + eps
    out = into[2]
    s = np.sqrt(new_v, out=out)
    s = np.divide(s, np.sqrt(1 - b2**t), out=out)
    s = np.add(s, config.eps, out=out)
    return np.divide(new_m / (1 - b1**t), s, out=out), (new_m, new_v)


RULES: dict[OptimizerName, Rule] = {
    "sgd": Rule((), _sgd),
    "momentum": Rule(("velocity",), _momentum),
    "adam": Rule(("m", "v"), _adam),
}


def init_opt_state(params: Params, config: TrainConfig) -> OptState:
    """The optimizer's state before the first update: zero buffers of the right shapes."""

    def zeros() -> Params:
        return Params(
            tuple(np.zeros_like(w) for w in params.weights),
            tuple(np.zeros_like(b) for b in params.biases),
        )

    return OptState(0, **{name: zeros() for name in RULES[config.optimizer].buffers})


def fits(state: OptState, config: TrainConfig) -> bool:
    """Whether ``state`` holds exactly the buffers ``config``'s optimizer keeps."""
    held = tuple(name for name in ("velocity", "m", "v") if getattr(state, name) is not None)
    return held == RULES[config.optimizer].buffers


def regularized(w: Array, grad: Array, config: TrainConfig, out: Array | None = None) -> Array:
    """The gradient the optimizer sees for weights ``w``: dL/dW + l1 sign(W) + l2 W (into
    ``out`` where given, which may be ``grad`` itself)."""
    g = grad
    if config.l1:
        g = np.add(g, config.l1 * np.sign(w), out=out)
    if config.l2:
        g = np.add(g, config.l2 * w, out=out)
    return g


def stepped(
    params: Array, direction: Array, config: TrainConfig, out: Array | None = None
) -> Array:
    """The parameters after a step along ``direction``: params - lr * direction."""
    return np.subtract(params, np.multiply(direction, config.learning_rate, out=out), out=out)


def update(
    params: Params, grads: Gradients, opt_state: OptState, config: TrainConfig
) -> tuple[Params, OptState]:
    """One optimizer step. Returns new parameters and state and mutates nothing; raises
    NonFiniteError (naming the first layer affected) instead of returning NaN or inf."""
    rule = RULES[config.optimizer]
    t = opt_state.step + 1
    n = len(params.weights)
    arrays = (*params.weights, *params.biases)
    grad = tuple(
        regularized(w, dw, config) for w, dw in zip(params.weights, grads.weight_der, strict=True)
    ) + tuple(grads.bias_der)
    held = [_arrays(getattr(opt_state, name)) for name in rule.buffers]
    fresh: Into = (None,) * (len(rule.buffers) + 1)
    directions, kept = [], []
    for i, g in enumerate(grad):
        d, new = rule.direction(config, t, g, tuple(h[i] for h in held), fresh)
        directions.append(d)
        kept.append(new)
    with np.errstate(over="ignore", invalid="ignore"):
        new_params = [stepped(p, d, config) for p, d in zip(arrays, directions, strict=True)]
    for i, arr in enumerate(new_params):
        if not np.isfinite(arr).all():
            raise NonFiniteError("update", i % n)
    buffers = {
        name: Params(tuple(b[k] for b in kept[:n]), tuple(b[k] for b in kept[n:]))
        for k, name in enumerate(rule.buffers)
    }
    return Params(tuple(new_params[:n]), tuple(new_params[n:])), OptState(t, **buffers)


def _arrays(p: Params | None) -> tuple[Array, ...]:
    assert p is not None, "the optimizer state lacks a buffer its rule keeps"
    return (*p.weights, *p.biases)
