"""IDX files: raw and gzip (told apart by content), both naming styles, folders and uploads,
real Fashion-MNIST files when Debian's package is installed, and every kind of bad file."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest

from explorer.data import (
    FASHION_MNIST_CLASSES,
    FASHION_MNIST_DIR,
    DataError,
    encode_idx,
    load_fashion_mnist,
    load_idx_files,
    load_idx_folder,
    parse_idx,
)
from explorer.data import idx as idx_module
from explorer.data import source as source_module

MNIST_NAMES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
DOTTED_NAMES = {role: name.replace("-idx", ".idx") for role, name in MNIST_NAMES.items()}


def small_set(n_train: int = 12, n_test: int = 5, side: int = 28) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {
        "train_images": rng.integers(0, 256, (n_train, side, side), dtype=np.uint8),
        "train_labels": (np.arange(n_train) % 10).astype(np.uint8),
        "test_images": rng.integers(0, 256, (n_test, side, side), dtype=np.uint8),
        "test_labels": (np.arange(n_test) % 10).astype(np.uint8),
    }


def idx_files(
    arrays: dict[str, np.ndarray], names: dict[str, str] = MNIST_NAMES
) -> dict[str, bytes]:
    return {names[role]: encode_idx(array) for role, array in arrays.items()}


def write(folder: Path, files: dict[str, bytes]) -> Path:
    for name, content in files.items():
        (folder / name).write_bytes(content)
    return folder


def test_round_trip_of_a_folder(tmp_path: Path) -> None:
    arrays = small_set()
    data = load_idx_folder(write(tmp_path, idx_files(arrays)))
    assert data.input_shape == (28, 28) and data.class_names == tuple("0123456789")
    np.testing.assert_allclose(
        data.x_train * 255, arrays["train_images"].reshape(12, -1), atol=1e-4
    )
    np.testing.assert_array_equal(data.y_test, arrays["test_labels"])
    assert data.y_train.dtype == np.int64


def test_dotted_names_gzip_and_prefixes_work_from_uploads() -> None:
    arrays = small_set()
    names = {role: "emnist-digits-" + name + ".gz" for role, name in DOTTED_NAMES.items()}
    files = {name: gzip.compress(content) for name, content in idx_files(arrays, names).items()}
    files["README.txt"] = b"not an IDX file, and ignored"
    data = load_idx_files(files)
    np.testing.assert_array_equal(data.y_train, arrays["train_labels"])


def test_gzip_is_detected_by_content_not_by_name(tmp_path: Path) -> None:
    array = small_set()["train_labels"]
    raw_named_gz = tmp_path / "train-labels-idx1-ubyte.gz"
    raw_named_gz.write_bytes(encode_idx(array))
    gzipped_named_raw = tmp_path / "t10k-labels-idx1-ubyte"
    gzipped_named_raw.write_bytes(gzip.compress(encode_idx(array)))
    np.testing.assert_array_equal(parse_idx(raw_named_gz), array)
    np.testing.assert_array_equal(parse_idx(gzipped_named_raw), array)


def test_non_square_images_keep_their_shape() -> None:
    arrays = small_set()
    arrays["train_images"] = np.zeros((12, 20, 30), np.uint8)
    arrays["test_images"] = np.zeros((5, 20, 30), np.uint8)
    assert load_idx_files(idx_files(arrays)).input_shape == (20, 30)


def test_custom_class_names_set_the_label_range() -> None:
    arrays = small_set()
    arrays["train_labels"][0] = 12
    with pytest.raises(
        DataError, match=r"Label 12 of training example 1 is outside the classes 0-9"
    ):
        load_idx_files(idx_files(arrays))
    data = load_idx_files(idx_files(arrays), class_names=[chr(65 + i) for i in range(26)])
    assert data.n_classes == 26


# Each bad file, built by hand, with the words a student should see.
HEADER_3D = struct.pack(">BBBB3I", 0, 0, 8, 3, 2, 28, 28)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (b"\x00\x00\x08", "not an IDX file"),
        (b"PK\x03\x04" + bytes(100), "not an IDX file.*starts with 50 4b 03 04"),
        (b"\x00\x00\x08\x00" + bytes(8), "not an IDX file"),
        (struct.pack(">BBBBI", 0, 0, 0x0D, 1, 2) + bytes(8), "type 0x0d; only unsigned bytes"),
        (struct.pack(">BBBB2I", 0, 0, 8, 3, 2, 28), "cut short inside its header: 3 dimensions"),
        (
            HEADER_3D + bytes(2 * 784 - 1),
            "1,568 bytes of data, but the file holds 1,567.*truncated",
        ),
        (HEADER_3D + bytes(2 * 784 + 3), "holds 1,571; it has extra bytes"),
        (gzip.compress(HEADER_3D + bytes(2 * 784), mtime=0)[:-12], "truncated gzip"),
        (
            gzip.compress(HEADER_3D + bytes(2 * 784), mtime=0) + b"junk",
            "extra bytes after its gzip",
        ),
        (b"\x1f\x8b" + bytes(30), "damaged gzip"),
    ],
)
def test_bad_idx_files_are_rejected(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(content)
    with pytest.raises(DataError, match=message):
        parse_idx(path)


def test_gzip_bomb_stops_at_the_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(source_module, "MAX_BYTES", 1024 * 1024)
    # A header within MAX_VALUES that claims more than MAX_BYTES: only the byte cap stops it.
    header = struct.pack(">BBBB3I", 0, 0, 8, 3, 16, 1024, 1024)
    bomb = gzip.compress(header + bytes(16 * 1024 * 1024))
    assert len(bomb) < 100_000
    with pytest.raises(DataError, match="expands to more than 1 MB"):
        parse_idx(bomb)


def test_oversized_raw_file_is_refused_before_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(source_module, "MAX_BYTES", 1024 * 1024)
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(HEADER_3D + bytes(1024 * 1024))
    with pytest.raises(DataError, match="larger than 1 MB"):
        parse_idx(path)


def idx_header(*shape: int) -> bytes:
    return struct.pack(f">BBBB{len(shape)}I", 0, 0, 8, len(shape), *shape)


@pytest.mark.parametrize("ndim", [4, 64, 65, 255])
def test_more_than_three_dimensions_are_refused(ndim: int) -> None:
    # Sizes of 1 make the data one byte long, so only the rank is wrong; over 64
    # dimensions NumPy's reshape raised its own ValueError.
    with pytest.raises(DataError, match=f"has {ndim} dimensions, but IDX image sets have 1"):
        parse_idx(idx_header(*[1] * ndim) + b"\x07")


@pytest.mark.parametrize("shape", [(5,), (2, 3), (2, 3, 4)])
def test_one_to_three_dimensions_are_read(shape: tuple[int, ...]) -> None:
    array = np.arange(np.prod(shape), dtype=np.uint8).reshape(shape)
    np.testing.assert_array_equal(parse_idx(encode_idx(array)), array)
    np.testing.assert_array_equal(parse_idx(gzip.compress(encode_idx(array))), array)


@pytest.mark.parametrize("shape", [(0, 2**32 - 1, 2**32 - 1), (1, 0, 2**32 - 1)])
def test_an_empty_array_with_huge_other_sizes_is_refused(shape: tuple[int, ...]) -> None:
    # NumPy could not shape (0, 2**32 - 1, 2**32 - 1) and raised a ValueError of its own.
    with pytest.raises(DataError, match="impossible header: it announces"):
        parse_idx(idx_header(*shape))


def test_more_values_than_max_values_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(idx_module, "MAX_VALUES", 1000)
    content = HEADER_3D + bytes(2 * 784)
    for data in (content, gzip.compress(content)):
        with pytest.raises(DataError, match=r"too big to load.*1,568 bytes of data, more than"):
            parse_idx(data)


def test_multi_member_gzip_files_load_as_gzip_reads_them() -> None:
    arrays = small_set()
    files = {}
    for name, content in idx_files(arrays).items():
        cut = len(content) // 3  # inside the header for the labels, past it for the images
        files[name] = gzip.compress(content[:cut]) + gzip.compress(content[cut:]) + bytes(8)
        assert gzip.decompress(files[name]) == content
    data = load_idx_files(files)
    np.testing.assert_array_equal(data.y_train, arrays["train_labels"])
    np.testing.assert_allclose(data.x_test * 255, arrays["test_images"].reshape(5, -1), atol=1e-4)


def test_gzip_longer_than_its_header_is_refused_at_the_announced_size() -> None:
    with pytest.raises(DataError, match="more than the 1,584 bytes its header announces"):
        parse_idx(gzip.compress(HEADER_3D + bytes(2 * 784 + 3)))


def test_swapped_image_and_label_files(tmp_path: Path) -> None:
    arrays = small_set()
    arrays["train_images"], arrays["train_labels"] = arrays["train_labels"], arrays["train_images"]
    with pytest.raises(DataError, match=r"should hold images.*has 1; were the image and label"):
        load_idx_folder(write(tmp_path, idx_files(arrays)))


def test_a_set_without_images_is_rejected() -> None:
    arrays = small_set()
    arrays["test_images"] = np.zeros((0, 28, 28), np.uint8)
    arrays["test_labels"] = np.zeros(0, np.uint8)
    with pytest.raises(DataError, match="t10k-images-idx3-ubyte holds no images"):
        load_idx_files(idx_files(arrays))


def test_image_and_label_counts_must_match() -> None:
    arrays = small_set()
    arrays["test_labels"] = arrays["test_labels"][:4]
    with pytest.raises(DataError, match="holds 5 images but t10k-labels-idx1-ubyte holds 4"):
        load_idx_files(idx_files(arrays))


def test_train_and_test_image_sizes_must_match() -> None:
    arrays = small_set()
    arrays["test_images"] = np.zeros((5, 32, 32), np.uint8)
    with pytest.raises(DataError, match="training images are 28×28 pixels but the test images"):
        load_idx_files(idx_files(arrays))


def test_missing_and_duplicate_files_are_named(tmp_path: Path) -> None:
    files = idx_files(small_set())
    del files["t10k-labels-idx1-ubyte"]
    with pytest.raises(DataError, match=r"test labels file is missing.*t10k-labels-idx1-ubyte"):
        load_idx_files(files)
    files = idx_files(small_set())
    files["train-images.idx3-ubyte"] = files["train-images-idx3-ubyte"]
    with pytest.raises(DataError, match="Several files look like the training images"):
        load_idx_files(files)
    with pytest.raises(DataError, match="no folder"):
        load_idx_folder(tmp_path / "nowhere")


def test_unreadable_path_is_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no file at"):
        parse_idx(tmp_path / "missing")
    with pytest.raises(DataError, match="is a folder"):
        parse_idx(tmp_path)


@pytest.mark.skipif(
    not FASHION_MNIST_DIR.is_dir(),
    reason="Debian's dataset-fashion-mnist is not installed (.ci/run installs it)",
)
def test_real_fashion_mnist_from_debian() -> None:
    names = sorted(path.name for path in FASHION_MNIST_DIR.iterdir())
    assert "train-images-idx3-ubyte.gz" in names
    data = load_fashion_mnist()
    assert (data.x_train.shape, data.x_test.shape) == ((60_000, 784), (10_000, 784))
    assert data.class_names == FASHION_MNIST_CLASSES and data.input_shape == (28, 28)
    assert np.bincount(data.y_train).tolist() == [6000] * 10
    assert np.bincount(data.y_test).tolist() == [1000] * 10
    assert data.x_train.min() == 0 and data.x_train.max() == 1


def test_fashion_mnist_missing_says_how_to_install(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="apt install dataset-fashion-mnist"):
        load_fashion_mnist(tmp_path / "absent")
