"""The Generalisation page's numbers. First its default run and smaller training splits: the
lesson's 784-16-16-10 on the MNIST sample for 15 epochs, train and test accuracy at the end and
the seconds the run takes (evaluation after every epoch included: what the student waits for).
Then our numbers against published ones: each recipe of ``explorer.analysis.generalise``
(784-100-10 on
Fashion-MNIST, 784-16-16-10 on full MNIST: ReLU, Adam 1e-3, batches of 64, 10 epochs) trained
on our engine's fast path and by scikit-learn's MLPClassifier of the same shape, on the same
rows and mini-batches, in one run: both test accuracies, both training times (evaluation
excluded) and their ratio. A recipe whose data is not on this machine is reported as missing
(Fashion-MNIST: Debian's dataset-fashion-mnist; full MNIST: the Full training page's
download). Medians of ``--repeats`` runs, each from seeds 0, 1, ... Prints a table and one
JSON line. Not part of the test run; set OMP_NUM_THREADS=1 on a small, shared CPU.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from explorer.analysis.generalise import (
    DEFAULT_EPOCHS,
    LESSON_SETTINGS,
    RECIPES,
    Check,
    Recipe,
    curves,
    split_sizes,
    start_training,
)
from explorer.data import DataError, available_datasets, load_dataset


def page_runs(repeats: int) -> list[dict[str, object]]:
    d = load_dataset("mnist-sample")
    rows: list[dict[str, object]] = []
    for split in split_sizes(d):
        seconds = []
        for _ in range(repeats):
            started = time.perf_counter()
            job = start_training(LESSON_SETTINGS, d, split=split, epochs=DEFAULT_EPOCHS)
            while job.running:
                job.run_epoch()
            seconds.append(time.perf_counter() - started)
        c = curves(job)
        rows.append(
            {
                "train_digits": split,
                "epochs": DEFAULT_EPOCHS,
                "train_accuracy": round(c.train[-1], 4),
                "test_accuracy": round(c.test[-1], 4),
                "seconds": round(statistics.median(seconds), 2),
            }
        )
    return rows


def measure(recipe: Recipe, repeats: int) -> dict[str, object]:
    if recipe.dataset not in available_datasets():
        return {"recipe": recipe.title, "missing": f"{recipe.dataset} is not on this machine"}
    try:
        d = load_dataset(recipe.dataset)
    except DataError as exc:
        return {"recipe": recipe.title, "missing": str(exc)}
    results = []
    for seed in range(repeats):
        check = Check(recipe, d, seed=seed)
        check.run()
        results.append(check.result())

    def median(values: list[float]) -> float:
        return statistics.median(values)

    return {
        "recipe": recipe.title,
        "train_rows": len(d.x_train),
        "test_rows": len(d.x_test),
        "epochs": recipe.epochs,
        "ours_accuracy": round(median([r.ours for r in results]), 4),
        "sklearn_accuracy": round(median([r.theirs for r in results]), 4),
        "ours_seconds": round(median([r.ours_seconds for r in results]), 2),
        "sklearn_seconds": round(median([r.theirs_seconds for r in results]), 2),
        "ratio": round(median([r.ratio for r in results]), 2),
        "published": recipe.published,
        "repeats": repeats,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    runs = page_runs(args.repeats)
    print(f"{'784-16-16-10, MNIST sample':<30} {'train':>7} {'test':>8} {'seconds':>8}")
    for run in runs:
        print(
            f"{run['train_digits']:>12,} training digits {run['train_accuracy']:>7.1%} "
            f"{run['test_accuracy']:>8.1%} {run['seconds']:>8.2f}"
        )
    print()
    rows = [measure(recipe, args.repeats) for recipe in RECIPES]
    print(
        f"{'recipe':<30} {'ours':>7} {'sklearn':>8} {'ours s':>7} {'sklearn s':>9} "
        f"{'ratio':>6}  published"
    )
    for row in rows:
        if "missing" in row:
            print(f"{row['recipe']:<30} not measured: {row['missing']}")
            continue
        print(
            f"{row['recipe']:<30} {row['ours_accuracy']:>7.2%} {row['sklearn_accuracy']:>8.2%} "
            f"{row['ours_seconds']:>7.1f} {row['sklearn_seconds']:>9.1f} {row['ratio']:>6.2f}  "
            f"{row['published']}"
        )
    print(json.dumps({"bench": "generalise", "page": runs, "checks": rows}))


if __name__ == "__main__":
    main()
