"""The fast path: whole mini-batch steps with no tracing, for full training and comparisons.

Same math and the same batch order as the phases (a test holds them equal to 1e-12 in float64),
but nothing is kept per phase, and per-call overhead is what it is built against (at batch 64 a
step of 784-16-16-10 is only ~5 MFLOP, so a numpy call costs as much as a small matmul):

- all parameters live in one flat vector (weights of every layer first, then biases), and so do
  their gradients, so the optimizer updates everything in two to ten whole-vector operations;
- every buffer is allocated once per batch size and written in place with ``out=``;
- a softmax + cross-entropy head has an in-place kernel here, the activations theirs on their
  ``Activation`` entries (``output_into``, ``input_der_in_place``); other losses go through
  their ``Loss`` objects;
- the gradient of the input is never formed.

Non-finite values: each step's loss and its new parameter vector are checked; the new vector is
written beside the old one and only then swapped in, so on overflow the step is replayed through
the traced phases to name the phase and layer, and NonFiniteError is raised with the last finite
parameters kept. float32 by default (the dtype of the given parameters).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from explorer.engine.activations import ACTIVATIONS
from explorer.engine.batches import epoch_batches
from explorer.engine.errors import NonFiniteError
from explorer.engine.losses import LOSS_FUNCTIONS
from explorer.engine.optim import RULES, OptState, regularized, stepped, update
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

    def step() -> None:
        fwd = forward(spec, params, x)
        update(params, backward(spec, params, fwd, error(spec, fwd, target)), opt_state, config)

    return first_nonfinite(step)


def first_nonfinite(replay: Callable[[], object]) -> NonFiniteError:
    """The NonFiniteError ``replay`` (a fast step that overflowed, run again through the traced
    phases) raises, naming the phase and layer; the update's if it raises none."""
    try:
        replay()
    except NonFiniteError as exc:
        return exc
    return NonFiniteError("update", None)


class _Flat:
    """Views of one flat vector as per-layer weight matrices and bias vectors."""

    def __init__(self, sizes: tuple[int, ...], vector: Array) -> None:
        self.vector = vector
        self.weights: list[Array] = []
        self.biases: list[Array] = []
        offset = 0
        for fan_in, fan_out in itertools.pairwise(sizes):
            self.weights.append(vector[offset : offset + fan_in * fan_out].reshape(fan_in, fan_out))
            offset += fan_in * fan_out
        self.n_weights = offset
        for fan_out in sizes[1:]:
            self.biases.append(vector[offset : offset + fan_out])
            offset += fan_out

    @classmethod
    def of(cls, sizes: tuple[int, ...], params: Params) -> _Flat:
        parts = [w.ravel() for w in params.weights] + list(params.biases)
        return cls(sizes, np.concatenate(parts))

    def params(self) -> Params:
        return Params(tuple(w.copy() for w in self.weights), tuple(b.copy() for b in self.biases))


class _Buffers:
    """Per-layer work arrays for one batch size."""

    def __init__(self, sizes: tuple[int, ...], batch: int, dtype: np.dtype[Any]) -> None:
        self.z = [np.empty((batch, n), dtype) for n in sizes[1:]]
        self.a = [np.empty((batch, n), dtype) for n in sizes[1:]]
        self.delta = [np.empty((batch, n), dtype) for n in sizes[1:]]
        self.rows = np.arange(batch)
        # the bias gradient sums delta over the batch; a matmul with ones is 4x cheaper here
        self.ones = np.ones(batch, dtype)


class _Optimizer:
    """The optimizer's rule (``optim.RULES``) on the flat vector, into preallocated buffers.

    ``propose`` writes the new momentum / Adam buffers beside the current ones; ``commit`` swaps
    them in once the step is known to be finite, so a failed step leaves the state as it was.
    """

    def __init__(self, flat: _Flat, opt_state: OptState, config: TrainConfig) -> None:
        self.config = config
        self.rule = RULES[config.optimizer]
        self.step = opt_state.step
        self.n_weights = flat.n_weights
        self.buffers = [_flatten(getattr(opt_state, name)) for name in self.rule.buffers]
        self.pending = [np.empty_like(b) for b in self.buffers]
        self.scratch = np.empty_like(flat.vector)

    def propose(self, params: Array, grad: Array) -> Array:
        """Regularise ``grad`` in place, then return the step direction (before the rate)."""
        w, gw = params[: self.n_weights], grad[: self.n_weights]
        regularized(w, gw, self.config, out=gw)
        into = (*self.pending, self.scratch)
        direction, _ = self.rule.direction(
            self.config, self.step + 1, grad, tuple(self.buffers), into
        )
        return direction

    def commit(self) -> None:
        self.step += 1
        self.buffers, self.pending = self.pending, self.buffers

    def state(self, sizes: tuple[int, ...]) -> OptState:
        kept = {
            name: _Flat(sizes, b.copy()).params()
            for name, b in zip(self.rule.buffers, self.buffers, strict=True)
        }
        return OptState(self.step, **kept)


