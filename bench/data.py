"""Data-layer benchmark against the targets of the dataset issue: loading the shipped MNIST
sample (<= 100 ms), parsing 60,000 raw IDX images (<= 0.5 s) and a 60,000-row CSV (<= 3 s).

The IDX and CSV files are built in a temporary folder from random MNIST-like images (80%
black pixels, as in MNIST), so the CSV has the size of Kaggle's mnist_train.csv (~110 MB).
Medians of ``--repeats`` runs. Prints a table and one JSON line. Not part of the test run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from explorer.data import encode_idx, load_csv, load_idx_folder, load_mnist_sample

N_IMAGES = 60_000
TARGETS_S = {"mnist_sample": 0.1, "idx_60k": 0.5, "csv_60k": 3.0}


def median_seconds(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def build_files(folder: Path) -> tuple[Path, Path]:
    """An IDX folder (60,000 training and 10,000 test images) and a 60,000-row CSV."""
    rng = np.random.default_rng(0)

    def images(n: int) -> np.ndarray:
        ink = rng.random((n, 28, 28)) < 0.2
        return (ink * rng.integers(1, 256, (n, 28, 28))).astype(np.uint8)

    train, test = images(N_IMAGES), images(10_000)
    train_labels = rng.integers(0, 10, N_IMAGES).astype(np.uint8)
    test_labels = rng.integers(0, 10, 10_000).astype(np.uint8)
    idx_dir = folder / "idx"
    idx_dir.mkdir()
    for file_name, array in {
        "train-images-idx3-ubyte": train,
        "train-labels-idx1-ubyte": train_labels,
        "t10k-images-idx3-ubyte": test,
        "t10k-labels-idx1-ubyte": test_labels,
    }.items():
        (idx_dir / file_name).write_bytes(encode_idx(array))
    csv_path = folder / "mnist_train.csv"
    header = "label," + ",".join(f"pixel{i}" for i in range(784))
    table = np.column_stack([train_labels, train.reshape(N_IMAGES, -1)])
    np.savetxt(csv_path, table, fmt="%d", delimiter=",", header=header, comments="")
    return idx_dir, csv_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        idx_dir, csv_path = build_files(Path(tmp))
        results = {
            "mnist_sample": median_seconds(load_mnist_sample, args.repeats),
            "idx_60k": median_seconds(lambda: load_idx_folder(idx_dir), args.repeats),
            "csv_60k": median_seconds(lambda: load_csv(csv_path), args.repeats),
        }
    print(f"{'case':<14}{'median':>10}{'target':>10}  ok")
    for case, seconds in results.items():
        target = TARGETS_S[case]
        verdict = "yes" if seconds <= target else "NO"
        print(f"{case:<14}{seconds * 1000:>8.1f}ms{target * 1000:>8.0f}ms  {verdict}")
    print(
        json.dumps(
            {
                "bench": "data",
                "repeats": args.repeats,
                "median_s": {case: round(s, 4) for case, s in results.items()},
                "target_s": TARGETS_S,
                "all_within_target": all(results[c] <= TARGETS_S[c] for c in results),
            }
        )
    )


if __name__ == "__main__":
    main()
