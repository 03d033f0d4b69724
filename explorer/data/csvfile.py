"""CSV image sets in the common Kaggle MNIST layout: one image per row, the class label
first, then one value per pixel, with an optional header row (``label,pixel0,...``).

The size is checked before anything is parsed (rows × values per row, at most MAX_VALUES),
then values are parsed with NumPy a few megabytes of text at a time straight into the
float32 table that is kept: parsing the whole file at once held the text three times and
8 bytes per value, over five times the table. 60,000 MNIST rows take about a second,
against several for ``np.loadtxt``; a piece that fails is scanned again, only then, to
name the line and column at fault. No
quoting or other delimiters. Files without labels (such as Kaggle's unlabelled test.csv)
cannot be trained on and are refused, from a header that names the first column a pixel or
from a first column that cannot be labels (see ``_check_label_column``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TypeAlias

import numpy as np
import numpy.typing as npt

from explorer.data.dataset import (
    DIGIT_NAMES,
    DataError,
    Dataset,
    Inputs,
    class_labels,
    image_shape,
    pixel_scale,
    stratified_split,
)
from explorer.data.source import MAX_VALUES, Source, describe, read_source

# Used when there is no test file: a fifth of every class for testing, always the same.
TEST_FRACTION = 0.2
SPLIT_SEED = 0
# Over more rows than this, a first column with one class only, or with more values than
# there are classes, is a pixel: the file has no label column.
LABEL_CHECK_ROWS = 10
# Text parsed at once: bounds the temporary int64 or float64 values (twice the float32
# kept) and the per-line work to a few megabytes, however wide or long the file is.
CHUNK_BYTES = 4 * 1024 * 1024
_BOM = b"\xef\xbb\xbf"
# Header names of a first column that holds pixels: Kaggle's "pixel0", or "1x1" as in
# the widely copied mnist_train.csv ("label,1x1,1x2,...").
_PIXEL_NAME = re.compile(rb"pixel.*|\d+x\d+")
Values: TypeAlias = npt.NDArray[np.int64] | npt.NDArray[np.float64]


def load_csv(
    train: Source,
    test: Source | None = None,
    *,
    name: str = "CSV dataset",
    class_names: Sequence[str] = DIGIT_NAMES,
    provenance: str | None = None,
) -> Dataset:
    """A Dataset from a labelled training CSV and, optionally, a labelled test CSV; without
    one, a fixed stratified fifth of the training rows is held out for testing."""
    train_label = describe(train, "training CSV")
    x_train, y_train = _parse(train, train_label, len(class_names))
    if test is None:
        train_idx, test_idx = stratified_split(y_train, TEST_FRACTION, SPLIT_SEED)
        x_train, y_train, x_test, y_test = (
            x_train[train_idx],
            y_train[train_idx],
            x_train[test_idx],
            y_train[test_idx],
        )
        origin = f"A {train_label}, split with {TEST_FRACTION:.0%} of each class for testing."
    else:
        test_label = describe(test, "test CSV")
        x_test, y_test = _parse(test, test_label, len(class_names))
        if x_test.shape[1] != x_train.shape[1]:
            raise DataError(
                f"The training CSV has {x_train.shape[1]:,} pixels per row but the test CSV "
                f"has {x_test.shape[1]:,}; they must match."
            )
        origin = f"A {train_label} and a {test_label}."
    return Dataset(
        name=name,
        x_train=x_train,
        y_train=y_train,
        x_test=x_test,
        y_test=y_test,
        input_shape=image_shape(x_train.shape[1]),
        class_names=tuple(class_names),
        task="classification",
        provenance=provenance or origin,
    )


@dataclass
class _Table:
    """The file's values as its pieces are parsed: pixels straight into the float32 table
    that is kept, labels as parsed, and the range and type the pixel scale depends on."""

    pixels: Inputs
    labels: list[Values] = field(default_factory=list)
    rows: int = 0
    low: float = math.inf
    high: float = -math.inf
    floats: bool = False

    def add(self, values: Values) -> None:
        pixels = values[:, 1:]
        self.pixels[self.rows : self.rows + len(values)] = pixels
        self.labels.append(values[:, 0].copy())  # a copy, so the piece can be freed
        self.rows += len(values)
        self.low = min(self.low, float(pixels.min()))
        self.high = max(self.high, float(pixels.max()))
        self.floats |= values.dtype.kind == "f"


def _parse(source: Source, role: str, n_classes: int) -> tuple[Inputs, npt.NDArray[np.int64]]:
    """(pixels in 0-1, labels) of one CSV file; ``role`` names it in messages."""
    what = f"The {role}"
    data = read_source(source, what)
    start, end, first_line = _body(data, what)
    width = data.count(b",", start, _line_end(data, start, end)) + 1
    if width < 2:
        raise DataError(f"{what}: each row needs a label and then the pixel values.")
    n_rows = data.count(b"\n", start, end) + 1
    if n_rows * width > MAX_VALUES:
        raise DataError(
            f"{what} is too big to load: {n_rows:,} rows of {width:,} values (as in its first "
            f"row) make {n_rows * width:,} values, more than the {MAX_VALUES:,} the app loads."
        )
    table = _Table(np.empty((n_rows, width - 1), dtype=np.float32))
    for piece_start, piece_end in _pieces(data, start, end):
        piece = data[piece_start:piece_end]
        table.add(_parse_piece(piece, first_line + table.rows, width, first_line, what))
    labels = class_labels(np.concatenate(table.labels), f"The labels (first column) of the {role}")
    table.pixels /= np.float32(pixel_scale(table.low, table.high, floats=table.floats, what=what))
    _check_label_column(labels, n_classes, what)
    return table.pixels, labels


def _body(data: bytes, what: str) -> tuple[int, int, int]:
    """(start, end, number of the first line) of the rows of data: after a byte-order mark
    and a header row, before trailing blank space. Refuses a header that names the first
    column a pixel (Kaggle's test.csv), and a file with no rows."""
    start = len(_BOM) if data.startswith(_BOM) else 0
    end = _content_end(data)
    first_line = 1
    first_cell = data[start : _line_end(data, start, end)].split(b",", 1)[0].strip().lower()
    if not _is_number(first_cell):
        if _PIXEL_NAME.fullmatch(first_cell):
            raise DataError(
                f"{what} has no label column: its first column is "
                f"'{first_cell.decode(errors='replace')}', not the label."
            )
        start, first_line = _line_end(data, start, end) + 1, 2
    if start >= end or not data[start : _line_end(data, start, end)].strip():
        raise DataError(f"{what} has no rows of data.")
    return start, end, first_line


def _content_end(data: bytes) -> int:
    """Where ``data.rstrip()`` would end, found without copying the whole file."""
    end = len(data)
    while end > 0:
        block = data[max(end - 4096, 0) : end]
        kept = block.rstrip()
        end -= len(block) - len(kept)
        if kept:
            break
    return end


def _line_end(data: bytes, start: int, end: int) -> int:
    newline = data.find(b"\n", start, end)
    return end if newline < 0 else newline


def _pieces(data: bytes, start: int, end: int) -> Iterator[tuple[int, int]]:
    """(start, end) of whole lines of about CHUNK_BYTES each, without their last newline."""
    while start < end:
        stop = _line_end(data, min(start + CHUNK_BYTES, end), end)
        yield start, stop
        start = stop + 1


def _parse_piece(piece: bytes, line: int, width: int, first_line: int, what: str) -> Values:
    """The (rows, width) values of ``piece``, whose first row is line ``line`` of the file."""
    widths = _row_widths(piece)
    uneven = np.flatnonzero(widths != width)
    if uneven.size:
        count = int(widths[uneven[0]])
        raise DataError(
            f"{what}, line {line + uneven[0]}: the row has {count:,} value"
            f"{'s' if count > 1 else ''} but line {first_line} has {width:,}. Every row must "
            "hold the label and then one value per pixel."
        )
    body = piece.replace(b"\n", b",")
    values: Values
    try:
        # Whole numbers are the common case and parse several times faster than floats.
        values = np.fromstring(body, dtype=np.int64, sep=",")
    except ValueError:
        try:
            values = np.fromstring(body, dtype=np.float64, sep=",")
        except ValueError:
            raise _bad_cell(piece.split(b"\n"), line, width, what) from None
    if values.size != len(widths) * width:
        raise _bad_cell(piece.split(b"\n"), line, width, what)
    values = values.reshape(len(widths), width)
    if values.dtype.kind == "f":
        bad_rows = np.flatnonzero(~np.isfinite(values).all(axis=1))
        if bad_rows.size:
            raise DataError(
                f"{what}, line {bad_rows[0] + line}: a value is NaN or infinite; "
                "every value must be a number."
            )
    return values


def _row_widths(piece: bytes) -> npt.NDArray[np.int64]:
    """Values on each line of ``piece`` (its commas plus one), counted by NumPy: a loop over
    the lines in Python took seconds for a file of millions of short rows."""
    codes = np.frombuffer(piece, dtype=np.uint8)
    commas = np.flatnonzero(codes == ord(","))
    line_ends = np.append(np.flatnonzero(codes == ord("\n")), len(codes))
    return np.diff(np.searchsorted(commas, line_ends), prepend=0) + 1


def _check_label_column(labels: npt.NDArray[np.int64], n_classes: int, what: str) -> None:
    """Refuse a first column that cannot be the labels. In a file without a label column
    the first pixel would silently become the class: in MNIST it is 0 in every image, in
    other sets it takes many values. A small file may fairly have one class only."""
    if len(labels) <= LABEL_CHECK_ROWS:
        return
    low, high = int(labels.min()), int(labels.max())
    advice = (
        "Does the file lack a label column? Each row must start with its class "
        f"(0-{n_classes - 1}), then one value per pixel."
    )
    if low == high:
        raise DataError(
            f"{what}: all {len(labels):,} rows have the label {low} (their first column), so "
            f"there is nothing to tell apart. {advice}"
        )
    if low >= 0 and high < n_classes:
        return
    distinct = len(np.unique(labels))  # only for a file that is refused anyway
    if distinct > n_classes:
        raise DataError(
            f"{what}: its first column, the label, holds {distinct:,} different values from "
            f"{low} to {high}, more than the {n_classes} classes, as a pixel would. {advice}"
        )


def _is_number(cell: bytes) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _bad_cell(lines: list[bytes], first_line: int, width: int, what: str) -> DataError:
    """Name the first cell that is not a number: the slow path, only for a failing piece."""
    for number, line in enumerate(lines, start=first_line):
        try:
            if np.fromstring(line, dtype=np.float64, sep=",").size == width:
                continue
        except ValueError:
            pass
        for column, cell in enumerate(line.split(b","), start=1):
            text = cell.decode(errors="replace").strip()
            if not text:
                return DataError(f"{what}, line {number}, column {column}: the value is empty.")
            if not _is_number(cell):
                return DataError(
                    f"{what}, line {number}, column {column}: {text!r} is not a number."
                )
    return DataError(f"{what} holds values that are not numbers.")
