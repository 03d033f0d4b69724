"""CSV files in the Kaggle MNIST layout: header or not, a test file or a held-out split,
gzip, and every bad row or cell named by line and column."""

from __future__ import annotations

import gzip
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from explorer.data import DataError, load_csv
from explorer.data import csvfile as csv_module

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


def mnist_like(n: int, *, header: str | None, labels: bool = True, seed: int = 0) -> bytes:
    """Rows of 28×28 MNIST-like pixels: the border, pixel0 included, is always 0."""
    rng = np.random.default_rng(seed)
    images = np.zeros((n, 28, 28), np.int64)
    images[:, 4:24, 4:24] = rng.integers(0, 256, (n, 20, 20))
    table = images.reshape(n, -1)
    if labels:
        table = np.column_stack([np.arange(n) % 10, table])
    return csv_text(table.tolist(), header=header)


def test_a_kaggle_mnist_csv_with_its_header_loads() -> None:
    header = "label," + ",".join(f"pixel{i}" for i in range(784))
    data = load_csv(mnist_like(50, header=header))
    assert data.input_shape == (28, 28) and data.n_classes == 10
    assert sorted(np.unique(np.concatenate([data.y_train, data.y_test]))) == list(range(10))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        # Kaggle's test.csv without its header: pixel0 is 0 in every image.
        (mnist_like(30, header=None, labels=False), "all 30 rows have the label 0"),
        # The widely copied mnist_test.csv names its pixels 1x1 ... 28x28.
        (
            mnist_like(
                30,
                header=",".join(f"{r}x{c}" for r in range(1, 29) for c in range(1, 29)),
                labels=False,
            ),
            "no label column: its first column is '1x1'",
        ),
        # A first column that takes many values is a pixel, not a class.
        (
            csv_text([[(37 * i) % 256, i % 7, 3] for i in range(40)], header=None),
            "holds 40 different values from 0 to 234, more than the 10 classes, as a pixel",
        ),
    ],
    ids=["first-pixel-0", "1x1-header", "many-values"],
)
def test_files_without_a_label_column_are_refused(content: bytes, message: str) -> None:
    with pytest.raises(DataError, match=message):
        load_csv(content)
    with pytest.raises(DataError, match=message):
        load_csv(csv_text(rows(20)), content)


def test_a_small_file_may_hold_one_class() -> None:
    ten = csv_text([[4, 1, 2, 3, 4]] * 10)
    assert load_csv(ten, ten).n_classes == 10
    with pytest.raises(DataError, match="all 11 rows have the label 4"):
        load_csv(csv_text([[4, 1, 2, 3, 4]] * 11))


def test_more_values_than_max_values_are_refused_before_parsing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(csv_module, "MAX_VALUES", 149)
    content = csv_text(rows(30))  # 30 rows of 5 values
    with pytest.raises(
        DataError, match=r"30 rows of 5 values .* make 150 values, more than the 149"
    ):
        load_csv(content)
    monkeypatch.setattr(csv_module, "MAX_VALUES", 150)
    assert len(load_csv(content).x_train) == 24


def test_parsing_in_pieces_gives_what_one_piece_gives(monkeypatch: pytest.MonkeyPatch) -> None:
    # Whole numbers 0 and 1 in the first rows, a fraction further down: as in one piece, the
    # file is floats in 0-1, so 1 stays 1 rather than becoming 1/255.
    table = [[i % 3, i % 2, 1 - i % 2, 0] for i in range(40)]
    table[35][3] = 0.5
    content = csv_text(table, header="label,a,b,c")
    whole = load_csv(content, content)
    monkeypatch.setattr(csv_module, "CHUNK_BYTES", 16)
    pieces = load_csv(content, content)
    np.testing.assert_array_equal(pieces.x_train, whole.x_train)
    np.testing.assert_array_equal(pieces.y_train, whole.y_train)
    assert pieces.x_train.max() == 1


@pytest.mark.parametrize(
    ("line", "cell", "message"),
    [
        (30, "abc", "line 30, column 3: 'abc' is not a number"),
        (33, "", "line 33, column 3: the value is empty"),
        (41, "nan", "line 41: a value is NaN"),
        (27, "4,5", "line 27: the row has 6 values but line 2 has 5"),
    ],
)
def test_errors_name_their_line_when_parsed_in_pieces(
    monkeypatch: pytest.MonkeyPatch, line: int, cell: str, message: str
) -> None:
    monkeypatch.setattr(csv_module, "CHUNK_BYTES", 40)
    table = rows(50)
    table[line - 2][2] = cell  # line 1 is the header
    with pytest.raises(DataError, match=message):
        load_csv(csv_text(table))


def test_loading_holds_little_more_than_the_table_it_makes() -> None:
    """A whole-file parse held the text three times and an int64 table, over five times the
    float32 table kept; parsed in pieces, the text and the table dominate."""
    content = gzip.compress(mnist_like(100, header=None) * 100, 1)  # 10,000 rows
    tracemalloc.start()
    try:
        data = load_csv(content)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    kept = data.x_train.nbytes + data.x_test.nbytes
    assert peak < 3 * kept, f"peak {peak:,} bytes for {kept:,} kept"
