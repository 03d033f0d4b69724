"""Optimisers, number for number with torch.optim: SGD, SGD with momentum, Adam.

Regularisation applies to weights only (biases are left alone, as in the Playground): l1 adds
``l1 * sign(w)`` to the gradient first, then l2 adds ``l2 * w`` (torch's ``weight_decay``),
in that order, as the torch backend does it. Left out: Nesterov, dampening, AdamW, schedules.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from explorer.engine.errors import NonFiniteError
from explorer.engine.spec import Params, TrainConfig
from explorer.engine.traces import Gradients
from explorer.engine.types import Array


@dataclass(frozen=True, eq=False)
class OptState:
    """``step``: updates taken. ``velocity`` (momentum) or ``m``/``v`` (Adam's moment
    estimates), each shaped like the parameters; None where the optimizer keeps none."""

    step: int = 0
    velocity: Params | None = None
    m: Params | None = None
    v: Params | None = None


def init_opt_state(params: Params, config: TrainConfig) -> OptState:
    """The optimizer's state before the first update: zero buffers of the right shapes."""

    def zeros() -> Params:
        return Params(
            tuple(np.zeros_like(w) for w in params.weights),
            tuple(np.zeros_like(b) for b in params.biases),
        )

    if config.optimizer == "momentum":
        return OptState(velocity=zeros())
    if config.optimizer == "adam":
        return OptState(m=zeros(), v=zeros())
    return OptState()


def fits(state: OptState, config: TrainConfig) -> bool:
    """Whether ``state`` holds exactly the buffers ``config``'s optimizer keeps."""
    held = (state.velocity is not None, state.m is not None, state.v is not None)
    return held == {"momentum": (True, False, False), "adam": (False, True, True)}.get(
        config.optimizer, (False, False, False)
    )


def regularized(w: Array, grad: Array, config: TrainConfig) -> Array:
    """The gradient the optimizer sees for a weight matrix: dL/dW + l1 sign(W) + l2 W."""
    g = grad
    if config.l1:
        g = g + config.l1 * np.sign(w)
    if config.l2:
        g = g + config.l2 * w
    return g


def _new_buffers(
    params: Params, grads: Gradients, state: OptState, config: TrainConfig
) -> tuple[tuple[Array, ...], OptState]:
    """Each parameter's step direction (before the learning rate) and the next state."""
    step = state.step + 1
    g = tuple(
        regularized(w, dw, config) for w, dw in zip(params.weights, grads.weight_der, strict=True)
    ) + tuple(grads.bias_der)
    n = len(params.weights)

    def split(arrays: tuple[Array, ...]) -> Params:
        return Params(arrays[:n], arrays[n:])

    def flat(p: Params) -> tuple[Array, ...]:
        return (*p.weights, *p.biases)

    if config.optimizer == "sgd":
        return g, OptState(step)
    if config.optimizer == "momentum":
        assert state.velocity is not None
        # torch: buf = momentum * buf + g (the first step starts from buf = g, the same thing)
        vel = tuple(config.momentum * b + gi for b, gi in zip(flat(state.velocity), g, strict=True))
        return vel, OptState(step, velocity=split(vel))
    assert state.m is not None and state.v is not None
    b1, b2 = config.beta1, config.beta2
    m = tuple(b1 * mi + (1 - b1) * gi for mi, gi in zip(flat(state.m), g, strict=True))
    v = tuple(b2 * vi + (1 - b2) * gi * gi for vi, gi in zip(flat(state.v), g, strict=True))
    # torch: step_size = lr / (1 - b1^t); denom = sqrt(v) / sqrt(1 - b2^t) + eps
    c1 = 1 - b1**step
    c2 = np.sqrt(1 - b2**step)
    direction = tuple(
        (mi / c1) / (np.sqrt(vi) / c2 + config.eps) for mi, vi in zip(m, v, strict=True)
    )
    return direction, OptState(step, m=split(m), v=split(v))


def update(
    params: Params, grads: Gradients, state: OptState, config: TrainConfig
) -> tuple[Params, OptState]:
    """One optimizer step. Returns new parameters and state and mutates nothing; raises
    NonFiniteError (naming the first layer affected) instead of returning NaN or inf."""
    direction, new_state = _new_buffers(params, grads, state, config)
    n = len(params.weights)
    lr = config.learning_rate
    with np.errstate(over="ignore", invalid="ignore"):
        new = [
            p - lr * d for p, d in zip((*params.weights, *params.biases), direction, strict=True)
        ]
    for i, arr in enumerate(new):
        if not np.isfinite(arr).all():
            raise NonFiniteError("update", i % n)
    return Params(tuple(new[:n]), tuple(new[n:])), new_state
