"""Image datasets (8x8 and 28x28 digits): what the first layer looks for and how the network
does on the test set.

``weight_images_figure`` draws each first-layer neuron's incoming weights as an image, each on
its own symmetric colour range (red negative, blue positive, as the network graph); the
contribution view puts an input beside a neuron's weights and their product, whose sum is the
neuron's total input less its bias. The test-set figures are the confusion matrix, the accuracy
per class, a gallery of misclassified digits with their probabilities, and one sample's
probabilities as bars.

Images are heatmap tiles laid out on one pair of hidden axes (no subplots: cheaper to build),
row 0 of an image at the top. Pure functions of arrays; left out: streamlit and the network.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.colors import get_colorscale

from explorer.analysis.learned import class_probabilities
from explorer.engine.types import Array
from explorer.figures.build import figure
from explorer.figures.style import COLORSCALE

INK = [[0.0, "white"], [1.0, "black"]]
RIGHT, WRONG, OTHER, LABEL = "#1f77b4", "#d62728", "#b0b8c1", "#2ca02c"
SELECTED = "#ff9800"
GAP = 0.15  # between image tiles, as a share of the image's side
ROW_PX = 104  # figure height per row of a gallery's tiles
PANEL_PX = 210  # the contribution view's row of three larger images


def weight_images_figure(
    weights: Array,
    shape: tuple[int, int],
    *,
    selected: int | None = None,
    columns: int = 8,
    max_units: int = 64,
) -> go.Figure:
    """Each first-layer neuron's incoming weights (``weights`` (n_in, n_units), the first
    layer's W) as a ``shape`` image; ``selected`` is framed. At most ``max_units`` are drawn."""
    images = weights.T[:max_units].reshape(-1, *shape)
    grid = _Grid(shape, len(images), columns, label_rows=1)
    traces = []
    notes = []
    for unit, image in enumerate(images):
        vmax = max(float(np.abs(image).max()), 1e-12)
        x0, top = grid.corner(unit)
        name = f"unit {unit}"
        traces.append(_image(image, x0, top, COLORSCALE, -vmax, vmax, f"{name}<br>w = %{{z:.3g}}"))
        notes.append(_label(x0 + shape[1] / 2, top, name, "#333"))
    shapes = [] if selected is None or selected >= len(images) else [grid.frame(selected)]
    return _figure(traces, grid, notes, shapes, row_px=ROW_PX)


def contribution_figure(
    x: Array, weights: Array, bias: float, shape: tuple[int, int], *, unit: int
) -> go.Figure:
    """Input ``x`` (n_in,), the neuron's weights (n_in,) and their product w * x, whose sum
    plus the bias is the neuron's total input z."""
    product = weights * x
    wmax = max(float(np.abs(weights).max()), 1e-12)
    pmax = max(float(np.abs(product).max()), 1e-12)
    total = float(product.sum())
    panels = [
        (x, INK, 0.0, 1.0, "input x", "x = %{z:.3g}"),
        (weights, COLORSCALE, -wmax, wmax, f"weights of unit {unit}", "w = %{z:.3g}"),
        (product, COLORSCALE, -pmax, pmax, "contribution w·x", "w·x = %{z:.3g}"),
    ]
    grid = _Grid(shape, len(panels), len(panels), label_rows=2)
    traces, notes = [], []
    for i, (values, scale, lo, hi, title, hover) in enumerate(panels):
        x0, top = grid.corner(i)
        traces.append(_image(values.reshape(shape), x0, top, scale, lo, hi, hover))
        notes.append(_label(x0 + shape[1] / 2, top, title, "#333"))
    summary = f"Σ w·x = {total:.4g}, + b = {bias:.4g} → z = {total + bias:.4g}"
    x0, top = grid.corner(2)
    notes.append(_label(x0 + shape[1] / 2, top - shape[0], summary, "#333", below=True))
    return _figure(traces, grid, notes, [], row_px=PANEL_PX, extra_px=20)


def confusion_figure(confusion: Array, class_names: Sequence[str]) -> go.Figure:
    """Counts (n, n), row = true class, column = predicted, each cell labelled."""
    names = list(class_names)
    trace = {
        "type": "heatmap",
        "name": "confusion",
        "z": confusion,
        "x": names,
        "y": names,
        "colorscale": get_colorscale("Blues"),
        "texttemplate": "%{z}",
        "hovertemplate": "true %{y}, predicted %{x}: %{z}<extra></extra>",
        "showscale": False,
    }
    layout = {
        "height": 60 + 32 * len(names),
        "margin": {"l": 55, "r": 10, "t": 10, "b": 45},
        "xaxis": {"title": {"text": "predicted"}, "type": "category"},
        "yaxis": {"title": {"text": "true"}, "type": "category", "autorange": "reversed"},
    }
    return figure([trace], layout)


def class_accuracy_figure(accuracy: Array, class_names: Sequence[str]) -> go.Figure:
    """The share of each true class predicted right (NaN for an absent class: no bar)."""
    trace = {
        "type": "bar",
        "name": "accuracy",
        "x": list(class_names),
        "y": accuracy,
        "marker": {"color": RIGHT},
        "hovertemplate": "%{x}: %{y:.1%}<extra></extra>",
    }
    return _bars(trace, "accuracy")


