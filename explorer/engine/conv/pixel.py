"""One output pixel of a conv block, taken apart for the inspector: the window of the block's
input it reads, its receptive field on the image, and the terms of one kernel weight's gradient.

A pixel (y, x) of block ``b``'s conv output z reads rows y .. y+k-1 and columns x .. x+k-1 of
the block's input zero-padded by ``pad`` (kernels.py), so rows y-pad .. y-pad+k-1 of the input
itself. Through an earlier block's 2x2 pool a row r of that block's output came from its conv
rows 2r, 2r+1, and so on down to the image. Left out: drawing any of it (explorer.figures.conv).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from explorer.engine.conv.spec import ConvNetSpec
from explorer.engine.types import Array

Weight = tuple[int, int, int, int]  # (filter, channel, row, column) of a block's kernels


@dataclass(frozen=True)
class Field:
    """Rows ``top`` .. ``bottom`` and columns ``left`` .. ``right`` (inclusive) of the image,
    cut to the image's edges."""

    top: int
    bottom: int
    left: int
    right: int


def receptive_field(spec: ConvNetSpec, block: int, y: int, x: int) -> Field:
    """The image pixels that conv output pixel (y, x) of ``block`` depends on."""
    top, bottom, left, right = y, y, x, x
    for b in reversed(range(block + 1)):
        if b < block and spec.blocks[b].pool:  # this block's output row r: its conv rows 2r, 2r+1
            top, bottom, left, right = 2 * top, 2 * bottom + 1, 2 * left, 2 * right + 1
        k, pad = spec.blocks[b].kernel, spec.blocks[b].pad
        top, left = top - pad, left - pad
        bottom, right = bottom - pad + k - 1, right - pad + k - 1
    h, w = spec.input_shape
    return Field(max(top, 0), min(bottom, h - 1), max(left, 0), min(right, w - 1))


def input_window(spec: ConvNetSpec, block: int, block_input: Array, y: int, x: int) -> Array:
    """The (C, k, k) window of one sample's block input (C, H, W), zeros where the padding is,
    that conv output pixel (y, x) multiplies by each kernel: z = sum(w[f] * window) + bias[f]."""
    k, pad = spec.blocks[block].kernel, spec.blocks[block].pad
    padded = np.pad(block_input, ((0, 0), (pad, pad), (pad, pad)))
    return padded[:, y : y + k, x : x + k]


def kernel_der_terms(
    spec: ConvNetSpec, block: int, block_input: Array, delta: Array, weight: Weight
) -> tuple[Array, Array]:
    """(delta, x), each (B*Ho*Wo,) in (sample, row, column) order, whose products sum to
    dL/dw for ``weight`` = (filter, channel, i, j) of ``block``: the pixel's delta = dL/dz
    (B, F, Ho, Wo) and the input value that weight met there, from ``block_input`` (B, C, H, W).
    """
    f, c, i, j = weight
    pad = spec.blocks[block].pad
    ho, wo = delta.shape[2:]
    padded = np.pad(block_input[:, c], ((0, 0), (pad, pad), (pad, pad)))
    met = padded[:, i : i + ho, j : j + wo]
    return delta[:, f].reshape(-1), met.reshape(-1)
