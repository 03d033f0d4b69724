"""The Dataset type and the helpers every loader shares: validation with student-readable
errors, pixel and label conversion, the stratified split, and the import boundary."""

from __future__ import annotations

import pickle
import subprocess
import sys

import numpy as np
import pytest

from explorer.data import DIGIT_NAMES, DataError, Dataset, check_input_size
from explorer.data.dataset import class_labels, image_shape, pixels_to_unit, stratified_split


def make(
    x_train: np.ndarray | None = None,
    y_train: np.ndarray | None = None,
    *,
    input_shape: tuple[int, ...] = (2, 2),
) -> Dataset:
    rng = np.random.default_rng(0)
    x = rng.random((6, 4), dtype=np.float32)
    y = np.array([0, 1, 2, 0, 1, 2])
    return Dataset(
        name="tiny",
        x_train=x if x_train is None else x_train,
        y_train=y if y_train is None else y_train,
        x_test=x.copy(),
        y_test=y.copy(),
        input_shape=input_shape,
        class_names=("a", "b", "c"),
        task="classification",
        provenance="made in a test",
    )


def test_valid_dataset_has_conveniences_and_is_read_only() -> None:
    data = make()
    assert (data.n_features, data.n_classes) == (4, 3)
    with pytest.raises(ValueError, match="read-only"):
        data.x_train[0, 0] = 1.0
    # st.cache_data pickles what it caches.
    copy = pickle.loads(pickle.dumps(data))
    np.testing.assert_array_equal(copy.x_train, data.x_train)


def test_regression_has_no_classes() -> None:
    x = np.zeros((3, 2), np.float32)
    y = np.array([0.5, -1.0, 0.0], np.float32)
    data = Dataset("r", x, y, x, y, (2,), (), "regression", "test")
    assert data.n_classes == 0


def test_counts_that_differ_are_rejected() -> None:
    with pytest.raises(DataError, match="6 examples but 5 labels"):
        make(y_train=np.array([0, 1, 2, 0, 1]))


def test_labels_outside_the_classes_are_rejected_with_position() -> None:
    with pytest.raises(
        DataError, match=r"Label 7 of training example 3 is outside the classes 0-2"
    ):
        make(y_train=np.array([0, 1, 7, 0, 1, 2]))
    with pytest.raises(DataError, match="Label -1"):
        make(y_train=np.array([0, 1, 2, 0, 1, -1]))


def test_input_shape_must_match_the_values() -> None:
    with pytest.raises(DataError, match=r"input shape 3×3 needs 9"):
        make(input_shape=(3, 3))


def test_nan_inputs_and_empty_sets_are_rejected() -> None:
    x = np.zeros((6, 4), np.float32)
    x[2, 1] = np.nan
    with pytest.raises(DataError, match="NaN"):
        make(x_train=x)
    with pytest.raises(DataError, match="training set is empty"):
        make(x_train=np.zeros((0, 4), np.float32), y_train=np.zeros(0, np.int64))


def test_check_input_size_explains_the_mismatch() -> None:
    data = make()
    check_input_size(data, 4)
    with pytest.raises(DataError, match=r"2×2 = 4 values per example.*input layer has 784"):
        check_input_size(data, 784)


def test_image_shape_folds_squares_only() -> None:
    assert image_shape(784) == (28, 28)
    assert image_shape(64) == (8, 8)
    assert image_shape(10) == (10,)
    assert image_shape(1) == (1,)


def test_pixels_bytes_and_unit_floats() -> None:
    as_bytes = pixels_to_unit(np.array([[0, 51, 255]], np.uint8), "x")
    np.testing.assert_allclose(as_bytes, [[0, 0.2, 1]])
    assert as_bytes.dtype == np.float32
    np.testing.assert_allclose(pixels_to_unit(np.array([[0.0, 0.5]]), "x"), [[0, 0.5]])
    # A float array in 0-255 is converted images that were not rescaled.
    np.testing.assert_allclose(pixels_to_unit(np.array([[0.0, 255.0]]), "x"), [[0, 1]])


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (np.array([[0, 300]]), "run from 0 to 300"),
        (np.array([[-1.0, 0.5]]), "from -1 to 0.5"),
        (np.array([[np.nan, 0.5]]), "NaN"),
        (np.array([["a", "b"]]), "must be numbers"),
    ],
)
def test_bad_pixels_are_rejected(values: np.ndarray, message: str) -> None:
    with pytest.raises(DataError, match=message):
        pixels_to_unit(values, "The images")


def test_class_labels_accept_whole_floats_only() -> None:
    assert class_labels(np.array([1.0, 2.0]), "y").dtype == np.int64
    with pytest.raises(DataError, match=r"label 2 is 2\.5"):
        class_labels(np.array([1.0, 2.5]), "y")
    with pytest.raises(DataError, match="one-hot"):
        class_labels(np.eye(3), "y")


def test_stratified_split_keeps_the_class_balance_and_is_fixed() -> None:
    labels = np.repeat(np.arange(3), [50, 30, 20])
    train, test = stratified_split(labels, 0.2, seed=5)
    assert np.bincount(labels[test]).tolist() == [10, 6, 4]
    assert sorted(np.concatenate([train, test]).tolist()) == list(range(100))
    again = stratified_split(labels, 0.2, seed=5)
    np.testing.assert_array_equal(train, again[0])
    np.testing.assert_array_equal(test, again[1])
    with pytest.raises(DataError, match="too few"):
        stratified_split(np.array([0, 1]), 0.2, seed=0)


def test_digit_names() -> None:
    assert DIGIT_NAMES == ("0", "1", "2", "3", "4", "5", "6", "7", "8", "9")


def test_importing_data_pulls_in_no_ui_torch_or_sklearn() -> None:
    code = "import sys, explorer.data; print(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = {name.split(".")[0] for name in out.stdout.split()}
    # scikit-learn is slow to import; only the 8×8 digits need it, so it loads on demand.
    assert not loaded & {"streamlit", "plotly", "torch", "sklearn"}
