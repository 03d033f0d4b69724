"""The UI's entry point: what can be picked, and loading each by key."""

from __future__ import annotations

from pathlib import Path

import pytest

from explorer.data import (
    FASHION_MNIST_DIR,
    TOY_NAMES,
    DataError,
    available_datasets,
    load_dataset,
)
from explorer.data import registry as registry_module


def test_toy_sets_and_shipped_digits_are_always_available(tmp_path: Path) -> None:
    keys = list(available_datasets(cache_dir=tmp_path))
    assert keys[: len(TOY_NAMES)] == list(TOY_NAMES)
    assert {"digits-8x8", "mnist-sample"} <= set(keys)
    assert "mnist" not in keys  # nothing downloaded into an empty cache
    assert ("fashion-mnist" in keys) == FASHION_MNIST_DIR.is_dir()


def test_fashion_mnist_is_offered_only_when_installed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(registry_module, "fashion_mnist_installed", lambda: False)
    assert "fashion-mnist" not in available_datasets(cache_dir=tmp_path)
    monkeypatch.setattr(registry_module, "fashion_mnist_installed", lambda: True)
    assert "fashion-mnist" in available_datasets(cache_dir=tmp_path)


@pytest.mark.parametrize("key", TOY_NAMES)
def test_toy_parameters_pass_through(key: str) -> None:
    data = load_dataset(key, n_points=50, noise=0.1, train_ratio=0.6, seed=4)
    assert (len(data.x_train), len(data.x_test)) == (30, 20)
    with pytest.raises(DataError, match="Noise"):
        load_dataset(key, noise=0.9)


@pytest.mark.parametrize(("key", "n_features"), [("digits-8x8", 64), ("mnist-sample", 784)])
def test_shipped_digits_load_by_key(key: str, n_features: int) -> None:
    data = load_dataset(key)
    assert data.n_features == n_features and data.n_classes == 10


def test_unknown_key_is_a_data_error() -> None:
    with pytest.raises(DataError, match="no dataset called 'cifar'"):
        load_dataset("cifar")
