"""What the network has learned, as numbers for the Training views: every neuron over the input
plane, predictions on a set, the confusion matrix and the mistakes, gradient norms per layer,
dead and saturated units, and histograms.

All of it is computed from the engine's forward and backward passes on the current parameters;
the grid of the input plane goes through ``forward`` as one batch, so every neuron's map comes
from a single vectorised pass. NumPy only: drawing is ``explorer.figures``' job, and nothing
here knows about sessions or pages. Left out: anything over time (the session records that).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from explorer.engine import (
    ACTIVATIONS,
    ForwardTrace,
    Gradients,
    NetworkSpec,
    Params,
    backward,
    error,
    forward,
    predict_classes,
)
from explorer.engine.metrics import EVAL_CHUNK
from explorer.engine.types import Array

GRID = 60  # points per side of the input-plane grid
PLANE_MARGIN = 0.05  # the plane extends this share of the data's span beyond it
SATURATED_DER = 0.01  # f'(z) below this share of its peak passes almost no gradient
SATURATED_SHARE = 0.9  # ... on at least this share of the samples: a saturated unit

Bounds = tuple[float, float, float, float]  # x1 min, x1 max, x2 min, x2 max


@dataclass(frozen=True, eq=False)
class PlaneMaps:
    """The network over a grid of the 2-D input plane.

    ``x1`` (nx,) and ``x2`` (ny,): the grid's coordinates, increasing; ``layers[l]``: the
    activation of every unit of layer l at every grid point, (n_l, ny, nx), the output layer
    last. Row i of a map lies at x2[i], column j at x1[j].
    """

    x1: Array
    x2: Array
    layers: tuple[Array, ...]

    @property
    def output(self) -> Array:
        """The output layer's maps (n_out, ny, nx)."""
        return self.layers[-1]


@dataclass(frozen=True, eq=False)
class UnitHealth:
    """One hidden layer's units: ``dead`` where f'(z) is zero on every sample (no gradient
    ever reaches its weights), ``saturated`` where f'(z) is below SATURATED_DER of its peak on
    at least SATURATED_SHARE of the samples without being dead; each (n_l,) bool."""

    dead: Array
    saturated: Array


@dataclass(frozen=True, eq=False)
class Histogram:
    """``counts`` (bins,) of values falling between consecutive ``edges`` (bins + 1,)."""

    counts: Array
    edges: Array


# -- the input plane -----------------------------------------------------------------------------
def plane_bounds(*points: Array, margin: float = PLANE_MARGIN) -> Bounds:
    """The rectangle holding every row of ``points`` (each (n, 2)), widened by ``margin`` of
    its span on every side (by 1 where all points share a coordinate)."""
    both = np.concatenate([p.reshape(-1, 2) for p in points])
    lo, hi = both.min(axis=0).astype(float), both.max(axis=0).astype(float)
    pad = np.where(hi > lo, (hi - lo) * margin, 1.0)
    lo, hi = lo - pad, hi + pad
    return float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1])


def plane_maps(
    spec: NetworkSpec, params: Params, bounds: Bounds, *, resolution: int = GRID
) -> PlaneMaps:
    """Every unit's activation on a ``resolution`` x ``resolution`` grid over ``bounds``, from
    one forward pass of all grid points at once."""
    if spec.input_size != 2:
        raise ValueError(f"The input plane needs a network with 2 inputs, not {spec.input_size}.")
    x1 = np.linspace(bounds[0], bounds[1], resolution)
    x2 = np.linspace(bounds[2], bounds[3], resolution)
    g1, g2 = np.meshgrid(x1, x2)  # (ny, nx): rows follow x2
    grid = np.column_stack([g1.ravel(), g2.ravel()]).astype(params.dtype)
    trace = forward(spec, params, grid)
    shape = (resolution, resolution)
    layers = tuple(np.moveaxis(a.reshape(*shape, a.shape[1]), -1, 0) for a in trace.output)
    return PlaneMaps(x1, x2, layers)


def decision_map(output: Array, *, classify: bool, discretize: bool = False) -> Array:
    """What the plane shows, from the output maps (n_out, ny, nx): for regression the
    prediction; for two classes the probability of class 1 (the single unit's output, or the
    second softmax unit), or the predicted class if ``discretize``; for more classes always the
    predicted class."""
    if not classify:
        return output[0]
    n_out = output.shape[0]
    if discretize or n_out > 2:
        flat = output.reshape(n_out, -1).T
        return predict_classes(flat).reshape(output.shape[1:]).astype(float)
    return output[-1]


