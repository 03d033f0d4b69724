"""Compare-page benchmark: whole comparisons, training plus every result figure.

Two cases, each four variants (sigmoid, tanh, ReLU, GELU hidden layers) from one base:
2-8-8-1 on the 2-D circle for 500 steps (target <= 2 s), and 784-16-16-10 on the shipped MNIST
sample for one epoch at the sidebar's default batch of 10, 800 steps (target <= 3 s). A case's
time covers ``run_comparison`` (fast path, recording included) and building every figure the
page shows, serialised to JSON as Streamlit sends it. Medians of ``--repeats`` runs.
Prints a table and one JSON line. Not part of the test run.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time
from dataclasses import dataclass

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
from explorer.data import Dataset, load_dataset
from explorer.figures import (
    compare_boundaries_figure,
    compare_class_accuracy_figure,
    compare_gradients_figure,
    compare_histograms_figure,
    compare_metric_figure,
    compare_units_figure,
)
from explorer.state.settings import Settings

ACTIVATIONS = ("sigmoid", "tanh", "relu", "gelu")


@dataclass(frozen=True)
class Case:
    name: str
    base: Settings
    steps: int
    target_s: float


def figures(c: Comparison) -> int:
    """Every result figure of the page, as JSON; returns the total size in bytes."""
    d = c.dataset
    runs = c.runs
    figs = [
        compare_metric_figure(c, "loss"),
        compare_metric_figure(c, "accuracy"),
        compare_gradients_figure(c),
        compare_units_figure(c),
        compare_histograms_figure(runs, [hidden_outputs(r, d) for r in runs]),
    ]
    if d.n_features == 2:
        grid = data_grid(d)
        values = [decision_values(r, grid) for r in runs]
        titles = [r.label for r in runs]
        figs.append(
            compare_boundaries_figure(titles, grid, values, d.x_train, d.y_train, binary=True)
        )
    else:
        accs = [class_accuracy(r, d) for r in runs]
        figs.append(compare_class_accuracy_figure([r.label for r in runs], d.class_names, accs))
    return sum(len(f.to_json()) for f in figs)


def measure(case: Case, dataset: Dataset, repeats: int) -> dict[str, float]:
    variants = variants_of([vary(case.base, activation=a) for a in ACTIVATIONS])
    train, draw, total = [], [], []
    size = 0
    for _ in range(repeats):
        t0 = time.perf_counter()
        c = run_comparison(variants, dataset, case.steps)
        t1 = time.perf_counter()
        size = figures(c)
        t2 = time.perf_counter()
        train.append(t1 - t0)
        draw.append(t2 - t1)
        total.append(t2 - t0)
    return {
        "train_s": statistics.median(train),
        "figures_s": statistics.median(draw),
        "total_s": statistics.median(total),
        "figures_kb": size / 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    toy = Settings(dataset="circle", hidden_sizes=(8, 8))
    mnist = Settings(
        dataset="mnist-sample",
        hidden_sizes=(16, 16),
        hidden_activations=("relu", "relu"),
        head="softmax + cross-entropy",
        learning_rate=0.1,
    )
    mnist_data = load_dataset("mnist-sample")
    cases = [
        (Case("2-8-8-1 circle, 4 x 500 steps", toy, 500, 2.0), load_dataset("circle")),
        (
            Case(
                "784-16-16-10 MNIST, 4 x 1 epoch",
                mnist,
                math.ceil(len(mnist_data.x_train) / mnist.batch_size),
                3.0,
            ),
            mnist_data,
        ),
    ]
    results = {}
    print(f"{'case':<34}{'train s':>9}{'figures s':>11}{'total s':>9}{'target':>8}{'KB':>8}")
    for case, dataset in cases:
        r = measure(case, dataset, args.repeats)
        results[case.name] = {**r, "steps": case.steps, "target_s": case.target_s}
        print(
            f"{case.name:<34}{r['train_s']:>9.3f}{r['figures_s']:>11.3f}{r['total_s']:>9.3f}"
            f"{case.target_s:>8.1f}{r['figures_kb']:>8.0f}"
        )
    within = all(v["total_s"] <= v["target_s"] for v in results.values())
    print(
        json.dumps(
            {"bench": "compare", "repeats": args.repeats, "within_targets": within, **results}
        )
    )


if __name__ == "__main__":
    main()
