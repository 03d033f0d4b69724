"""Figures for the Compare page: one activation with its derivative, and the views of a
``Comparison`` side by side (curves, gradient norms per layer, dead and saturated units,
activation histograms, decision boundaries, accuracy per class).

Pure functions of their arguments: whatever needs a forward pass (histograms, boundaries, the
per-class accuracy) is computed by ``explorer.analysis.compare`` and handed in as arrays. Each
variant
keeps one colour across every figure. Histograms are drawn as bars of precomputed counts, so a
figure carries tens of numbers per panel, never the raw activations.

Left out: streamlit, and a shared legend across figures (each figure has its own).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from plotly.colors import sample_colorscale

from explorer.analysis.compare import Comparison, Grid, VariantRun
from explorer.analysis.gallery import FACTS, curve
from explorer.engine.types import Array
from explorer.figures.build import figure
from explorer.figures.style import PALETTE
from explorer.state.settings import MAX_HIDDEN_LAYERS

CLASS_COLOURS = ("#f59322", "#0877bd")  # the Playground's orange (class 0) and blue (class 1)
# the background is a paler version of the class colours, so the points stay visible on it
BOUNDARY_SCALE = [[0.0, "#f9c98f"], [0.5, "#f7f7f7"], [1.0, "#9cc9e6"]]
OUTPUT_COLOUR = "#222222"
_MARGIN = {"l": 50, "r": 10, "t": 40, "b": 40}


def _colour(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def _layer_colour(layer: int) -> str:
    """Hidden layer ``layer`` (0-based) on one fixed scale, so layer 1 looks alike everywhere."""
    return str(sample_colorscale("Viridis", [layer / max(MAX_HIDDEN_LAYERS - 1, 1)])[0])


def _base_layout(height: int, **extra: Any) -> dict[str, Any]:
    return {
        "height": height,
        "margin": _MARGIN,
        "legend": {"orientation": "h", "y": -0.2},
        **extra,
    }


def activation_figure(name: str, lo: float = -5.0, hi: float = 5.0, *, points: int = 401) -> Any:
    """f(z) and the engine's f'(z) over [lo, hi], as traces named "f(z)" and "f'(z)"."""
    z = np.linspace(lo, hi, points)
    f, der = curve(name, z)
    traces = [
        {"type": "scatter", "mode": "lines", "name": "f(z)", "x": z, "y": f},
        {"type": "scatter", "mode": "lines", "name": "f'(z)", "x": z, "y": der},
    ]
    for trace, colour, dash in zip(traces, PALETTE, ("solid", "dash"), strict=False):
        trace["line"] = {"color": colour, "width": 2, "dash": dash}
    layout = _base_layout(
        230,
        margin={"l": 35, "r": 10, "t": 10, "b": 30},
        xaxis={"title": {"text": "z"}, "zeroline": True},
        yaxis={"zeroline": True},
        legend={"orientation": "h", "y": 1.12, "x": 0},
    )
    return figure(traces, layout)


def compare_metric_figure(comparison: Comparison, metric: str) -> Any:
    """``metric`` ("loss" or "accuracy") over the steps: train solid, test dashed, one colour
    per variant."""
    traces = []
    for i, run in enumerate(comparison.runs):
        steps = [r.step for r in run.records]
        for part, dash in (("train", "solid"), ("test", "dash")):
            values = [getattr(r, f"{part}_{metric}") for r in run.records]
            if all(v is None for v in values):
                continue
            traces.append(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "name": f"{run.label} · {part}",
                    "legendgroup": run.label,
                    "x": steps,
                    "y": values,
                    "line": {"color": _colour(i), "dash": dash, "width": 2},
                }
            )
    layout = _base_layout(
        320,
        xaxis={"title": {"text": "step"}},
        yaxis={
            "title": {"text": metric},
            **({"tickformat": ".0%"} if metric == "accuracy" else {}),
        },
    )
    return figure(traces, layout)


def _panels(
    rows: int,
    cols: int,
    titles: Sequence[str],
    *,
    hgap: float,
    vgap: float,
    x: dict[str, Any],
    y: dict[str, Any],
) -> dict[str, Any]:
    """Layout entries for a grid of panels, row by row: each panel's axes (with ``x``/``y``
    settings), its title as an annotation. Built by hand: make_subplots costs ~40 ms a figure."""
    width = (1 - hgap * (cols - 1)) / cols
    height = (1 - vgap * (rows - 1)) / rows
    layout: dict[str, Any] = {"annotations": []}
    for panel in range(rows * cols):
        row, col = divmod(panel, cols)
        n = _axis(panel)
        left, top = col * (width + hgap), 1 - row * (height + vgap)
        # rounding may put an edge a hair outside [0, 1], which plotly refuses
        x_domain = [max(left, 0.0), min(left + width, 1.0)]
        y_domain = [max(top - height, 0.0), min(top, 1.0)]
        layout[f"xaxis{n}"] = {**x, "domain": x_domain, "anchor": f"y{n}"}
        layout[f"yaxis{n}"] = {**y, "domain": y_domain, "anchor": f"x{n}"}
        if titles[panel]:
            layout["annotations"].append(
                {
                    "text": titles[panel],
                    "x": left + width / 2,
                    "y": top,
                    "xref": "paper",
                    "yref": "paper",
                    "xanchor": "center",
                    "yanchor": "bottom",
                    "showarrow": False,
                    "font": {"size": 12},
                }
            )
    return layout


def _axis(panel: int) -> str:
    """The axis suffix of panel ``panel`` (0-based): "", "2", "3", ..."""
    return "" if panel == 0 else str(panel + 1)


def _on(panel: int) -> dict[str, str]:
    n = _axis(panel)
    return {"xaxis": f"x{n}", "yaxis": f"y{n}"}


def compare_gradients_figure(comparison: Comparison) -> Any:
    """One panel per variant, a line per layer: |dL/dW| on the probe batch over the steps, on
    one shared log scale; each title gives the final first/last-layer ratio."""
    runs = comparison.runs
    titles = [f"{run.label}<br>first/last {run.last.gradient_ratio:.1e}" for run in runs]
    traces: list[dict[str, Any]] = []
    shown: set[str] = set()
    for panel, run in enumerate(runs):
        steps = [r.step for r in run.records]
        norms = np.array([r.grad_norms for r in run.records])
        n_layers = norms.shape[1]
        for layer in range(n_layers):
            output = layer == n_layers - 1
            name = "output layer" if output else f"layer {layer + 1}"
            colour = OUTPUT_COLOUR if output else _layer_colour(layer)
            traces.append(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "name": name,
                    "legendgroup": name,
                    "showlegend": name not in shown,
                    "x": steps,
                    # a zero norm (a dead layer) has no place on a log scale: leave a gap
                    "y": [float(v) if v > 0 else None for v in norms[:, layer]],
                    "line": {"color": colour, "width": 2, "dash": "dash" if output else "solid"},
                    **_on(panel),
                }
            )
            shown.add(name)
    layout = _panels(
        1,
        len(runs),
        titles,
        hgap=0.03,
        vgap=0.0,
        x={"title": {"text": "step"}},
        y={"type": "log", "exponentformat": "power", "matches": "y"},
    )
    layout["yaxis"]["title"] = {"text": "|dL/dW|"}
    for panel in range(1, len(runs)):
        layout[f"yaxis{_axis(panel)}"]["showticklabels"] = False
    return figure(traces, _base_layout(360, margin={**_MARGIN, "t": 60}, **layout))


def compare_units_figure(comparison: Comparison) -> Any:
    """Two panels over the steps, a line per variant: the share of dead ReLU units and the
    share of saturated sigmoid/tanh units; variants without such units have no line."""
    traces: list[dict[str, Any]] = []
    for i, run in enumerate(comparison.runs):
        steps = [r.step for r in run.records]
        panels = ([r.dead for r in run.records], [r.saturated for r in run.records])
        legend = True  # each variant once in the legend, in its first panel
        for panel, values in enumerate(panels):
            if all(v is None for v in values):
                continue
            traces.append(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "name": run.label,
                    "legendgroup": run.label,
                    "showlegend": legend,
                    "x": steps,
                    "y": values,
                    "line": {"color": _colour(i), "width": 2},
                    **_on(panel),
                }
            )
            legend = False
    layout = _panels(
        1,
        2,
        ["dead ReLU units", "saturated sigmoid/tanh units (|z| large)"],
        hgap=0.08,
        vgap=0.0,
        x={"title": {"text": "step"}},
        y={"range": [-0.02, 1.02], "tickformat": ".0%"},
    )
    return figure(traces, _base_layout(320, margin={**_MARGIN, "t": 50}, **layout))


def compare_histograms_figure(
    runs: Sequence[VariantRun], outputs: Sequence[Sequence[Array]], *, bins: int = 30
) -> Any:
    """A row per variant, a column per hidden layer: the distribution of the activations a
    over the probe batch (``outputs[i][l]``, (rows, n_l)), as the share of values per bin,
    over the activation's range where it is bounded (sigmoid, tanh), else over the values'."""
    n_cols = max(1, *(len(o) for o in outputs))
    titles = [
        f"{run.label} · layer {layer + 1}" if layer < len(out) else ""
        for run, out in zip(runs, outputs, strict=True)
        for layer in range(n_cols)
    ]
    traces = []
    for row, (run, out) in enumerate(zip(runs, outputs, strict=True)):
        for col, a in enumerate(out):
            # a bounded activation is binned over its whole range: where in (0, 1) sigmoid
            # outputs sit is the point (bunched in the middle, or piled at the ends)
            lo, hi = FACTS[run.spec.layers[col].activation].bounds
            span = (lo, hi) if math.isfinite(lo) and math.isfinite(hi) else None
            counts, edges = np.histogram(a.ravel(), bins=bins, range=span)
            traces.append(
                {
                    "type": "bar",
                    "name": f"{run.label} · layer {col + 1}",
                    "x": (edges[:-1] + edges[1:]) / 2,
                    "y": counts / max(a.size, 1),
                    "width": np.diff(edges),
                    "marker": {"color": _colour(row)},
                    "showlegend": False,
                    "hovertemplate": "a ≈ %{x:.3g}: %{y:.1%}<extra></extra>",
                    **_on(row * n_cols + col),
                }
            )
    layout = _panels(
        len(runs),
        n_cols,
        titles,
        hgap=min(0.06, 0.3 / n_cols),
        vgap=min(0.12, 0.5 / len(runs)),
        x={},
        y={"tickformat": ".0%"},
    )
    height = 150 * len(runs) + 60
    return figure(
        traces,
        _base_layout(height, bargap=0, margin={**_MARGIN, "t": 30}, **layout),
    )


def compare_boundaries_figure(
    titles: Sequence[str],
    grid: Grid,
    values: Sequence[Array],
    x: Array,
    y: Array,
    *,
    binary: bool,
) -> Any:
    """One panel per variant: its score over ``grid`` (``values[i]``, (r, r)) as a heatmap,
    with the points (x, y) on top. Binary tasks share the orange-white-blue scale from
    P(class 1) = 0 to 1 and colour points by class; otherwise one shared scale of the output."""
    coloraxis: dict[str, Any] = {"colorscale": BOUNDARY_SCALE, "showscale": False}
    if binary:
        coloraxis.update(cmin=0.0, cmax=1.0)
    traces: list[dict[str, Any]] = []
    for panel, v in enumerate(values):
        traces.append(
            {
                "type": "heatmap",
                "x": grid.xs,
                "y": grid.ys,
                "z": v.astype(np.float32),
                "coloraxis": "coloraxis",
                "hovertemplate": "(%{x:.2f}, %{y:.2f}): %{z:.2f}<extra></extra>",
                **_on(panel),
            }
        )
        traces.append({**_points(x, y, binary), **_on(panel)})
    plain = {"showgrid": False, "zeroline": False}
    layout = _panels(1, len(values), titles, hgap=0.02, vgap=0.0, x=plain, y=plain)
    for panel in range(len(values)):
        n = _axis(panel)
        layout[f"yaxis{n}"].update(scaleanchor=f"x{n}", showticklabels=panel == 0)
    height = 330 if len(values) > 2 else 420
    return figure(
        traces,
        _base_layout(height, coloraxis=coloraxis, margin={**_MARGIN, "t": 50}, **layout),
    )


def _points(x: Array, y: Array, binary: bool) -> dict[str, Any]:
    marker: dict[str, Any] = {"size": 5, "line": {"color": "#333333", "width": 0.5}}
    if binary:
        marker["color"] = [CLASS_COLOURS[int(c)] for c in y]
    else:
        marker.update(color=y, coloraxis="coloraxis")
    return {
        "type": "scatter",
        "mode": "markers",
        "name": "training points",
        "x": x[:, 0],
        "y": x[:, 1],
        "marker": marker,
        "showlegend": False,
        "hoverinfo": "skip",
    }


def compare_class_accuracy_figure(
    labels: Sequence[str], class_names: Sequence[str], accuracies: Sequence[Array]
) -> Any:
    """Grouped bars: the test accuracy of every class (``accuracies[i]``, (n_classes,)) for
    each variant."""
    traces = [
        {
            "type": "bar",
            "name": label,
            "x": list(class_names),
            "y": acc,
            "marker": {"color": _colour(i)},
            "hovertemplate": "class %{x}: %{y:.1%}<extra>" + label + "</extra>",
        }
        for i, (label, acc) in enumerate(zip(labels, accuracies, strict=True))
    ]
    layout = _base_layout(
        320,
        barmode="group",
        xaxis={"title": {"text": "class"}, "type": "category"},
        yaxis={"title": {"text": "test accuracy"}, "tickformat": ".0%", "range": [0, 1]},
    )
    return figure(traces, layout)
