"""The Compare figures: what fig.data holds for a small comparison, and the gallery's curves."""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go
import pytest

from explorer.analysis.compare import (
    Comparison,
    class_accuracy,
    data_grid,
    decision_values,
    hidden_outputs,
    run_comparison,
    variants_of,
    vary,
)
from explorer.data import load_dataset
from explorer.engine import ACTIVATIONS
from explorer.figures import (
    activation_figure,
    compare_boundaries_figure,
    compare_class_accuracy_figure,
    compare_gradients_figure,
    compare_histograms_figure,
    compare_metric_figure,
    compare_units_figure,
)
from explorer.state.settings import Settings

BASE = Settings(dataset="circle", n_points=200, hidden_sizes=(4, 4))


@pytest.fixture(scope="module")
def comparison() -> Comparison:
    dataset = load_dataset("circle", **BASE.data_params())
    settings = [
        vary(BASE, activation="sigmoid"),
        vary(BASE, activation="relu", learning_rate=3.0),
        vary(BASE, depth=3, activation="tanh"),
    ]
    return run_comparison(variants_of(settings), dataset, 60)


def named(fig: go.Figure, name: str) -> Any:
    return next(t for t in fig.data if t.name == name)


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation_figure_plots_the_engine_derivative(name: str) -> None:
    fig = activation_figure(name, -4.0, 4.0, points=801)
    f, der = named(fig, "f(z)"), named(fig, "f'(z)")
    z = np.asarray(f.x)
    assert z[0] == -4.0 and z[-1] == 4.0 and np.array_equal(z, np.asarray(der.x))
    numeric = np.gradient(np.asarray(f.y), z)
    smooth = np.abs(z) > 0.05  # relu-like kinks at 0
    np.testing.assert_allclose(np.asarray(der.y)[smooth], numeric[smooth], atol=2e-3)


def test_metric_figure_has_train_and_test_per_variant(comparison: Comparison) -> None:
    fig = compare_metric_figure(comparison, "loss")
    assert len(fig.data) == 2 * len(comparison.runs)
    run = comparison.runs[0]
    train, test = named(fig, f"{run.label} · train"), named(fig, f"{run.label} · test")
    assert list(train.x) == [r.step for r in run.records]
    assert list(test.y) == [r.test_loss for r in run.records]
    assert train.line.color == test.line.color and test.line.dash == "dash"
    acc = compare_metric_figure(comparison, "accuracy")
    assert acc.layout.yaxis.tickformat == ".0%" and len(acc.data) == len(fig.data)


def test_gradient_figure_has_a_panel_per_variant_and_a_line_per_layer(
    comparison: Comparison,
) -> None:
    fig = compare_gradients_figure(comparison)
    assert len(fig.data) == sum(len(run.spec.layers) for run in comparison.runs)
    assert fig.layout.yaxis.type == "log"
    titles = [a.text for a in fig.layout.annotations]
    assert all(
        run.label in t and "first/last" in t for run, t in zip(comparison.runs, titles, strict=True)
    )
    # the deep variant's lines live in the third panel, its output layer dashed
    deep = [t for t in fig.data if t.xaxis == "x3"]
    assert [t.name for t in deep] == ["layer 1", "layer 2", "layer 3", "output layer"]
    assert deep[-1].line.dash == "dash"
    norms = [r.grad_norms[0] for r in comparison.runs[2].records]
    assert list(deep[0].y) == [v if v > 0 else None for v in norms]
    # each layer name once in the legend
    shown = [t.name for t in fig.data if t.showlegend is not False]
    assert len(shown) == len(set(shown))


def test_units_figure_draws_dead_for_relu_and_saturation_for_sigmoid_tanh(
    comparison: Comparison,
) -> None:
    fig = compare_units_figure(comparison)
    dead = [t.name for t in fig.data if t.xaxis == "x"]
    saturated = [t.name for t in fig.data if t.xaxis == "x2"]
    labels = [run.label for run in comparison.runs]
    assert dead == [labels[1]]
    assert saturated == [labels[0], labels[2]]
    relu = next(t for t in fig.data if t.xaxis == "x")
    assert list(relu.y) == [r.dead for r in comparison.runs[1].records]


def test_histograms_are_shares_per_layer(comparison: Comparison) -> None:
    outputs = [hidden_outputs(run, comparison.dataset) for run in comparison.runs]
    fig = compare_histograms_figure(comparison.runs, outputs, bins=20)
    assert len(fig.data) == 2 + 2 + 3
    for bar in fig.data:
        assert bar.type == "bar" and len(bar.y) == 20
        assert float(np.sum(bar.y)) == pytest.approx(1.0)
    sigmoid = [b for b in fig.data if comparison.runs[0].label in b.name]
    for b in sigmoid:  # a bounded activation is binned over its whole range
        edges = np.asarray(b.x) - np.asarray(b.width) / 2
        assert edges[0] == pytest.approx(0.0) and edges[-1] + b.width[-1] == pytest.approx(1.0)
    relu = [b for b in fig.data if comparison.runs[1].label in b.name]
    for b in relu:  # relu outputs are never negative: no share in a bin wholly below 0
        right_edges = np.asarray(b.x) + np.asarray(b.width) / 2
        assert float(np.sum(np.asarray(b.y)[right_edges < 0])) == 0


def test_boundaries_are_one_heatmap_per_variant_with_the_points(comparison: Comparison) -> None:
    d = comparison.dataset
    grid = data_grid(d, resolution=25)
    values = [decision_values(run, grid) for run in comparison.runs]
    titles = [run.label for run in comparison.runs]
    fig = compare_boundaries_figure(titles, grid, values, d.x_train, d.y_train, binary=True)
    heatmaps = [t for t in fig.data if t.type == "heatmap"]
    points = [t for t in fig.data if t.type == "scatter"]
    assert len(heatmaps) == len(points) == 3
    assert np.asarray(heatmaps[1].z).shape == (25, 25)
    np.testing.assert_allclose(np.asarray(heatmaps[1].z), values[1], rtol=1e-6)
    assert fig.layout.coloraxis.cmin == 0 and fig.layout.coloraxis.cmax == 1
    assert len(points[0].x) == len(d.x_train) and len(set(points[0].marker.color)) == 2
    assert [a.text for a in fig.layout.annotations] == titles


def test_class_accuracy_bars_per_variant(comparison: Comparison) -> None:
    d = comparison.dataset
    accs = [class_accuracy(run, d) for run in comparison.runs]
    labels = [run.label for run in comparison.runs]
    fig = compare_class_accuracy_figure(labels, d.class_names, accs)
    assert [t.name for t in fig.data] == labels
    assert list(fig.data[0].x) == list(d.class_names)
    np.testing.assert_allclose(np.asarray(fig.data[2].y), accs[2])


def test_a_full_comparison_stays_small(comparison: Comparison) -> None:
    figs = [
        compare_metric_figure(comparison, "loss"),
        compare_gradients_figure(comparison),
        compare_units_figure(comparison),
    ]
    assert all(len(f.to_json()) < 60_000 for f in figs)
