"""Features-page benchmark: each pipeline's test accuracy and time, on both digit sets.

For the 8x8 digits and the MNIST sample: the hand-made features (all four families, train and
test rows), logistic regression on them and on each family alone, logistic regression on the
raw pixels, and the MLP on raw pixels for two shapes (the lesson's 16 ReLU, the classic 16-16
sigmoid), trained as the page trains it (``explorer.analysis.features.MLP_RECIPE``, float32, fast
path).
A fit's time is the best of ``--repeats`` runs; the hand-made fits take their features
precomputed, as the page's cache hands them over. Target: every fit below ~2 s on the MNIST
sample. Prints a table and one JSON line. Not part of the test run.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable

from explorer.analysis.features import (
    FAMILIES,
    MLP_EPOCHS,
    FeaturePair,
    Outcome,
    family_features,
    hand_made,
    mlp,
    raw_pixels,
)
from explorer.data import Dataset, load_dataset

SEED = 0
SHAPES = (((16,), ("relu",), "he_uniform"), ((16, 16), ("sigmoid", "sigmoid"), "xavier_uniform"))


def best(fit: Callable[[], Outcome], repeats: int) -> Outcome:
    return min((fit() for _ in range(repeats)), key=lambda o: o.seconds)


def rows_for(key: str, repeats: int) -> list[dict[str, object]]:
    d: Dataset = load_dataset(key)
    started = time.perf_counter()
    computed: dict[str, FeaturePair] = {name: family_features(d, name) for name in FAMILIES}
    features_s = time.perf_counter() - started
    rows: list[dict[str, object]] = []

    def add(what: str, o: Outcome) -> None:
        rows.append(
            {
                "dataset": key,
                "pipeline": what,
                "features": o.n_features,
                "accuracy": round(o.accuracy, 4),
                "seconds": round(o.seconds, 3),
            }
        )

    rows.append(
        {
            "dataset": key,
            "pipeline": "hand-made features, computed (all families, train + test)",
            "features": sum(pair[0].shape[1] for pair in computed.values()),
            "accuracy": None,
            "seconds": round(features_s, 3),
        }
    )
    for families in (tuple(FAMILIES), *((name,) for name in FAMILIES)):
        label = "all families" if len(families) > 1 else FAMILIES[families[0]].title.lower()
        fit = lambda f=families: hand_made(d, f, SEED, computed=computed.__getitem__)  # noqa: E731
        add(f"hand-made ({label}) + logistic regression", best(fit, repeats))
    add("raw pixels + logistic regression", best(lambda: raw_pixels(d, SEED), repeats))
    for hidden, activations, init in SHAPES:
        o = best(
            lambda h=hidden, a=activations, i=init: mlp(
                d, h, a, init=i, seed=SEED, epochs=MLP_EPOCHS[key]
            ),
            repeats,
        )
        name = "-".join(str(n) for n in (d.n_features, *hidden, d.n_classes))
        add(f"MLP {name} {activations[0]}, {MLP_EPOCHS[key]} epochs", o)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    rows = [row for key in ("digits-8x8", "mnist-sample") for row in rows_for(key, args.repeats)]
    print(f"{'dataset':<13} {'pipeline':<62} {'features':>8} {'accuracy':>9} {'seconds':>8}")
    for r in rows:
        acc = "" if r["accuracy"] is None else f"{r['accuracy']:.1%}"
        print(
            f"{r['dataset']:<13} {r['pipeline']:<62} {r['features']:>8} {acc:>9} "
            f"{r['seconds']:>8.3f}"
        )
    print(json.dumps({"bench": "features", "seed": SEED, "rows": rows}))


if __name__ == "__main__":
    main()
