"""One entry point for the UI: which datasets can be picked right now, and loading one by
its key. Uploaded files go straight to the loaders (``load_idx_files``, ``load_npz``,
``load_csv``); they have no key here.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from explorer.data.dataset import DataError, Dataset
from explorer.data.digits import load_digits_8x8, load_mnist_sample
from explorer.data.download import load_mnist, mnist_downloaded
from explorer.data.fashion import fashion_mnist_installed, load_fashion_mnist
from explorer.data.toy import (
    DEFAULT_N_POINTS,
    DEFAULT_NOISE,
    DEFAULT_SEED,
    DEFAULT_TRAIN_RATIO,
    TOY_NAMES,
    TOY_TITLES,
    make_toy,
)

BUILTIN_TITLES = {
    "digits-8x8": "Handwritten digits 8×8 (1,797)",
    "mnist-sample": "MNIST sample 28×28 (10,000 real digits)",
    "fashion-mnist": "Fashion-MNIST 28×28 (70,000)",
    "mnist": "MNIST 28×28 (70,000, downloaded)",
}


def available_datasets(cache_dir: Path | None = None) -> dict[str, str]:
    """Key -> title of every dataset that loads on this machine now, in menu order: the 2-D
    sets, the shipped digits, then Fashion-MNIST and full MNIST where they are present."""
    present = {
        "digits-8x8": True,
        "mnist-sample": True,
        "fashion-mnist": fashion_mnist_installed(),
        "mnist": mnist_downloaded(cache_dir),
    }
    builtins = {key: title for key, title in BUILTIN_TITLES.items() if present[key]}
    return {**TOY_TITLES, **builtins}


def load_dataset(
    key: str,
    *,
    n_points: int = DEFAULT_N_POINTS,
    noise: float = DEFAULT_NOISE,
    train_ratio: float = DEFAULT_TRAIN_RATIO,
    seed: int = DEFAULT_SEED,
    cache_dir: Path | None = None,
) -> Dataset:
    """The dataset called ``key`` (see ``available_datasets``). The point count, noise, train
    ratio and seed shape the 2-D sets; the image sets are fixed and ignore them."""
    if key in TOY_NAMES:
        return make_toy(key, n_points=n_points, noise=noise, train_ratio=train_ratio, seed=seed)
    loaders: dict[str, Callable[[], Dataset]] = {
        "digits-8x8": load_digits_8x8,
        "mnist-sample": load_mnist_sample,
        "fashion-mnist": load_fashion_mnist,
        "mnist": lambda: load_mnist(cache_dir),
    }
    if key not in loaders:
        raise DataError(f"There is no dataset called {key!r}.")
    return loaders[key]()
