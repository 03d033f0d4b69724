"""Shared test helpers: small random networks and data with explicit Generators."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.engine import LayerSpec, NetworkSpec, encode_targets


def make_data(
    spec: NetworkSpec, batch: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Inputs ~ N(0, 1) and targets that suit the spec's loss (already encoded)."""
    x = rng.normal(size=(batch, spec.input_size))
    n_out = spec.layers[-1].size
    if spec.loss == "cross_entropy":
        y = rng.integers(0, n_out, size=batch)
    elif spec.loss == "binary_cross_entropy":
        y = rng.integers(0, 2, size=(batch, n_out)).astype(np.float64)
    else:
        y = rng.normal(size=(batch, n_out))
    return x, encode_targets(spec, y)


def net(sizes: tuple[int, ...], hidden: str, output: str, loss: str) -> NetworkSpec:
    layers = (*tuple(LayerSpec(n, hidden) for n in sizes[1:-1]), LayerSpec(sizes[-1], output))
    return NetworkSpec(sizes[0], layers, loss)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)
