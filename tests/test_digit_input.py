"""Drawings turned into network inputs: known strokes (a "1", a "0", an L) rasterised and
converted the MNIST way and the 8x8 way, an off-centre drawing centred, an empty one refused,
and real digits that survive a round trip through a 280x280 canvas-sized image."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from explorer.data import Dataset, load_digits_8x8, load_mnist_sample
from explorer.data.digit_input import (
    EmptyDrawing,
    area_resize,
    centre_of_mass,
    rasterize,
    to_digits_8x8,
    to_mnist,
)
from explorer.engine import (
    LayerSpec,
    NetworkSpec,
    Params,
    TrainConfig,
    encode_targets,
    forward,
    init_opt_state,
    init_params,
    predict_classes,
    train_epoch,
)

SIZE, BRUSH = 280, 22.0
Convert = Callable[[np.ndarray], np.ndarray]


def ring(cx: float, cy: float, rx: float, ry: float) -> list[tuple[float, float]]:
    angles = np.linspace(0, 2 * np.pi, 120)
    return [(cx + rx * np.cos(a), cy + ry * np.sin(a)) for a in angles]


ONE = [[(140, 40), (140, 240)]]
ZERO = [ring(140, 140, 70, 100)]
L_SHAPE = [[(90, 40), (90, 230), (200, 230)]]
DRAWINGS = {"one": ONE, "zero": ZERO, "L": L_SHAPE}


def draw(strokes: list[list[tuple[float, float]]]) -> np.ndarray:
    return rasterize(strokes, size=SIZE, width=BRUSH)


def ink_box(image: np.ndarray) -> tuple[int, int]:
    rows = np.flatnonzero(image.any(axis=1))
    cols = np.flatnonzero(image.any(axis=0))
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


@pytest.mark.parametrize("name", DRAWINGS)
def test_mnist_conversion_fits_20x20_and_centres_the_mass(name: str) -> None:
    digit = to_mnist(draw(DRAWINGS[name]))
    assert digit.shape == (28, 28)
    assert digit.min() >= 0.0 and digit.max() <= 1.0
    assert digit.max() > 0.9  # strokes stay solid, not smeared grey
    height, width = ink_box(digit)
    assert max(height, width) == 20 and min(height, width) <= 20
    row, col = centre_of_mass(digit)
    assert abs(row - 14) <= 0.5 + 1e-9 and abs(col - 14) <= 0.5 + 1e-9  # shifts are whole pixels


def test_the_conversion_keeps_the_shapes() -> None:
    one, zero, ell = (to_mnist(draw(DRAWINGS[n])) for n in ("one", "zero", "L"))
    assert ink_box(one)[1] <= 4  # a thin upright bar stays thin: the aspect ratio is kept
    assert zero[14, 14] == 0 and zero[14, 8:21].max() > 0.9  # a ring keeps its hole
    rows, cols = np.nonzero(ell > 0.5)
    assert np.ptp(cols[rows == rows.max()]) > 8  # the L's foot runs along its bottom row
    assert np.ptp(rows[cols == cols.min()]) > 15  # and its stem up its left column


def test_an_off_centre_drawing_is_centred_like_the_centred_one() -> None:
    small_in_a_corner = [[(x / 3 + 10, y / 3 + 15) for x, y in stroke] for stroke in ZERO]
    image = rasterize(small_in_a_corner, size=SIZE, width=BRUSH / 3)
    assert np.abs(centre_of_mass(image) - 140).min() > 70  # drawn far from the middle
    digit = to_mnist(image)
    assert ink_box(digit) == ink_box(to_mnist(draw(ZERO)))
    assert np.abs(centre_of_mass(digit) - 14).max() <= 0.5 + 1e-9
    # moved by whole pixels: the very same input
    shifted = [[(x + 60, y - 20) for x, y in stroke] for stroke in L_SHAPE]
    assert np.array_equal(to_mnist(draw(shifted)), to_mnist(draw(L_SHAPE)))


def test_no_ink_leaves_the_frame_when_the_mass_sits_at_one_end() -> None:
    # a big blob on a long faint stem: centring its mass would push the stem out at the bottom
    image = rasterize([[(140, 40)], [(140, 40), (140, 250)]], size=SIZE, width=60)
    image[80:] *= 0.1
    digit = to_mnist(image)
    assert ink_box(digit)[0] == 20 and digit[-1].any()  # all 20 rows kept, down to the edge
    row, col = centre_of_mass(digit)
    assert row < 13  # as near the centre as the frame allows
    assert abs(col - 14) <= 0.5 + 1e-9  # the other axis is centred as usual


@pytest.mark.parametrize("name", DRAWINGS)
def test_digits_8x8_conversion(name: str) -> None:
    digit = to_digits_8x8(draw(DRAWINGS[name]))
    assert digit.shape == (8, 8)
    assert digit.min() >= 0.0 and digit.max() <= 1.0
    assert max(ink_box(digit)) == 8  # the longer side fills the frame, as in the UCI bitmaps


def test_digits_8x8_one_is_an_upright_bar_in_the_middle() -> None:
    digit = to_digits_8x8(draw(ONE))
    assert digit[:, 3:5].sum() > 0.9 * digit.sum()
    assert (digit[:, 3:5].sum(axis=1) > 0.3).all()


@pytest.mark.parametrize("convert", [to_mnist, to_digits_8x8])
def test_an_empty_drawing_is_refused_with_a_message(convert: Convert) -> None:
    off_canvas = [[(-100, -100), (-60, -50)]]
    for strokes in ([], [[]], off_canvas):
        with pytest.raises(EmptyDrawing, match="draw a digit"):
            convert(draw(strokes))


def test_rasterize_paints_an_anti_aliased_round_brush() -> None:
    dot = rasterize([[(100.0, 100.0)]], size=SIZE, width=20.0)
    assert dot.min() == 0.0 and dot.max() == 1.0
    assert dot.sum() == pytest.approx(np.pi * 10**2, rel=0.02)
    assert 0 < dot[100, 90:92].min() < 1  # the rim is grey: anti-aliased
    line = rasterize([[(20.0, 50.5), (260.0, 50.5)]], size=SIZE, width=BRUSH)
    assert line[:, 140].sum() == pytest.approx(BRUSH, abs=0.5)
    with pytest.raises(ValueError, match="finite"):
        rasterize([[(0.0, float("nan"))]], size=SIZE, width=BRUSH)


def test_area_resize_averages_areas() -> None:
    rng = np.random.default_rng(0)
    image = rng.random((280, 120))
    small = area_resize(image, (20, 9))
    assert small.mean() == pytest.approx(image.mean())  # ink is neither made nor lost
    blocks = area_resize(image, (28, 12))
    assert np.allclose(blocks, image.reshape(28, 10, 12, 10).mean(axis=(1, 3)))


# -- real digits through a canvas-sized image --------------------------------------------------
def trained(data: Dataset, epochs: int) -> tuple[NetworkSpec, Params]:
    spec = NetworkSpec(
        data.n_features, (LayerSpec(32, "relu"), LayerSpec(10, "softmax")), "cross_entropy"
    )
    config = TrainConfig(optimizer="adam", learning_rate=3e-3, batch_size=64)
    params = init_params(spec, np.random.default_rng(0), "he_uniform", dtype=np.float32)
    opt = init_opt_state(params, config)
    target = encode_targets(spec, data.y_train, np.float32)
    for epoch in range(epochs):
        result = train_epoch(spec, params, opt, config, data.x_train, target, seed=0, epoch=epoch)
        params, opt = result.params, result.opt_state
    return spec, params


def accuracy(spec: NetworkSpec, params: Params, x: np.ndarray, y: np.ndarray) -> float:
    return float((predict_classes(forward(spec, params, x).output[-1]) == y).mean())


@pytest.mark.parametrize(
    ("load", "convert", "epochs", "rows", "tolerance"),
    [(load_mnist_sample, to_mnist, 3, 500, 0.02), (load_digits_8x8, to_digits_8x8, 30, 360, 0.06)],
    ids=["mnist", "digits-8x8"],
)
def test_real_digits_drawn_large_stay_recognisable(
    load: Callable[[], Dataset], convert: Convert, epochs: int, rows: int, tolerance: float
) -> None:
    data = load()
    spec, params = trained(data, epochs)
    side = data.input_shape[0]
    x, y = data.x_test[:rows], data.y_test[:rows]
    # each real digit blown up to canvas size, as a drawing would be, then converted back
    block = np.ones((SIZE // side, SIZE // side))
    again = np.stack([convert(np.kron(d.reshape(side, side), block)).ravel() for d in x])
    before = accuracy(spec, params, x, y)
    assert before > 0.85
    assert accuracy(spec, params, again.astype(np.float32), y) >= before - tolerance
