"""Loss and accuracy of a network on a whole set, and its predicted classes.

A multi-unit output predicts the unit with the largest activation; a single unit predicts
class 1 when its activation is above 0.5. Regression has a loss and no accuracy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from explorer.engine.losses import encode_targets
from explorer.engine.phases import error, forward
from explorer.engine.spec import NetworkSpec, Params
from explorer.engine.types import Array

EVAL_CHUNK = 4096  # rows per forward pass: bounds the memory an evaluation takes


@dataclass(frozen=True)
class Evaluation:
    """Mean loss over the set, and the share classified right (None for regression)."""

    loss: float
    accuracy: float | None


def predict_classes(output: Array) -> Array:
    """Class indices from the output layer's activations (B, n_out)."""
    if output.shape[1] == 1:
        return (output[:, 0] > 0.5).astype(np.int64)
    return np.argmax(output, axis=1)


def evaluate(
    spec: NetworkSpec, params: Params, x: Array, y: Array, *, classify: bool
) -> Evaluation:
    """Loss and accuracy of ``params`` on (x, y), with y as the dataset holds it."""
    target = encode_targets(spec, y, params.dtype)
    total, correct = 0.0, 0
    for start in range(0, len(x), EVAL_CHUNK):
        xs = x[start : start + EVAL_CHUNK].astype(params.dtype)
        fwd = forward(spec, params, xs)
        total += error(spec, fwd, target[start : start + EVAL_CHUNK]).loss * len(xs)
        if classify:
            correct += int((predict_classes(fwd.output[-1]) == y[start : start + EVAL_CHUNK]).sum())
    n = len(x)
    return Evaluation(total / n, correct / n if classify else None)
