"""Loss and accuracy of a CNN on a whole set, in chunks that bound the memory it takes."""

from __future__ import annotations

import numpy as np

from explorer.engine.conv.phases import conv_error, forward
from explorer.engine.conv.spec import ConvNetSpec
from explorer.engine.losses import encode_targets
from explorer.engine.metrics import Evaluation
from explorer.engine.spec import Params
from explorer.engine.types import Array

EVAL_CHUNK = 1024  # images per forward pass: a 28x28 chunk's im2col stays under ~30 MB


def evaluate_conv(spec: ConvNetSpec, params: Params, x: Array, y: Array) -> Evaluation:
    """Mean cross-entropy and accuracy of ``params`` on images x (n, H*W), labels y."""
    target = encode_targets(spec.head, y)
    total, correct = 0.0, 0
    for start in range(0, len(x), EVAL_CHUNK):
        xs = x[start : start + EVAL_CHUNK].astype(params.dtype)
        fwd = forward(spec, params, xs)
        t = target[start : start + EVAL_CHUNK]
        total += conv_error(spec, fwd, t).loss * len(xs)
        correct += int((np.argmax(fwd.dense.output[-1], axis=1) == t).sum())
    return Evaluation(total / len(x), correct / len(x))
