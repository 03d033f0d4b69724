"""Keras-style .npz files: both layouts, safe loading (never pickles), and bad files."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest

from explorer.data import DataError, load_npz
from explorer.data import npz as npz_module


def npz_bytes(**arrays: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


def keras_arrays(n_train: int = 20, n_test: int = 10) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {
        "x_train": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "y_train": (np.arange(n_train) % 10).astype(np.uint8),
        "x_test": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "y_test": (np.arange(n_test) % 10).astype(np.uint8),
    }


def test_keras_layout_from_a_path(tmp_path: Path) -> None:
    arrays = keras_arrays()
    path = tmp_path / "mnist.npz"
    path.write_bytes(npz_bytes(**arrays))
    data = load_npz(path)
    assert data.input_shape == (28, 28) and data.x_train.shape == (20, 784)
    np.testing.assert_allclose(data.x_test * 255, arrays["x_test"].reshape(10, -1), atol=1e-4)
    np.testing.assert_array_equal(data.y_train, arrays["y_train"])
    assert "mnist.npz" in data.provenance


def test_x_y_layout_gets_a_fixed_stratified_split() -> None:
    rng = np.random.default_rng(1)
    x = rng.random((100, 64))  # flat float pixels already in 0-1
    y = np.repeat(np.arange(4), 25)
    first, again = load_npz(npz_bytes(x=x, y=y)), load_npz(npz_bytes(x=x, y=y))
    assert first.input_shape == (8, 8)
    assert np.bincount(first.y_test).tolist() == [5, 5, 5, 5]
    np.testing.assert_array_equal(first.y_train, again.y_train)
    pixels = np.concatenate([first.x_train, first.x_test])
    np.testing.assert_allclose(np.sort(pixels.ravel()), np.sort(x.ravel()), rtol=1e-6)


def test_object_arrays_are_never_unpickled() -> None:
    arrays = keras_arrays()
    arrays["y_train"] = np.array([object()] * 20, dtype=object)
    with pytest.raises(DataError, match="Python objects, which are never loaded"):
        load_npz(npz_bytes(**arrays))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (b"\x93NUMPY" + bytes(50), "does not look like an .npz file"),
        (npz_bytes(**keras_arrays())[:500], "damaged or cut short"),
        (npz_bytes(images=np.zeros((2, 4))), "holds images; expected x_train"),
    ],
)
def test_bad_npz_files_are_rejected(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "data.npz"
    path.write_bytes(content)
    with pytest.raises(DataError, match=message):
        load_npz(path)


def test_bad_arrays_are_rejected() -> None:
    arrays = keras_arrays()
    arrays["y_test"] = arrays["y_test"][:9]
    with pytest.raises(DataError, match="test set has 10 examples but 9 labels"):
        load_npz(npz_bytes(**arrays))
    arrays = keras_arrays()
    arrays["y_train"][3] = 10
    with pytest.raises(DataError, match="Label 10 of training example 4"):
        load_npz(npz_bytes(**arrays))
    arrays = keras_arrays()
    arrays["y_train"] = np.eye(10)[arrays["y_train"]]
    with pytest.raises(DataError, match="one-hot labels are not supported"):
        load_npz(npz_bytes(**arrays))
    arrays = keras_arrays()
    arrays["x_train"] = np.zeros((20, 28, 28, 3), np.uint8)
    arrays["x_test"] = np.zeros((10, 28, 28, 3), np.uint8)
    with pytest.raises(DataError, match=r"must have 2 dimensions.*or 3"):
        load_npz(npz_bytes(**arrays))
    arrays = keras_arrays()
    arrays["x_test"] = np.full((10, 28, 28), np.nan)
    with pytest.raises(DataError, match="NaN"):
        load_npz(npz_bytes(**arrays))
    arrays = keras_arrays()
    arrays["x_test"] = np.zeros((10, 32, 32), np.uint8)
    with pytest.raises(DataError, match="x_test images have"):
        load_npz(npz_bytes(**arrays))


def test_a_scalar_is_not_images() -> None:
    with pytest.raises(DataError, match=r"images must have 2 dimensions.*shape \(\)"):
        load_npz(npz_bytes(x=np.float64(3), y=np.zeros(1, np.uint8)))


def test_empty_arrays_are_rejected() -> None:
    with pytest.raises(DataError, match="0 examples are too few"):
        load_npz(npz_bytes(x=np.zeros((0, 28, 28)), y=np.zeros(0, np.uint8)))
    arrays = keras_arrays()
    arrays["x_train"], arrays["y_train"] = np.zeros((0, 28, 28)), np.zeros(0, np.uint8)
    with pytest.raises(DataError, match="training images: there are no pixels"):
        load_npz(npz_bytes(**arrays))


def test_zip_bomb_is_refused_from_the_directory() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("x.npy", bytes(8 * 1024 * 1024))
    with pytest.raises(DataError, match="expands to 8 MB, more than the 1 MB"):
        npz_module.read_npz(buffer.getvalue(), "The file", max_bytes=1024 * 1024)


def test_an_npz_claiming_more_values_than_the_app_loads_is_refused_before_allocating() -> None:
    # 61M uint8 zeros deflate to under 200 KB and fit the 200 MB byte cap: the value cap
    # refuses them (they would become 244 MB of float32).
    buffer = io.BytesIO()
    np.savez_compressed(buffer, x=np.zeros(61_000_000, np.uint8), y=np.zeros(1, np.uint8))
    assert len(buffer.getvalue()) < 200_000
    with pytest.raises(DataError, match="61,000,001 values, more than the 60,000,000"):
        load_npz(buffer.getvalue())


def test_an_npz_of_many_members_is_refused_before_reading_them() -> None:
    buffer = io.BytesIO()
    np.savez(buffer, **{f"a{i}": np.zeros(1) for i in range(100)})
    with pytest.raises(DataError, match="holds 100 arrays; at most 64"):
        load_npz(buffer.getvalue())
