"""The "Draw a digit" panel of the Explorer: a canvas to draw on, the drawing converted the way
the dataset's digits were made, and the current network run forward on it.

The canvas is a Streamlit components-v2 component (HTML, CSS and JS in ``canvas/``: no build,
no network). It sends its strokes as point lists when a stroke ends; Python rasterises and
converts them (``explorer.data.digit_input``), runs ``forward`` with the run's current parameters,
and shows the converted image, the predicted class with the output activations, and the
network graph lit up by the drawing. The drawing gets its own ``StepState``; the Stepper, its
state and its history are never touched.

Shown for digit sets only: 28x28 or 8x8 images whose classes are the digits 0-9. Left out:
training on drawings, and saving them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import streamlit as st
from streamlit.components.v2 import component
from streamlit.delta_generator import DeltaGenerator

from explorer.data import DIGIT_NAMES, Dataset
from explorer.data.digit_input import EmptyDrawing, Image, rasterize, to_digits_8x8, to_mnist
from explorer.engine import NonFiniteError, StepState, forward, predict_classes
from explorer.engine.types import Array
from explorer.figures import network_figure
from explorer.ui import keys
from explorer.ui.session import Run

CANVAS_PX = 280  # the canvas is CANVAS_PX square, in its own pixels, whatever its CSS size
# A digit drawn by hand sends a few hundred points; painting one costs ~0.25 ms a rerun.
MAX_POINTS = 2000
BRUSH_PX = 22.0  # about MNIST's stroke width once the digit is scaled to 20 pixels
PREVIEW_PX = 140  # the converted image is shown about this wide, one block per pixel

CONVERTERS: dict[tuple[int, ...], Callable[[Image], Image]] = {
    (28, 28): to_mnist,
    (8, 8): to_digits_8x8,
}
HOW: dict[tuple[int, ...], str] = {
    (28, 28): "cropped to the ink, scaled to fit 20×20, centred by its mass in 28×28 (as MNIST)",
    (8, 8): "fitted into a 32×32 bitmap, its ink averaged over 4×4 blocks (as the UCI 8×8 set)",
}

_ASSETS = Path(__file__).parent / "canvas"
_canvas = component(
    "backprop_explorer.draw_canvas",
    html=(_ASSETS / "draw.html").read_text(encoding="utf-8"),
    css=(_ASSETS / "draw.css").read_text(encoding="utf-8"),
    js=(_ASSETS / "draw.js").read_text(encoding="utf-8"),
)


def digit_converter(dataset: Dataset) -> Callable[[Image], Image] | None:
    """How to turn a drawing into this dataset's input, or None if it is not a digit set."""
    if dataset.class_names != DIGIT_NAMES:
        return None
    return CONVERTERS.get(dataset.input_shape)


def parse_strokes(value: object) -> list[Array]:
    """The canvas's state value (a list of strokes, each a list of [x, y]) as (n, 2) arrays;
    anything else (no drawing yet, a malformed stroke) counts as no stroke. At most
    MAX_POINTS points are read, in order: the value comes from the browser, which anyone can
    forge, and every point is painted on each rerun."""
    if not isinstance(value, list):
        return []
    strokes = []
    left = MAX_POINTS
    for stroke in value[:MAX_POINTS]:
        if not isinstance(stroke, list) or not left:
            continue
        try:
            points = np.asarray(stroke[:left], dtype=np.float64)
        except (TypeError, ValueError):
            continue
        if points.ndim == 2 and points.shape[1] == 2 and len(points) and np.isfinite(points).all():
            strokes.append(points)
            left -= len(points)
    return strokes


def draw_canvas(key: str = keys.DRAW_CANVAS) -> list[Array]:
    """Mount the canvas and return its strokes (canvas pixels, y downwards)."""
    stored = st.session_state.get(key) or {}
    result = _canvas(
        key=key,
        # The strokes go back only so that a remounted canvas shows the drawing Python holds.
        data={"size": CANVAS_PX, "brush": BRUSH_PX, "strokes": stored.get("strokes", [])},
        default={"strokes": []},
        on_strokes_change=lambda: None,  # declares the state value; the rerun does the work
    )
    return parse_strokes(result.get("strokes"))


