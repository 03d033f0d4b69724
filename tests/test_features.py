"""The Features page's pipelines (explorer.analysis.features): what each hand-made family measures,
on
images whose answer is known, and the three pipelines on the 8x8 digits."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from explorer.analysis.features import (
    FAMILIES,
    family_features,
    feature_maps,
    hand_made,
    holes,
    ink_grid,
    mlp,
    profiles,
    raw_pixels,
    shape_measures,
    strokes,
)
from explorer.data import load_digits_8x8
from explorer.figures.features import feature_maps_figure

DIGITS = load_digits_8x8()


def blank(side: int = 8) -> np.ndarray:
    return np.zeros((1, side, side), dtype=np.float32)


def ring(side: int = 8) -> np.ndarray:
    """A square outline from (1, 1) to (side - 2, side - 2): an 'o' with one hole."""
    image = blank(side)
    image[0, 1, 1 : side - 1] = image[0, side - 2, 1 : side - 1] = 1
    image[0, 1 : side - 1, 1] = image[0, 1 : side - 1, side - 2] = 1
    return image


@pytest.mark.parametrize(
    ("side", "counts"),
    [(8, {"grid": 16, "profiles": 16, "strokes": 16, "shape": 8}), (28, {"profiles": 56})],
)
def test_each_family_has_its_number_of_features(side: int, counts: dict[str, int]) -> None:
    images = np.random.default_rng(0).random((3, side, side), dtype=np.float32)
    for name, n in counts.items():
        assert FAMILIES[name].compute(images).shape == (3, n), name


def test_ink_per_region_is_the_mean_ink_of_each_cell() -> None:
    image = blank()
    image[0, :2, :2] = 1.0  # the top-left cell of the 4x4 grid, full
    image[0, 7, 7] = 1.0  # a quarter of the bottom-right cell
    grid = ink_grid(image)[0]
    assert grid[0] == 1.0 and grid[15] == 0.25
    assert np.count_nonzero(grid) == 2


def test_profiles_are_the_rows_then_the_columns() -> None:
    image = blank()
    image[0, 3, :] = 1.0  # one full row
    row, column = profiles(image)[0][:8], profiles(image)[0][8:]
    assert row.tolist() == [0, 0, 0, 1, 0, 0, 0, 0]
    assert np.allclose(column, 1 / 8)


def test_a_horizontal_bar_is_a_horizontal_stroke_not_a_vertical_one() -> None:
    image = blank()
    image[0, 2, 1:7] = 1.0  # a bar in the top half
    per = strokes(image)[0].reshape(4, 2, 2)  # direction, quadrant row, quadrant column
    horizontal, vertical = per[0], per[1]
    assert horizontal[0].sum() > 3 * vertical[0].sum() > 0
    assert horizontal[1].sum() == 0  # nothing in the bottom half


def test_holes_are_the_background_the_ink_encloses() -> None:
    bar = blank()
    bar[0, 1:7, 4] = 1.0
    both = np.concatenate([ring(), bar, ring(28)[:, :8, :8]])
    found = holes(both)
    assert found[0].sum() == 16  # the 4x4 inside of the ring
    assert found[1].sum() == 0  # a '1' has no hole
    assert found[2].sum() == 0  # a ring cut open by the edge lets the background in
    measures = shape_measures(both)
    assert measures[0, 5] == pytest.approx(16 / 64)  # the share of the image enclosed
    assert measures[1, 7] > 0 and measures[0, 7] == 0  # the ring is its own mirror image


def test_the_feature_maps_follow_the_families_switched_on() -> None:
    image = ring()[0]
    every = [title for title, _ in feature_maps(image, list(FAMILIES))]
    assert len(every) == 1 + 2 + 4 + 1
    grid_only = feature_maps(image, ["grid"])
    assert [t for t, _ in grid_only] == ["ink per region (4×4)"]
    assert grid_only[0][1].shape == image.shape
    holes_map = dict(feature_maps(image, ["shape"]))["enclosed holes"]
    assert holes_map.sum() == 16
    bar = blank()[0]
    bar[1:7, 4] = 1.0
    assert [t for t, _ in feature_maps(bar, ["shape"])] == ["enclosed holes (none)"]


def test_three_pipelines_on_the_same_split_are_deterministic_and_learn() -> None:
    hand = hand_made(DIGITS, list(FAMILIES), seed=0)
    pixels = raw_pixels(DIGITS, seed=0)
    net = mlp(DIGITS, (16,), ("relu",), init="he_uniform", seed=0, epochs=10)
    n_test = len(DIGITS.y_test)
    for outcome in (hand, pixels, net):
        assert outcome.confusion.sum() == n_test
        assert outcome.accuracy == np.trace(outcome.confusion) / n_test
        assert outcome.accuracy > 0.85, outcome.name
    assert (hand.n_features, pixels.n_features, net.n_features) == (56, 64, 64)
    assert net.weights is not None and net.weights.shape == (64, 16)  # its learned features
    assert pixels.weights is not None and pixels.weights.shape == (64, 10)  # a template per digit
    again = mlp(DIGITS, (16,), ("relu",), init="he_uniform", seed=0, epochs=10)
    assert again.accuracy == net.accuracy
    assert np.array_equal(again.weights, net.weights)
    other_seed = mlp(DIGITS, (16,), ("relu",), init="he_uniform", seed=1, epochs=10)
    assert not np.array_equal(other_seed.weights, net.weights)


def test_switching_a_family_off_changes_the_features_and_the_accuracy() -> None:
    every = hand_made(DIGITS, list(FAMILIES), seed=0)
    no_strokes = hand_made(DIGITS, ["grid", "profiles", "shape"], seed=0)
    assert no_strokes.n_features == every.n_features - 16
    assert no_strokes.accuracy != every.accuracy


def test_given_features_are_used_instead_of_computed_ones() -> None:
    asked: list[str] = []

    def cached(name: str) -> tuple[np.ndarray, np.ndarray]:
        asked.append(name)
        return family_features(DIGITS, name)

    outcome = hand_made(DIGITS, ["grid", "shape"], seed=0, computed=cached)
    assert asked == ["grid", "shape"] and outcome.n_features == 24


def test_no_family_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one"):
        hand_made(DIGITS, [], seed=0)


def test_an_mlp_without_hidden_layers_has_no_features_of_its_own() -> None:
    outcome = mlp(DIGITS, (), (), init="xavier_uniform", seed=0, epochs=2)
    assert outcome.weights is None and outcome.confusion.sum() == len(DIGITS.y_test)


def test_the_maps_figure_draws_each_map_titled_on_its_own_range() -> None:
    image = ring()[0]
    maps = [("the digit", image), *feature_maps(image, ["strokes", "shape"])]
    fig = feature_maps_figure(maps)
    assert [t.name for t in fig.data] == [title for title, _ in maps]
    assert [a.text for a in fig.layout.annotations] == [title for title, _ in maps]
    for trace, (_, values) in zip(fig.data, maps, strict=True):
        assert trace.zmin == 0 and trace.zmax == pytest.approx(values.max())
        assert np.array_equal(trace.z, values[::-1])  # row 0 at the top


def test_the_pipelines_import_no_streamlit_and_no_slow_library_until_used() -> None:
    code = "import sys, explorer.analysis.features; print(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = {m.split(".")[0] for m in out.stdout.split()}
    assert not loaded & {"streamlit", "plotly", "torch", "sklearn", "scipy"}
