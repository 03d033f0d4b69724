"""The one dataset type every loader returns, the error they raise, and the checks and
conversions they share (pixels to 0-1, labels to class indices, a stratified split).

A ``Dataset`` is pure data: no file handles, no Streamlit, nothing mutable (its arrays are
made read-only), so ``st.cache_data`` can pickle it. Reading files lives in the loader
modules; this module never touches the disk.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

import numpy as np
import numpy.typing as npt

Task: TypeAlias = Literal["classification", "regression"]
Inputs: TypeAlias = npt.NDArray[np.float32]
Targets: TypeAlias = npt.NDArray[np.int64] | npt.NDArray[np.float32]

DIGIT_NAMES: tuple[str, ...] = tuple(str(digit) for digit in range(10))


class DataError(ValueError):
    """A dataset could not be made or loaded. The message is written for a student and is
    meant to be shown as it is, without a traceback."""


@dataclass(frozen=True, eq=False)
class Dataset:
    """A train/test pair ready for the network.

    x_train, x_test: float32 (n, n_features); images are flattened row by row with pixels
        in [0, 1], and ``input_shape`` says how to fold them back, e.g. (28, 28).
    y_train, y_test: int64 class indices in [0, n_classes) for classification,
        float32 values for regression; shape (n,).
    class_names: one name per class; empty for regression.
    provenance: where the data came from and under which licence, for the UI to show.
    """

    name: str
    x_train: Inputs
    y_train: Targets
    x_test: Inputs
    y_test: Targets
    input_shape: tuple[int, ...]
    class_names: tuple[str, ...]
    task: Task
    provenance: str

    def __post_init__(self) -> None:
        for part, x, y in (
            ("training", self.x_train, self.y_train),
            ("test", self.x_test, self.y_test),
        ):
            self._check_part(part, x, y)
        for array in (self.x_train, self.y_train, self.x_test, self.y_test):
            array.setflags(write=False)

    def _check_part(self, part: str, x: Inputs, y: Targets) -> None:
        if x.dtype != np.float32 or x.ndim != 2:
            raise DataError(f"The {part} inputs must be a float32 table (examples × values).")
        if len(x) == 0:
            raise DataError(f"The {part} set is empty.")
        if x.shape[1] != self.n_features:
            raise DataError(
                f"The {part} examples have {x.shape[1]:,} values each, but this dataset's "
                f"input shape {_shape_text(self.input_shape)} needs {self.n_features:,}."
            )
        if y.shape != (len(x),):
            raise DataError(
                f"The {part} set has {len(x):,} examples but {len(y):,} labels; "
                "each example needs exactly one label."
            )
        if not np.isfinite(x).all():
            raise DataError(f"The {part} inputs contain NaN or infinite values.")
        if self.task == "regression":
            if self.class_names or y.dtype != np.float32 or not np.isfinite(y).all():
                raise DataError(f"The {part} targets must be finite float32 values.")
            return
        if y.dtype != np.int64:
            raise DataError(f"The {part} labels must be whole numbers (class indices).")
        outside = np.flatnonzero((y < 0) | (y >= self.n_classes))
        if outside.size:
            first = int(outside[0])
            raise DataError(
                f"Label {int(y[first])} of {part} example {first + 1:,} is outside the classes "
                f"0-{self.n_classes - 1} of this dataset ({outside.size:,} labels are)."
            )

    @property
    def n_features(self) -> int:
        """Values per example: the product of ``input_shape`` (784 for 28×28 images)."""
        return math.prod(self.input_shape)

    @property
    def n_classes(self) -> int:
        """Number of classes; 0 for regression."""
        return len(self.class_names)


def check_input_size(dataset: Dataset, n_inputs: int) -> None:
    """Raise DataError unless the network's input layer (``n_inputs`` neurons) takes one
    value per pixel (or feature) of this dataset."""
    if n_inputs != dataset.n_features:
        raise DataError(
            f"{dataset.name} has {_shape_text(dataset.input_shape)} = {dataset.n_features:,} "
            f"values per example, but the network's input layer has {n_inputs:,} neurons. "
            f"Give the network {dataset.n_features:,} inputs or pick another dataset."
        )


def image_shape(n_features: int) -> tuple[int, ...]:
    """How to show ``n_features`` values: a square image when it is a perfect square
    (784 -> (28, 28), 64 -> (8, 8)), a flat vector otherwise."""
    side = math.isqrt(n_features)
    return (side, side) if side > 1 and side * side == n_features else (n_features,)


def pixels_to_unit(x: npt.NDArray[np.generic], what: str) -> Inputs:
    """Pixel intensities -> float32 in [0, 1].

    Integers are 0-255 bytes. Floats already within 0-1 are kept; floats up to 255 are
    taken as bytes too, because a float array of 0-255 values is the usual result of
    converting images without rescaling them.
    """
    if x.dtype.kind not in "uif":
        raise DataError(f"{what}: the pixels must be numbers, not {x.dtype} values.")
    if x.size == 0:
        raise DataError(f"{what}: there are no pixels.")
    if x.dtype.kind == "f" and not np.isfinite(x).all():
        raise DataError(f"{what}: some pixels are NaN or infinite.")
    scale = pixel_scale(float(x.min()), float(x.max()), floats=x.dtype.kind == "f", what=what)
    return np.ascontiguousarray(x, dtype=np.float32) / np.float32(scale)


def pixel_scale(low: float, high: float, *, floats: bool, what: str) -> float:
    """What pixels running from ``low`` to ``high`` are divided by to lie in 0-1, as
    ``pixels_to_unit`` decides it; apart so that a loader filling its array in pieces
    (the CSV reader) decides the same from the whole file's range."""
    if low < 0 or high > 255:
        raise DataError(
            f"{what}: pixel values run from {low:g} to {high:g}, "
            "but pixels must lie in 0-255 (or 0-1)."
        )
    return 255.0 if not floats or high > 1 else 1.0


