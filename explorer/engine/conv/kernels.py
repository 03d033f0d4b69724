"""The numerical core of a conv block: convolution and 2x2 max-pool, forward and backward.

Arrays are (batch, channels, rows, columns), as torch's. Convolution is im2col by
``sliding_window_view`` (a view of every k x k window) copied once into a (C*k*k, B*Ho*Wo)
matrix, and one matmul; no loop runs over pixels (the pool works on a window's four places
as four strided views, whole-array maxima and comparisons). Stride is 1; like torch's Conv2d
this is cross-correlation (the kernel is not flipped).

  z[b,f,y,x]      = sum_{c,i,j} w[f,c,i,j] * xp[b,c,y+i,x+j] + bias[f]   (xp: x zero-padded)
  dL/dw[f,c,i,j]  = sum_{b,y,x} delta[b,f,y,x] * xp[b,c,y+i,x+j]
  dL/dxp          = delta zero-padded by k-1, correlated with the kernel turned 180 degrees
  pool            = max of each 2x2 window; its gradient flows only to the winner

Max-pool ties go to the first in (row, column) order, as torch's CPU kernel does.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

from explorer.engine.types import Array


def _padded(x: Array, pad: int) -> Array:
    if not pad:
        return x
    return np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))


def _columns(x: Array, k: int, dtype: np.dtype) -> Array:
    """im2col: every k x k window of x (B, C, H, W) as a (C*k*k, B*Ho*Wo) matrix of ``dtype``
    (the matmul's, so a float32 batch is widened in this one copy, not in another before the
    matmul), laid out with the output column innermost so the copy runs over contiguous rows."""
    windows = sliding_window_view(x, (k, k), axis=(2, 3))  # (B, C, Ho, Wo, k, k), a view
    b, c, ho, wo = windows.shape[:4]
    cols = np.empty((c, k, k, b, ho, wo), dtype=dtype)
    np.copyto(cols, windows.transpose(1, 4, 5, 0, 2, 3))
    return cols.reshape(c * k * k, b * ho * wo)


def _maps(flat: Array, batch: int, shape: tuple[int, ...]) -> Array:
    """(F, B*Ho*Wo) matmul output -> (B, F, Ho, Wo) (a view)."""
    return flat.reshape(flat.shape[0], batch, *shape).transpose(1, 0, 2, 3)


def im2col(x: Array, k: int, pad: int, dtype: npt.DTypeLike) -> Array:
    """The (C*k*k, B*Ho*Wo) matrix of every k x k window of x (B, C, H, W) zero-padded by
    ``pad``, in ``dtype``: what ``conv2d`` and ``conv2d_kernel_der`` multiply by, which a
    caller can build once for both."""
    return _columns(_padded(x, pad), k, np.dtype(dtype))


def conv2d(x: Array, w: Array, b: Array, pad: int, cols: Array | None = None) -> Array:
    """z (B, F, Ho, Wo) of input x (B, C, H, W) and kernels w (F, C, k, k); ``cols``: x's
    ``im2col`` in the result's dtype, if the caller has it."""
    k = w.shape[-1]
    if cols is None:
        cols = im2col(x, k, pad, np.result_type(x, w))
    out = (x.shape[2] + 2 * pad - k + 1, x.shape[3] + 2 * pad - k + 1)
    z = w.reshape(len(w), -1) @ cols  # (F, B*Ho*Wo)
    z += b[:, None]
    return _maps(z, len(x), out)


def conv2d_kernel_der(x: Array, delta: Array, k: int, pad: int, cols: Array | None = None) -> Array:
    """dL/dw (F, C, k, k) from the block's input x and delta = dL/dz (B, F, Ho, Wo);
    ``cols``: x's ``im2col`` in delta's dtype, if the caller has it."""
    c = x.shape[1]
    d = delta.transpose(1, 0, 2, 3).reshape(delta.shape[1], -1)  # (F, B*Ho*Wo)
    if cols is None:
        cols = im2col(x, k, pad, np.result_type(x, d))
    return (d @ cols.T).reshape(len(d), c, k, k)


def conv2d_input_der(delta: Array, w: Array, pad: int) -> Array:
    """dL/dx (B, C, H, W) from delta = dL/dz (B, F, Ho, Wo) and kernels w (F, C, k, k)."""
    k = w.shape[-1]
    full = _padded(delta, k - 1)
    out = (full.shape[2] - k + 1, full.shape[3] - k + 1)
    # the kernel turned 180 degrees, channels as rows: (C, F*k*k) against (F, k, k) columns
    flipped = w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3).reshape(w.shape[1], -1)
    dxp = _maps(
        flipped @ _columns(full, k, np.result_type(delta, w)), len(delta), out
    )  # (B, C, Hp, Wp)
    if pad:
        dxp = dxp[:, :, pad:-pad, pad:-pad]
    return dxp


# The four places of a 2x2 window in reading order: (row, column) offsets.
_PLACES = ((0, 0), (0, 1), (1, 0), (1, 1))


def _windows(a: Array, hp: int, wp: int) -> list[Array]:
    """The four places of every 2x2 window of ``a``, each a (B, F, hp, wp) view."""
    return [a[:, :, dy : 2 * hp : 2, dx : 2 * wp : 2] for dy, dx in _PLACES]


def maxpool2x2(a: Array) -> tuple[Array, Array]:
    """(pooled (B, F, Ho//2, Wo//2), argmax): ``argmax`` is the winner's place in its window,
    0..3 in reading order (row 2y + argmax // 2, column 2x + argmax % 2 of ``a``): the first
    place that holds the window's max, so the count of places before it that do not."""
    places = _windows(a, a.shape[2] // 2, a.shape[3] // 2)
    pooled = np.maximum(np.maximum(places[0], places[1]), np.maximum(places[2], places[3]))
    not_yet = places[0] != pooled
    argmax = not_yet.view(np.int8).copy()
    for place in places[1:3]:
        not_yet &= place != pooled
        argmax += not_yet
    return pooled, argmax


def maxpool2x2_der(pooled_der: Array, argmax: Array, a: Array) -> Array:
    """dL/da for the pre-pool maps ``a`` (B, F, Ho, Wo), in a's memory layout: each pooled
    gradient goes to its window's winner, every other entry (and a dropped odd row or
    column) gets 0."""
    out = np.zeros_like(a, dtype=pooled_der.dtype)
    for place, view in enumerate(_windows(out, *pooled_der.shape[2:])):
        np.multiply(pooled_der, argmax == place, out=view)
    return out
