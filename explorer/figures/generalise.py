"""The Generalisation page's figures: train and test accuracy over training, the gap between
them shaded (what the network knows about the digits it saw and not about new ones), and a
gallery of test digits with the network's guess and its confidence.

Gallery tiles are laid out as ``explorer.figures.digits``' galleries are (its grid, image tiles
and labels); under a right digit, its class and the probability given to it, in blue; under a
wrong one, true → predicted with the probability of the choice, and the probability the true
class got, in red. Pure functions of arrays; left out: streamlit and the arithmetic
(``explorer.analysis.generalise``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import plotly.graph_objects as go

from explorer.analysis.generalise import Curves, Guess
from explorer.engine.types import Array
from explorer.figures.build import figure
from explorer.figures.curves import whole_ticks
from explorer.figures.digits import INK, RIGHT, ROW_PX, WRONG, _figure, _Grid, _image, _label
from explorer.figures.style import PALETTE

GAP_FILL = "rgba(214, 39, 40, 0.12)"  # the train-test gap, the colour of a mistake, faint


def accuracy_figure(curves: Curves, *, height: int = 260) -> go.Figure:
    """Train and test accuracy (in %) against epochs, the gap between them shaded."""
    epochs = list(curves.epochs)
    train = [100.0 * v for v in curves.train]
    test = [100.0 * v for v in curves.test]
    traces: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": "test (digits it never saw)",
            "x": epochs,
            "y": test,
            "line": {"color": PALETTE[1], "width": 3},
            "hovertemplate": "epoch %{x}: test %{y:.1f} %<extra></extra>",
        },
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": "train (digits it learned from)",
            "x": epochs,
            "y": train,
            "line": {"color": PALETTE[0], "width": 2},
            "fill": "tonexty",
            "fillcolor": GAP_FILL,
            "hovertemplate": "epoch %{x}: train %{y:.1f} %<extra></extra>",
        },
    ]
    layout = {
        "height": height,
        "margin": {"l": 50, "r": 10, "t": 30, "b": 40},
        "xaxis": {"title": {"text": "epoch"}, **whole_ticks(epochs)},
        "yaxis": {"title": {"text": "accuracy (%)"}, "range": [0, 101], "ticksuffix": " %"},
        "legend": {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
        "uirevision": "generalise",
    }
    return figure(traces, layout)


def caption(guess: Guess, class_names: Sequence[str]) -> str:
    """The words under one gallery tile."""
    label, predicted = class_names[guess.label], class_names[guess.predicted]
    if guess.right:
        return f"{label} ({guess.confidence:.1%})"
    return (
        f"{label} → {predicted} ({guess.confidence:.1%})<br>{label}: {guess.true_probability:.1%}"
    )


def gallery_figure(
    images: Array,
    shape: tuple[int, int],
    guesses: Sequence[Guess],
    class_names: Sequence[str],
    *,
    columns: int = 6,
) -> go.Figure:
    """One tile per guess (``images`` (k, n_in), the test rows of ``guesses``), its caption
    above it; "none" when there are no guesses."""
    grid = _Grid(shape, max(len(guesses), 1), columns, label_rows=2)
    traces: list[dict[str, Any]] = []
    notes = []
    for i, (image, guess) in enumerate(zip(images, guesses, strict=True)):
        x0, top = grid.corner(i)
        traces.append(_image(image.reshape(shape), x0, top, INK, 0.0, 1.0, "x = %{z:.2f}"))
        color = RIGHT if guess.right else WRONG
        notes.append(_label(x0 + shape[1] / 2, top, caption(guess, class_names), color))
    if not guesses:
        notes.append(_label(shape[1] / 2, -shape[0] / 2, "none", "#333"))
    return _figure(traces, grid, notes, [], row_px=ROW_PX + 16)
