"""Loss functions with PyTorch's conventions, each with its derivatives beside its value.

- ``mse``: ``torch.nn.MSELoss()``, the mean over every element of (a - t)^2.
- ``cross_entropy``: ``torch.nn.CrossEntropyLoss()`` on the output layer's total input z (whose
  activation is softmax), targets are class indices, mean over the batch.
- ``binary_cross_entropy``: ``torch.nn.BCEWithLogitsLoss()`` on z (sigmoid output), mean over
  every element.

For the two cross-entropies dL/dz has a short, exact form ((a - t) / N) that we use instead of
going through dL/da, which overflows where a rounds to 0 or 1.
Left out: class weights, label smoothing, reductions other than the mean.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from explorer.engine.activations import sigmoid
from explorer.engine.spec import NetworkSpec, SpecError
from explorer.engine.types import Array, LossName


@dataclass(frozen=True)
class Loss:
    """``value(z, a, t)``: the loss as a 0-d array in z's precision; ``output_der(z, a, t)``:
    dL/da; ``input_der(z, a, t)``: dL/dz, or None where the chain rule through the activation
    is the way (mse)."""

    name: LossName
    value: Callable[[Array, Array, Array], Array]
    output_der: Callable[[Array, Array, Array], Array]
    input_der: Callable[[Array, Array, Array], Array] | None
    formula: str


def _tiny(a: Array) -> float:
    return float(np.finfo(a.dtype).tiny)


def _mse(z: Array, a: Array, t: Array) -> Array:
    return np.mean((a - t) ** 2)


def _mse_output_der(z: Array, a: Array, t: Array) -> Array:
    return 2.0 * (a - t) / a.size


def _one_hot(t: Array, n: int, dtype: npt.DTypeLike) -> Array:
    out = np.zeros((t.shape[0], n), dtype=dtype)
    out[np.arange(t.shape[0]), t] = 1.0
    return out


def _ce(z: Array, a: Array, t: Array) -> Array:
    # log-softmax through log-sum-exp: stable for any z.
    m = np.max(z, axis=1, keepdims=True)
    log_sum = m[:, 0] + np.log(np.sum(np.exp(z - m), axis=1))
    return np.mean(log_sum - z[np.arange(z.shape[0]), t])


def _ce_output_der(z: Array, a: Array, t: Array) -> Array:
    # L = -mean log a_t, so dL/da_t = -1 / (B a_t) and 0 for the other units.
    hot = _one_hot(t, a.shape[1], a.dtype)
    return -hot / (a.shape[0] * np.maximum(a, _tiny(a)))


def _ce_input_der(z: Array, a: Array, t: Array) -> Array:
    return (a - _one_hot(t, a.shape[1], a.dtype)) / a.shape[0]


def _bce(z: Array, a: Array, t: Array) -> Array:
    # -[t log s(z) + (1 - t) log(1 - s(z))] = max(z, 0) - z t + log(1 + e^-|z|)
    return np.mean(np.maximum(z, 0.0) - z * t + np.log1p(np.exp(-np.abs(z))))


def _bce_output_der(z: Array, a: Array, t: Array) -> Array:
    return (a - t) / (np.maximum(a * (1.0 - a), _tiny(a)) * a.size)


def _bce_input_der(z: Array, a: Array, t: Array) -> Array:
    return (sigmoid(z) - t) / a.size


LOSS_FUNCTIONS: dict[LossName, Loss] = {
    "mse": Loss(
        "mse",
        _mse,
        _mse_output_der,
        None,
        r"L = \frac{1}{N}\sum (a - t)^2",
    ),
    "cross_entropy": Loss(
        "cross_entropy",
        _ce,
        _ce_output_der,
        _ce_input_der,
        r"L = -\frac{1}{B}\sum_b \log a_{b,t_b}",
    ),
    "binary_cross_entropy": Loss(
        "binary_cross_entropy",
        _bce,
        _bce_output_der,
        _bce_input_der,
        r"L = -\frac{1}{N}\sum \left[t \log a + (1 - t)\log(1 - a)\right]",
    ),
}


def encode_targets(spec: NetworkSpec, y: Array, dtype: npt.DTypeLike = np.float64) -> Array:
    """Dataset labels -> what ``error`` expects for this spec's loss.

    Cross-entropy takes class indices (B,). mse and binary cross-entropy take (B, n_out):
    class indices are one-hot encoded when there are several output units, and a single
    output unit takes the label (or regression value) itself.
    """
    n_out = spec.layers[-1].size
    y = np.asarray(y)
    if spec.loss == "cross_entropy":
        if not np.issubdtype(y.dtype, np.integer):
            raise SpecError("Cross-entropy needs class labels, not continuous targets.")
        if y.size and (y.min() < 0 or y.max() >= n_out):
            raise SpecError(f"Labels must lie in 0..{n_out - 1} for {n_out} output units.")
        return y.astype(np.int64)
    if y.ndim == 2:
        if y.shape[1] != n_out:
            raise SpecError(f"Targets have {y.shape[1]} columns, the output layer {n_out} units.")
        return y.astype(dtype)
    if n_out > 1:
        if not np.issubdtype(y.dtype, np.integer):
            raise SpecError(f"{n_out} output units need class labels to one-hot encode.")
        if y.size and (y.min() < 0 or y.max() >= n_out):
            raise SpecError(f"Labels must lie in 0..{n_out - 1} for {n_out} output units.")
        return _one_hot(y, n_out, dtype)
    if spec.loss == "binary_cross_entropy" and y.size and not np.isin(y, (0, 1)).all():
        # any other target makes the loss negative or meaningless, silently
        raise SpecError("Binary cross-entropy needs targets of 0 or 1.")
    return y.astype(dtype).reshape(-1, 1)