def class_labels(y: npt.NDArray[np.generic], what: str) -> npt.NDArray[np.int64]:
    """Labels -> int64 class indices; whole-valued floats (as a CSV column gives) are accepted.
    The range is checked by Dataset, which knows how many classes there are."""
    if y.ndim != 1:
        raise DataError(
            f"{what} must be one class number per example (a 1-D array), "
            f"but has shape {y.shape}; one-hot labels are not supported."
        )
    if y.dtype.kind in "ui":
        return y.astype(np.int64)
    if y.dtype.kind != "f":
        raise DataError(f"{what} must be whole numbers, not {y.dtype} values.")
    values = y.astype(np.float64)
    bad = np.flatnonzero(~np.isfinite(values) | (values != np.round(values)))
    if bad.size:
        raise DataError(
            f"{what} must be whole numbers, but label {bad[0] + 1:,} is {values[bad[0]]:g}."
        )
    huge = np.flatnonzero(np.abs(values) >= 2.0**62)  # would not survive the cast to int64
    if huge.size:
        raise DataError(
            f"{what} must be class numbers, but label {huge[0] + 1:,} is {values[huge[0]]:g}."
        )
    return values.astype(np.int64)


def stratified_split(
    labels: npt.NDArray[np.integer[Any]], test_fraction: float, seed: int
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """Indices (train, test), each shuffled, holding ``test_fraction`` of every class in the
    test part (rounded per class), so both parts keep the class balance of the whole."""
    rng = np.random.default_rng(seed)
    nothing = np.empty(0, dtype=np.intp)
    train, test = [nothing], [nothing]
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        n_test = round(len(members) * test_fraction)
        test.append(members[:n_test])
        train.append(members[n_test:])
    train_idx, test_idx = np.concatenate(train), np.concatenate(test)
    if len(train_idx) == 0 or len(test_idx) == 0:
        raise DataError(f"{len(labels)} examples are too few to split into training and test.")
    return rng.permutation(train_idx), rng.permutation(test_idx)


def _shape_text(shape: tuple[int, ...]) -> str:
    return "×".join(str(side) for side in shape)