def _flatten(p: Params | None) -> Array:
    assert p is not None, "the optimizer state lacks a buffer its rule keeps"
    return np.concatenate([w.ravel() for w in p.weights] + list(p.biases))


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
    sizes = spec.sizes
    dtype = params.dtype
    n_layers = len(spec.layers)
    acts = [ACTIVATIONS[layer.activation] for layer in spec.layers]
    loss_fn = LOSS_FUNCTIONS[spec.loss]
    softmax_ce = spec.loss == "cross_entropy"
    cur = _Flat.of(sizes, params)
    nxt = _Flat(sizes, np.empty_like(cur.vector))
    grad = _Flat(sizes, np.empty_like(cur.vector))
    opt = _Optimizer(cur, opt_state, config)
    buffers: dict[int, _Buffers] = {}
    losses = np.empty(len(batches))
    done = 0
    # Overflow is detected by value below, not by warnings.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for i, idx in enumerate(batches):
            n = len(idx)
            buf = buffers.get(n)
            if buf is None:
                buf = buffers[n] = _Buffers(sizes, n, dtype)
            xb = x[idx] if x.dtype == dtype else x[idx].astype(dtype)
            t = target[idx]
            # forward: z = a_prev @ W + b, a = f(z)  (np.dot: less call overhead than matmul)
            a_prev = xb
            for layer in range(n_layers - 1):
                z, a = buf.z[layer], buf.a[layer]
                np.dot(a_prev, cur.weights[layer], out=z)
                z += cur.biases[layer]
                acts[layer].output_into(z, a)
                a_prev = a
            z, a, delta = buf.z[-1], buf.a[-1], buf.delta[-1]
            np.dot(a_prev, cur.weights[-1], out=z)
            z += cur.biases[-1]
            if softmax_ce:
                loss = _softmax_cross_entropy(z, a, delta, t, buf.rows)
            else:
                acts[-1].output_into(z, a)
                loss = float(loss_fn.value(z, a, t))
                if loss_fn.input_der is not None:
                    delta[...] = loss_fn.input_der(z, a, t)
                else:
                    delta[...] = acts[-1].input_der(z, a, loss_fn.output_der(z, a, t))
            # backward, from the output layer down; the input's gradient is never needed
            for layer in reversed(range(n_layers)):
                d = buf.delta[layer]
                a_in = xb if layer == 0 else buf.a[layer - 1]
                np.dot(a_in.T, d, out=grad.weights[layer])
                np.dot(buf.ones, d, out=grad.biases[layer])
                if layer:
                    below = buf.delta[layer - 1]
                    np.dot(d, cur.weights[layer].T, out=below)
                    acts[layer - 1].input_der_in_place(buf.z[layer - 1], buf.a[layer - 1], below)
            direction = opt.propose(cur.vector, grad.vector)
            stepped(cur.vector, direction, config, out=nxt.vector)
            if not (math.isfinite(loss) and math.isfinite(float(nxt.vector.sum()))):
                raise locate_nonfinite(spec, cur.params(), opt.state(sizes), config, xb.copy(), t)
            opt.commit()
            cur, nxt = nxt, cur
            losses[i] = loss
            done += 1
            if on_step is not None and not on_step(i, loss):
                break
    return TrainResult(cur.params(), opt.state(sizes), losses[:done])


def _softmax_cross_entropy(z: Array, a: Array, delta: Array, t: Array, rows: Array) -> float:
    """Softmax into ``a``, delta = (a - onehot) / B into ``delta``; returns the mean loss.

    Softmax is shift-invariant; the per-row max shift (the traced path's) is only needed when
    exp could overflow or underflow, and skipping it saves two of the step's slowest calls.
    L = mean(log sum e^(z - m) + m - z_t).
    """
    n = len(z)
    if float(np.abs(z).max()) < 40.0:
        np.copyto(a, z)
    else:
        np.subtract(z, z.max(axis=1, keepdims=True), out=a)
    a_t = a[rows, t]
    np.exp(a, out=a)
    s = a.sum(axis=1, keepdims=True)
    a /= s
    np.multiply(a, 1.0 / n, out=delta)
    delta[rows, t] -= 1.0 / n
    np.log(s, out=s)
    return float(s.sum() - a_t.sum()) / n


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
