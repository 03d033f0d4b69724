"""A hand-drawn digit turned into the network's input, preprocessed the way its dataset was.

Strokes (point lists in canvas pixels) are first rasterised with an anti-aliased round brush
into a grey image in [0, 1]; a grey image from elsewhere can be converted directly.

- MNIST (``to_mnist``), as LeCun, Cortes and Burges describe it: crop to the bounding box of the
  ink, scale its longer side to 20 pixels keeping the aspect ratio (area averaging, which gives
  the grey levels of anti-aliasing), and paste the result into a 28x28 frame so that the
  centre of mass of its pixels falls on pixel (14, 14), shifting by whole pixels.
- scikit-learn's 8x8 digits (``to_digits_8x8``), as the UCI set was made: the ink's bounding
  box fitted into a 32x32 bitmap (aspect kept, centred), then the mean of each 4x4 block. UCI
  counted the on-pixels of a black-and-white bitmap (0-16) and ``load_digits_8x8`` divides by
  16; here a grey pixel counts as the share of it that is ink, so nothing is thresholded.

NumPy only. Left out: deskewing, stroke-width normalisation, and anything about where strokes
come from (``explorer.ui.draw_view`` owns the canvas).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

Image = npt.NDArray[np.float64]
Stroke = npt.ArrayLike  # (n, 2) points (x to the right, y downwards) in canvas pixels

MNIST_SIDE = 28
MNIST_BOX = 20  # the longer side of the ink's box in MNIST
MNIST_CENTRE = 14.0  # where MNIST puts the centre of mass (0-based pixel index, row and column)
UCI_SIDE = 32  # the UCI bitmaps behind scikit-learn's 8x8 digits
UCI_BLOCK = 4
INK = 0.05  # fainter pixels are not ink: they do not stretch the bounding box


class EmptyDrawing(ValueError):
    """There is no ink to convert. The message is meant for the user."""

    def __init__(self) -> None:
        super().__init__("The canvas is empty: draw a digit first.")


# -- strokes -> grey image ----------------------------------------------------------------------
def rasterize(strokes: Sequence[Stroke], *, size: int, width: float) -> Image:
    """Strokes drawn with a round brush ``width`` pixels wide on a ``size`` x ``size`` canvas,
    as grey levels in [0, 1]: each pixel's coverage, anti-aliased over its last half pixel.
    A one-point stroke is a dot; points off the canvas are clipped."""
    image = np.zeros((size, size))
    for stroke in strokes:
        points = np.asarray(stroke, dtype=np.float64).reshape(-1, 2)
        if not np.isfinite(points).all():
            raise ValueError("Stroke points must be finite numbers.")
        if len(points) == 1:
            points = np.repeat(points, 2, axis=0)
        for start, end in itertools.pairwise(points):
            _paint_segment(image, start, end, width / 2)
    return image


def _paint_segment(image: Image, start: Image, end: Image, radius: float) -> None:
    """Max-combine the coverage of one round-capped segment into ``image``, in place."""
    size = image.shape[0]
    lo = np.clip(np.floor(np.minimum(start, end) - radius - 1), 0, size).astype(int)
    hi = np.clip(np.ceil(np.maximum(start, end) + radius + 1), 0, size).astype(int)
    if (lo >= hi).any():
        return  # entirely off the canvas
    # pixel (row r, column c) has its centre at x = c + 0.5, y = r + 0.5
    xs = np.arange(lo[0], hi[0]) + 0.5
    ys = np.arange(lo[1], hi[1]) + 0.5
    px, py = np.meshgrid(xs, ys)
    d = end - start
    length2 = float(d @ d)
    # the nearest point of the segment: start + t (end - start), t clipped to [0, 1]
    t = (
        0.0
        if length2 == 0
        else np.clip(((px - start[0]) * d[0] + (py - start[1]) * d[1]) / length2, 0, 1)
    )
    dist = np.hypot(px - start[0] - t * d[0], py - start[1] - t * d[1])
    cover = np.clip(radius + 0.5 - dist, 0.0, 1.0)
    window = image[lo[1] : hi[1], lo[0] : hi[0]]
    np.maximum(window, cover, out=window)


# -- grey image -> dataset input ---------------------------------------------------------------
def to_mnist(image: npt.ArrayLike) -> Image:
    """A grey image (a pixel is its share of ink: 0 blank, 1 full) as an MNIST digit: (28, 28).

    Raises EmptyDrawing when no pixel is ink. The shift that centres the mass is clipped so that
    no ink leaves the frame: a digit whose centre of mass lies in the outer 30% of its 20-pixel
    box stays as near the centre as the frame allows."""
    crop = _ink_crop(image)
    small = area_resize(crop, _fit(crop.shape, MNIST_BOX))
    frame = np.zeros((MNIST_SIDE, MNIST_SIDE))
    shift = np.rint(MNIST_CENTRE - centre_of_mass(small)).astype(int)
    top, left = np.clip(shift, 0, np.subtract(frame.shape, small.shape))
    frame[top : top + small.shape[0], left : left + small.shape[1]] = small
    return np.clip(frame, 0.0, 1.0)


def to_digits_8x8(image: npt.ArrayLike) -> Image:
    """A grey image as one of scikit-learn's 8x8 digits scaled to [0, 1]: (8, 8).
    Raises EmptyDrawing when no pixel is ink."""
    crop = _ink_crop(image)
    fitted = area_resize(crop, _fit(crop.shape, UCI_SIDE))
    bitmap = np.zeros((UCI_SIDE, UCI_SIDE))
    top, left = np.subtract(bitmap.shape, fitted.shape) // 2
    bitmap[top : top + fitted.shape[0], left : left + fitted.shape[1]] = fitted
    n = UCI_SIDE // UCI_BLOCK
    # the share of ink in each 4x4 block: UCI's count of on-pixels (0..16) over 16
    return np.clip(bitmap.reshape(n, UCI_BLOCK, n, UCI_BLOCK).mean(axis=(1, 3)), 0.0, 1.0)


def _ink_crop(image: npt.ArrayLike) -> Image:
    """The image cut to the bounding box of its ink."""
    grey = np.asarray(image, dtype=np.float64)
    if grey.ndim != 2:
        raise ValueError(f"Expected a 2-D grey image, got shape {grey.shape}.")
    ink = grey > INK
    if not ink.any():
        raise EmptyDrawing()
    rows = np.flatnonzero(ink.any(axis=1))
    cols = np.flatnonzero(ink.any(axis=0))
    return grey[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def _fit(shape: tuple[int, ...], side: int) -> tuple[int, int]:
    """(rows, cols) with the longer side ``side`` and the aspect ratio of ``shape``."""
    h, w = shape
    scale = side / max(h, w)
    return max(1, round(h * scale)), max(1, round(w * scale))


def area_resize(image: Image, shape: tuple[int, int]) -> Image:
    """Resize by area averaging: each output pixel is the mean of the input it covers,
    partly covered input pixels weighted by their overlap."""
    rows = _area_weights(image.shape[0], shape[0])
    cols = _area_weights(image.shape[1], shape[1])
    return rows @ image @ cols.T


def _area_weights(n_in: int, n_out: int) -> Image:
    """(n_out, n_in): row i holds the share of output pixel i that each input pixel covers."""
    step = n_in / n_out
    start = np.arange(n_out)[:, None] * step
    pixel = np.arange(n_in)[None, :]
    overlap = np.minimum(start + step, pixel + 1) - np.maximum(start, pixel)
    return np.clip(overlap, 0.0, None) / step


def centre_of_mass(image: Image) -> Image:
    """(row, column) of the centre of mass, in pixel indices (pixel (0, 0)'s centre is 0, 0)."""
    total = image.sum()
    rows = image.sum(axis=1) @ np.arange(image.shape[0]) / total
    cols = image.sum(axis=0) @ np.arange(image.shape[1]) / total
    return np.array([rows, cols])