def drawn_state(run: Run, pixels: Image) -> StepState:
    """The Stepper's current state with the drawing as a batch of one, forward pass done and
    nothing after it. Raises NonFiniteError if the forward pass overflows."""
    s = run.stepper.state
    x = pixels.reshape(1, -1).astype(s.params.dtype)
    x.flags.writeable = False
    fwd = forward(run.spec, s.params, x)
    return replace(
        s,
        batch_index=s.batch_index[:0],  # the drawing is no row of the training set
        x=x,
        target=s.target[:0],  # and has no label
        done=len(run.spec.layers),
        z=fwd.total_input,
        a=fwd.output,
        err=None,
        back=(),
        prev_params=None,
    )


def preview(pixels: Image) -> Array:
    """The converted image as 8-bit grey, ink black on white as the graph draws the input
    (an input pixel is its share of ink: 0 blank, 1 full), each pixel a block about
    PREVIEW_PX / side wide."""
    block = max(1, PREVIEW_PX // pixels.shape[1])
    big = np.kron(np.clip(pixels, 0.0, 1.0), np.ones((block, block)))
    return np.rint((1.0 - big) * 255).astype(np.uint8)


def show_prediction(run: Run, pixels: Image, state: StepState) -> None:
    """The converted image, the predicted class and the output layer's activations."""
    names = run.dataset.class_names
    out = state.a[-1]
    predicted = int(predict_classes(out)[0])
    softmax = run.spec.layers[-1].activation == "softmax"
    side = f"{pixels.shape[0]}×{pixels.shape[1]}"
    st.image(preview(pixels), caption=f"What the network sees: {side}")
    sure = f" ({float(out[0, predicted]):.0%} sure)" if softmax else ""
    st.markdown(f"**Prediction: {names[predicted]}**{sure}")
    what = "probability" if softmax else f"output ({run.spec.layers[-1].activation})"
    st.bar_chart({what: {names[i]: float(v) for i, v in enumerate(out[0])}}, height=180)


def draw_digit_panel(run: Run) -> None:
    """The whole panel, in an expander; nothing for datasets that are not digits. While the
    expander is closed only the canvas is kept (so the drawing survives): play ticks then
    cost nothing here."""
    convert = digit_converter(run.dataset)
    if convert is None:
        return
    panel = st.expander(
        "Draw a digit", icon=":material/draw:", key=keys.DRAW_PANEL, on_change="rerun"
    )
    with panel:
        st.caption(
            f"Draw one digit on the white square. It is {HOW[run.dataset.input_shape]}, "
            "then run forward through the network as it is now: train it first."
        )
        pad, beside = st.columns(2)
        with pad:
            strokes = draw_canvas()
        if panel.open:
            show_drawing(run, strokes, convert, beside)


def show_drawing(
    run: Run, strokes: list[Array], convert: Callable[[Image], Image], beside: DeltaGenerator
) -> None:
    """The prediction ``beside`` the canvas and the lit graph below it, or why there is none."""
    try:
        pixels = convert(rasterize(strokes, size=CANVAS_PX, width=BRUSH_PX))
        state = drawn_state(run, pixels)
    except EmptyDrawing as exc:
        beside.info(str(exc))
        return
    except NonFiniteError as exc:
        beside.error(str(exc))
        return
    with beside:
        show_prediction(run, pixels, state)
    shape = run.dataset.input_shape
    fig = network_figure(run.spec, state, sample=0, input_shape=(shape[0], shape[1]))
    st.plotly_chart(fig, key="draw_graph", config={"displayModeBar": False})
    st.caption("The graph for your drawing: each neuron coloured by its activation a.")
