"""Our numbers against published ones: each recipe of ``explorer.generalise`` (784-100-10 on
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

from explorer.data import DataError, available_datasets, load_dataset
from explorer.generalise import RECIPES, Check, Recipe


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
    print(json.dumps({"bench": "generalise", "rows": rows}))


if __name__ == "__main__":
    main()
