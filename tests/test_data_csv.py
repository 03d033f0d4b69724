"""CSV files in the Kaggle MNIST layout: header or not, a test file or a held-out split,
gzip, and every bad row or cell named by line and column."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from explorer.data import DataError, load_csv

HEADER = "label," + ",".join(f"pixel{i}" for i in range(4))


def csv_text(rows: list[list[object]], header: str | None = HEADER) -> bytes:
    lines = ([header] if header else []) + [",".join(map(str, row)) for row in rows]
    return ("\n".join(lines) + "\n").encode()


def rows(n: int, *, seed: int = 0) -> list[list[object]]:
    rng = np.random.default_rng(seed)
    return [[i % 3, *rng.integers(0, 256, 4).tolist()] for i in range(n)]


def test_train_and_test_files_with_header(tmp_path: Path) -> None:
    train, test = tmp_path / "mnist_train.csv", tmp_path / "mnist_test.csv"
    train.write_bytes(csv_text(rows(9)))
    test.write_bytes(csv_text(rows(6, seed=1)))
    data = load_csv(train, test, class_names=["a", "b", "c"])
    assert (data.x_train.shape, data.x_test.shape) == ((9, 4), (6, 4))
    assert data.input_shape == (2, 2)
    np.testing.assert_allclose(data.x_train[0] * 255, rows(9)[0][1:], atol=1e-4)
    np.testing.assert_array_equal(data.y_train, [i % 3 for i in range(9)])
    assert "mnist_train.csv" in data.provenance and "mnist_test.csv" in data.provenance


def test_no_header_crlf_bom_and_gzip_from_an_upload() -> None:
    text = b"\xef\xbb\xbf" + csv_text(rows(30), header=None).replace(b"\n", b"\r\n")
    data = load_csv(gzip.compress(text))
    assert len(data.x_train) + len(data.x_test) == 30
    # Without a test file, a fixed fifth of each class is held out.
    assert np.bincount(data.y_test).tolist() == [2, 2, 2]


def test_float_pixels_in_unit_range_are_kept() -> None:
    data = load_csv(b"1,0.5,0.25\n0,0,1\n1,1,0\n0,0.5,0.5\n1,0,0\n", class_names=["a", "b"])
    assert sorted(np.concatenate([data.x_train, data.x_test])[:, 0].tolist()) == [0, 0, 0.5, 0.5, 1]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (HEADER.encode() + b"\n", "has no rows of data"),
        (b"3\n4\n", "needs a label and then the pixel values"),
        (
            csv_text([[1, 2, 3, 4, 5], [1, 2, 3, 4]]),
            "line 3: the row has 4 values but line 2 has 5",
        ),
        (
            csv_text([[1, 2, 3, 4, 5], [1, 2, "abc", 4, 5]]),
            "line 3, column 3: 'abc' is not a number",
        ),
        (csv_text([[1, 2, 3, 4, 5], [1, 2, "", 4, 5]]), "line 3, column 3: the value is empty"),
        (csv_text([[1, 2, 3, 4, 5], [1, "nan", 3, 4, 5]]), "line 3: a value is NaN"),
        (csv_text([[1, 2, 3, 4, 5], [1, 2, 3, 4, 300]]), "pixel values run from 2 to 300"),
        (csv_text([[1.5, 2, 3, 4, 5], [1, 2, 3, 4, 5]]), "whole numbers, but label 1 is 1.5"),
        (csv_text([[1, 2, 3, 4, 5], [12, 2, 3, 4, 5]]), "Label 12 of .* outside the classes 0-9"),
        (b"pixel0,pixel1\n0,0\n", "has no label column"),
    ],
)
def test_bad_csv_files_are_rejected(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "train.csv"
    path.write_bytes(content)
    with pytest.raises(DataError, match=message):
        load_csv(path, path)


def test_a_failed_load_leaves_the_current_dataset_as_it_was() -> None:
    current = load_csv(csv_text(rows(10)))
    before = current.x_train.copy()
    with pytest.raises(DataError):
        load_csv(csv_text([[1, 2, 3, 4, 5], [1, 2, 3]]))
    np.testing.assert_array_equal(current.x_train, before)
    assert not current.x_train.flags.writeable


def test_train_and_test_widths_must_match() -> None:
    with pytest.raises(DataError, match="4 pixels per row but the test CSV has 3"):
        load_csv(csv_text(rows(6)), b"1,2,3,4\n")
