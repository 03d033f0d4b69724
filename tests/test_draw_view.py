"""The "Draw a digit" panel: shown for digit sets only, says so when the canvas is empty, does
no work while closed, and runs a drawing (set as the canvas component's state, as the browser
would) forward through the user's current network without touching the Stepper. Plus its pure
helpers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from explorer.data import Dataset, load_digits_8x8, load_mnist_sample, make_toy
from explorer.data.digit_input import rasterize, to_digits_8x8, to_mnist
from explorer.engine import Params, forward, predict_classes
from explorer.state.settings import Settings
from explorer.ui import keys
from explorer.ui.draw_view import (
    BRUSH_PX,
    CANVAS_PX,
    digit_converter,
    drawn_state,
    parse_strokes,
    preview,
)
from explorer.ui.session import build

APP = str(Path(__file__).parents[1] / "app.py")
SEVEN = [[[70.0, 50.0], [210.0, 50.0], [120.0, 240.0]]]


@pytest.fixture
def at() -> AppTest:
    app = AppTest.from_file(APP, default_timeout=60).run()
    assert not app.exception
    return app


def panel(at: AppTest) -> Any:
    return next((e for e in at.expander if e.label == "Draw a digit"), None)


def predictions(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown if m.value.startswith("**Prediction")]


def open_panel(at: AppTest) -> AppTest:
    at.session_state[keys.DRAW_PANEL] = True  # what a click on the expander does
    at.run()
    assert not at.exception, at.exception
    return at


def draw(at: AppTest, strokes: list[list[list[float]]]) -> AppTest:
    """What the canvas does when a stroke ends: set its state value, then rerun."""
    at.session_state[keys.DRAW_CANVAS] = {"strokes": strokes}
    at.run()
    assert not at.exception, at.exception
    return at


def test_no_panel_for_data_that_is_not_digits(at: AppTest) -> None:
    assert panel(at) is None  # the default 2-D set


def test_an_empty_canvas_says_what_to_do(at: AppTest) -> None:
    at.selectbox(key="w_dataset").set_value("mnist-sample").run()
    assert panel(at) is not None
    open_panel(at)
    assert any("canvas is empty" in i.value for i in at.info)
    assert not predictions(at)


def test_a_closed_panel_keeps_the_drawing_and_computes_nothing(at: AppTest) -> None:
    at.selectbox(key="w_dataset").set_value("mnist-sample").run()
    charts = len(at.get("plotly_chart"))
    draw(at, SEVEN)  # drawn, then the expander closed
    assert at.get("bidi_component")  # the canvas stays mounted
    assert not predictions(at) and len(at.get("plotly_chart")) == charts
    assert not any("canvas is empty" in i.value for i in at.info)
    open_panel(at)
    assert len(predictions(at)) == 1


def test_a_drawing_is_run_forward_through_the_current_network(at: AppTest) -> None:
    at.selectbox(key="w_dataset").set_value("mnist-sample").run()
    at.button(key="b_step").click().run()
    open_panel(at)
    run = at.session_state["run"]
    state, history = run.stepper.state, run.stepper.can_step_back
    charts_before = len(at.get("plotly_chart"))
    draw(at, SEVEN)
    pixels = to_mnist(rasterize(parse_strokes(SEVEN), size=CANVAS_PX, width=BRUSH_PX))
    out = forward(run.spec, state.params, pixels.reshape(1, -1)).output[-1]
    expected = int(predict_classes(out)[0])
    assert predictions(at) == [f"**Prediction: {expected}** ({out[0, expected]:.0%} sure)"]
    assert len(at.get("plotly_chart")) == charts_before + 1  # the graph lit by the drawing
    assert run.stepper.state is state and run.stepper.can_step_back == history
    draw(at, [])  # Clear
    assert not predictions(at)
    assert any("canvas is empty" in i.value for i in at.info)


def test_the_8x8_digits_get_the_8x8_conversion(at: AppTest) -> None:
    at.selectbox(key="w_dataset").set_value("digits-8x8").run()
    open_panel(at)
    draw(at, SEVEN)
    assert len(predictions(at)) == 1
    captions = [c.value for c in at.caption]
    assert any("4×4 blocks" in c for c in captions)


def test_an_overflowing_network_says_so(at: AppTest) -> None:
    at.selectbox(key="w_dataset").set_value("mnist-sample").run()
    run = at.session_state["run"]
    w, b = run.stepper.state.params.weights, run.stepper.state.params.biases
    run.stepper.set_params(Params((np.full_like(w[0], 1e308), *w[1:]), b))  # z overflows
    open_panel(at)
    draw(at, SEVEN)
    assert any("overflowed" in e.value for e in at.error)
    assert not predictions(at)


# -- helpers -------------------------------------------------------------------------------------
def with_names(data: Dataset, names: tuple[str, ...]) -> Dataset:
    fields = {k: getattr(data, k) for k in data.__dataclass_fields__}
    return Dataset(**{**fields, "class_names": names})


def test_digit_converter_knows_the_digit_sets() -> None:
    mnist, small = load_mnist_sample(), load_digits_8x8()
    assert digit_converter(mnist) is to_mnist
    assert digit_converter(small) is to_digits_8x8
    assert digit_converter(make_toy("circle")) is None
    clothes = tuple(f"item {i}" for i in range(10))
    assert digit_converter(with_names(mnist, clothes)) is None  # 28x28, but not digits


def test_parse_strokes_keeps_only_well_formed_strokes() -> None:
    value = [[[1, 2], [3, 4]], [[5, 6]], [], "x", [[1, 2, 3]], [[float("nan"), 1]], [["a", 1]]]
    strokes = parse_strokes(value)
    assert [s.tolist() for s in strokes] == [[[1, 2], [3, 4]], [[5, 6]]]
    assert parse_strokes(None) == [] and parse_strokes({"strokes": 1}) == []


def test_drawn_state_is_a_forward_pass_of_one_and_leaves_the_stepper_alone() -> None:
    data = load_mnist_sample()
    run = build(Settings(dataset="mnist-sample", head="softmax + cross-entropy"), data)
    before = run.stepper.state
    pixels = to_mnist(rasterize(parse_strokes(SEVEN), size=CANVAS_PX, width=BRUSH_PX))
    state = drawn_state(run, pixels)
    assert run.stepper.state is before and not run.stepper.can_step_back
    assert state.x.shape == (1, 784) and np.array_equal(state.x[0], pixels.ravel())
    assert [a.shape for a in state.a] == [(1, n) for n in run.spec.sizes[1:]]
    assert state.err is None and state.back == () and state.gradients() is None
    assert state.params is before.params
    assert np.allclose(state.a[-1].sum(), 1.0)  # softmax


def test_preview_blows_pixels_up_into_blocks() -> None:
    image = preview(np.eye(8))
    assert image.dtype == np.uint8 and image.shape == (136, 136)
    # ink black on white, as the graph and the figures draw a digit: 1 -> 0 (black), 0 -> 255
    assert image[0, 0] == 0 and image[0, 17] == 255 and image[17, 17] == 0