def misclassified_figure(
    images: Array,
    shape: tuple[int, int],
    labels: Array,
    output: Array,
    class_names: Sequence[str],
    *,
    columns: int = 6,
) -> go.Figure:
    """A gallery of digits (``images`` (k, n_in)) with their true ``labels`` (k,) and the
    network's ``output`` (k, n_out): under each, true -> predicted and its probability; the
    three most likely classes on hover."""
    probs = class_probabilities(output)
    grid = _Grid(shape, max(len(images), 1), columns, label_rows=1)
    traces: list[dict[str, Any]] = []
    notes = []
    centres_x, centres_y, hovers = [], [], []
    for i, image in enumerate(images):
        x0, top = grid.corner(i)
        traces.append(_image(image.reshape(shape), x0, top, INK, 0.0, 1.0, "x = %{z:.2f}"))
        predicted = int(np.argmax(probs[i]))
        text = f"{class_names[labels[i]]} → {class_names[predicted]} ({probs[i, predicted]:.0%})"
        notes.append(_label(x0 + shape[1] / 2, top, text, WRONG))
        best = np.argsort(-probs[i])[:3]
        lines = [f"{class_names[k]}: {probs[i, k]:.1%}" for k in best]
        hovers.append(f"true {class_names[labels[i]]}<br>" + "<br>".join(lines))
        centres_x.append(x0 + shape[1] / 2)
        centres_y.append(top - shape[0] / 2)
    if len(images):
        traces.append(
            {
                "type": "scatter",
                "name": "probabilities",
                "mode": "markers",
                "x": centres_x,
                "y": centres_y,
                "hovertext": hovers,
                "hovertemplate": "%{hovertext}<extra></extra>",
                "marker": {"size": ROW_PX / 2, "color": "rgba(0,0,0,0)"},
            }
        )
    else:
        notes.append(_label(shape[1] / 2, 0, "No misclassified test samples.", "#333"))
    return _figure(traces, grid, notes, [], row_px=ROW_PX)


def probabilities_figure(
    output: Array, class_names: Sequence[str], *, label: int | None = None
) -> go.Figure:
    """One sample's class probabilities (``output`` (n_out,)) as bars: the predicted class in
    blue if right, red if wrong, the true ``label`` in green when it was missed."""
    probs = class_probabilities(output[None, :])[0]
    predicted = int(np.argmax(probs))
    colors = [OTHER] * len(probs)
    if label is not None and label != predicted:
        colors[label] = LABEL
    colors[predicted] = RIGHT if label in (None, predicted) else WRONG
    trace = {
        "type": "bar",
        "name": "probability",
        "x": list(class_names),
        "y": probs,
        "marker": {"color": colors},
        "hovertemplate": "%{x}: %{y:.1%}<extra></extra>",
    }
    return _bars(trace, "probability")


# -- shared drawing ------------------------------------------------------------------------------
class _Grid:
    """Where tile i of a gallery goes: row-major, ``columns`` a row, a text line above each
    (``label_rows`` lines of room), in image-pixel units."""

    def __init__(self, shape: tuple[int, int], n: int, columns: int, *, label_rows: int) -> None:
        self.shape = shape
        self.columns = min(columns, n)
        self.rows = -(-n // columns)
        side = max(shape)
        self.gap = GAP * side
        self.label = 0.22 * side * label_rows
        self.step_x = shape[1] + self.gap
        self.step_y = shape[0] + self.gap + self.label

    def corner(self, i: int) -> tuple[float, float]:
        """Left and top edges of tile i's image."""
        row, col = divmod(i, self.columns)
        return col * self.step_x, -row * self.step_y - self.label

    def frame(self, i: int) -> dict[str, Any]:
        x0, top = self.corner(i)
        rows, cols = self.shape
        return {
            "type": "rect",
            "x0": x0 - 0.6,
            "x1": x0 + cols + 0.6,
            "y0": top - rows - 0.6,
            "y1": top + 0.6,
            "line": {"color": SELECTED, "width": 3},
        }


def _image(
    image: Array, x0: float, top: float, scale: Any, zmin: float, zmax: float, hover: str
) -> dict[str, Any]:
    rows = image.shape[0]
    return {
        "type": "heatmap",
        "z": np.asarray(image, dtype=np.float32)[::-1],
        "x0": x0 + 0.5,
        "dx": 1,
        "y0": top - rows + 0.5,
        "dy": 1,
        "colorscale": scale,
        "zmin": zmin,
        "zmax": zmax,
        "showscale": False,
        "hovertemplate": hover + "<extra></extra>",
    }


def _label(x: float, y: float, text: str, color: str, *, below: bool = False) -> dict[str, Any]:
    return {
        "x": x,
        "y": y,
        "xref": "x",
        "yref": "y",
        "yanchor": "top" if below else "bottom",
        "text": text,
        "showarrow": False,
        "font": {"size": 11, "color": color},
    }


def _figure(
    traces: list[dict[str, Any]],
    grid: _Grid,
    notes: list[dict[str, Any]],
    shapes: list[dict[str, Any]],
    *,
    row_px: int,
    extra_px: int = 0,
) -> go.Figure:
    width = grid.columns * grid.step_x - grid.gap
    bottom = -grid.rows * grid.step_y + grid.gap
    layout = {
        "height": 20 + extra_px + row_px * grid.rows,
        "margin": {"l": 5, "r": 5, "t": 5, "b": 5 + extra_px},
        "showlegend": False,
        "xaxis": {"visible": False, "range": [-1, width + 1], "constrain": "domain"},
        "yaxis": {"visible": False, "range": [bottom - 1, 1], "scaleanchor": "x"},
        "annotations": notes,
        "shapes": shapes,
        "hovermode": "closest",
    }
    return figure(traces, layout)


def _bars(trace: dict[str, Any], y_title: str) -> go.Figure:
    layout = {
        "height": 220,
        "margin": {"l": 45, "r": 10, "t": 10, "b": 35},
        "xaxis": {"type": "category"},
        "yaxis": {"title": {"text": y_title}, "range": [0, 1], "tickformat": ".0%"},
        "showlegend": False,
    }
    return figure([trace], layout)