# -- predictions on a set ------------------------------------------------------------------------
def predict(spec: NetworkSpec, params: Params, x: Array) -> Array:
    """The output layer's activations for every row of x (n, n_out), in chunks of EVAL_CHUNK
    rows, in the parameters' dtype."""
    parts = [
        forward(spec, params, x[i : i + EVAL_CHUNK].astype(params.dtype)).output[-1]
        for i in range(0, len(x), EVAL_CHUNK)
    ]
    return np.concatenate(parts)


def wrong(labels: Array, output: Array) -> Array:
    """Which rows the network classifies wrongly (n,) bool, from the outputs (n, n_out)."""
    return predict_classes(output) != labels


def confusion_matrix(labels: Array, predicted: Array, n_classes: int) -> Array:
    """Counts (n_classes, n_classes): row = true class, column = predicted class."""
    flat = np.bincount(labels * n_classes + predicted, minlength=n_classes * n_classes)
    return flat.reshape(n_classes, n_classes)


def class_accuracy(confusion: Array) -> Array:
    """Per true class, the share predicted right (n_classes,); NaN for a class with no
    samples."""
    totals = confusion.sum(axis=1)
    right = np.diag(confusion).astype(float)
    return np.divide(right, totals, out=np.full(len(totals), np.nan), where=totals > 0)


def class_probabilities(output: Array) -> Array:
    """Per row, a probability for each class (n, n_classes): a single unit's output p is
    P(class 1), so it becomes (1 - p, p); several units (softmax) are used as they are."""
    if output.shape[1] == 1:
        return np.column_stack([1 - output[:, 0], output[:, 0]])
    return output


def misclassified(labels: Array, output: Array, *, limit: int = 12) -> Array:
    """Indices of up to ``limit`` wrongly classified rows, the most confident mistakes first
    (by the probability given to the predicted class)."""
    miss = np.flatnonzero(wrong(labels, output))
    confidence = class_probabilities(output[miss]).max(axis=1)
    return miss[np.argsort(-confidence, kind="stable")[:limit]]


# -- gradients and units -------------------------------------------------------------------------
def gradient_norms(grads: Gradients) -> tuple[float, ...]:
    """Per layer, the Euclidean norm of all its parameters' gradients (dL/dW and dL/db)."""
    return tuple(
        float(np.sqrt(np.sum(w * w) + np.sum(b * b)))
        for w, b in zip(grads.weight_der, grads.bias_der, strict=True)
    )


def batch_gradient_norms(
    spec: NetworkSpec, params: Params, x: Array, target: Array
) -> tuple[float, ...]:
    """``gradient_norms`` of the gradient on the batch (x, target as ``encode_targets`` made
    it); raises NonFiniteError where it overflows."""
    fwd = forward(spec, params, x)
    return gradient_norms(backward(spec, params, fwd, error(spec, fwd, target)))


def unit_health(spec: NetworkSpec, fwd: ForwardTrace) -> tuple[UnitHealth, ...]:
    """Dead and saturated units of every hidden layer, over the samples of ``fwd``."""
    health = []
    for layer, z in zip(spec.layers[:-1], fwd.total_input[:-1], strict=True):
        der = np.abs(ACTIVATIONS[layer.activation].der(z))
        low = der < SATURATED_DER * _peak_der(layer.activation)
        dead = (der == 0).all(axis=0)
        saturated = (low.mean(axis=0) >= SATURATED_SHARE) & ~dead
        health.append(UnitHealth(dead, saturated))
    return tuple(health)


def _peak_der(activation: str) -> float:
    """The largest |f'(z)| over the range where activations change: sigmoid 0.25, tanh 1."""
    return float(np.abs(ACTIVATIONS[activation].der(np.linspace(-6.0, 6.0, 1201))).max())


def histogram(values: Array, *, bins: int = 30) -> Histogram:
    """The histogram of all of ``values`` over their own range; a single bin around them where
    that range is too narrow for ``bins`` (a constant layer, or a huge nearly constant one,
    whose bins numpy would refuse as finer than the numbers' own spacing)."""
    flat = values.ravel()
    lo, hi = float(flat.min()), float(flat.max())
    if hi - lo < bins * np.spacing(max(abs(lo), abs(hi))):
        pad = max(0.5, 1e-6 * max(abs(lo), abs(hi)))
        counts, edges = np.histogram(flat, bins=1, range=(lo - pad, hi + pad))
    else:
        counts, edges = np.histogram(flat, bins=bins)
    return Histogram(counts, edges)


def histograms(arrays: Sequence[Array], *, bins: int = 30) -> tuple[Histogram, ...]:
    """``histogram`` of each array (one per layer)."""
    return tuple(histogram(a, bins=bins) for a in arrays)
