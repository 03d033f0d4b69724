"""The 2-D sets: shapes and types, the Playground's geometry, determinism for a seed, and
parameter ranges."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.data import (
    CLASSIFICATION_NAMES,
    REGRESSION_NAMES,
    TOY_NAMES,
    DataError,
    Dataset,
    make_toy,
)


def inputs(data: Dataset) -> np.ndarray:
    return np.concatenate([data.x_train, data.x_test])


def targets(data: Dataset) -> np.ndarray:
    return np.concatenate([data.y_train, data.y_test])


@pytest.mark.parametrize("name", CLASSIFICATION_NAMES)
def test_classification_sets_are_binary_and_balanced(name: str) -> None:
    data = make_toy(name, n_points=400, noise=0.1, train_ratio=0.7, seed=3)
    assert (len(data.x_train), len(data.x_test)) == (280, 120)
    assert data.x_train.dtype == np.float32 and data.x_train.shape[1] == 2
    assert data.y_train.dtype == np.int64
    assert data.input_shape == (2,) and data.class_names == ("orange", "blue")
    counts = np.bincount(targets(data), minlength=2)
    assert counts.min() > 100, counts
    assert np.abs(inputs(data)).max() < 8


@pytest.mark.parametrize("name", REGRESSION_NAMES)
def test_regression_sets_have_float_targets_in_playground_range(name: str) -> None:
    data = make_toy(name, n_points=300, seed=1)
    assert data.task == "regression" and data.n_classes == 0
    assert data.y_train.dtype == np.float32
    assert np.abs(targets(data)).max() <= 1.2 + 1e-6
    assert np.abs(inputs(data)).max() <= 6


def test_noiseless_circle_labels_inside_blue_outside_orange() -> None:
    data = make_toy("circle", n_points=500, noise=0.0)
    radius = np.hypot(*inputs(data).T)
    blue = targets(data) == 1
    assert radius[blue].max() < 2.5 < 3.5 <= radius[~blue].min()


def test_noiseless_xor_labels_follow_the_quadrants_with_a_gap() -> None:
    data = make_toy("xor", n_points=500, noise=0.0)
    x = inputs(data)
    np.testing.assert_array_equal(targets(data), (x[:, 0] * x[:, 1] >= 0).astype(np.int64))
    assert np.abs(x).min() >= 0.3


def test_noiseless_plane_is_x_plus_y_over_ten() -> None:
    data = make_toy("plane", n_points=200, noise=0.0)
    np.testing.assert_allclose(targets(data), inputs(data).sum(axis=1) / 10, atol=1e-6)


def test_noise_flips_circle_labels() -> None:
    def mislabelled(noise: float) -> int:
        data = make_toy("circle", n_points=1000, noise=noise, seed=2)
        inside = np.hypot(*inputs(data).T) < 2.5
        return int(np.sum(inside != (targets(data) == 1)))

    assert mislabelled(0.0) == 0
    assert mislabelled(0.5) > 50


@pytest.mark.parametrize("name", TOY_NAMES)
def test_same_seed_same_points_other_seed_other_points(name: str) -> None:
    first = make_toy(name, n_points=100, noise=0.2, seed=7)
    again = make_toy(name, n_points=100, noise=0.2, seed=7)
    other = make_toy(name, n_points=100, noise=0.2, seed=8)
    for field in ("x_train", "y_train", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(first, field), getattr(again, field))
    assert not np.array_equal(first.x_train, other.x_train)


@settings(max_examples=30, deadline=None)
@given(
    name=st.sampled_from(TOY_NAMES),
    n_points=st.integers(10, 2000),
    noise=st.floats(0, 0.5),
    train_ratio=st.floats(0.1, 0.9),
    seed=st.integers(0, 2**32),
)
def test_any_valid_parameters_give_a_valid_split(
    name: str, n_points: int, noise: float, train_ratio: float, seed: int
) -> None:
    data = make_toy(name, n_points=n_points, noise=noise, train_ratio=train_ratio, seed=seed)
    assert len(data.x_train) + len(data.x_test) == n_points
    assert len(data.x_train) == round(n_points * train_ratio)
    assert len(data.x_test) >= 1


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"noise": 0.6}, "Noise must be between 0% and 50%; got 60%"),
        ({"noise": -0.1}, "Noise"),
        ({"noise": 30}, "Noise"),
        ({"noise": float("nan")}, "Noise"),
        ({"train_ratio": 0.05}, "between 10% and 90%"),
        ({"train_ratio": 0.95}, "between 10% and 90%"),
        ({"n_points": 5}, "from 10 to 10,000"),
        ({"n_points": 10_001}, "from 10 to 10,000"),
        ({"n_points": 100.0}, "whole number"),
        ({"seed": -1}, "seed"),
    ],
)
def test_out_of_range_parameters_are_rejected(params: dict[str, float], message: str) -> None:
    with pytest.raises(DataError, match=message):
        make_toy("circle", **params)  # type: ignore[arg-type]


def test_numpy_integers_are_whole_numbers() -> None:
    data = make_toy("xor", n_points=np.int64(20), seed=np.int64(3))  # type: ignore[arg-type]
    assert len(data.x_train) == 10


def test_unknown_name_lists_the_choices() -> None:
    with pytest.raises(DataError, match=r"no 2-D dataset called 'donut'.*circle"):
        make_toy("donut")
