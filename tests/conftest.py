"""Shared test helpers: small random networks and data with explicit Generators; and every
figure any test builds (directly or through a page) is checked against plotly's validators,
which the app skips for speed (explorer/figures/build.py)."""

from __future__ import annotations

import dataclasses
import importlib
import json
import pkgutil
import re
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest

import explorer.figures
from explorer.engine import LayerSpec, NetworkSpec, Params, encode_targets
from explorer.figures import build
from explorer.figures.network import LABEL_TRACE

_FIGURE = build.figure


def graph_labels(fig: go.Figure, position: str | None = None) -> list[str]:
    """The network graph's words (its labels trace), those at ``position`` if given."""
    labels = next(t for t in fig.data if t.name == LABEL_TRACE)
    at = labels.textposition
    return [str(t) for t, p in zip(labels.text, at, strict=True) if position in (None, p)]


def validated_figure(data: Sequence[dict[str, Any]], layout: dict[str, Any]) -> go.Figure:
    """``build.figure``, once plotly's full validation of the same dicts has passed (an
    unknown property or a bad value raises ValueError naming it) and changed nothing the
    browser would get: validation resolves names (a colour scale's) that plotly.js reads
    differently, so a figure must not lean on it."""
    fig = _FIGURE(data, layout)
    sent = json.loads(pio.to_json(fig, validate=False))
    checked = json.loads(pio.to_json(go.Figure(fig.to_dict()), validate=False))
    assert sent == checked, f"validation changes {_first_difference(sent, checked)}"
    return fig


def _first_difference(a: Any, b: Any, path: str = "") -> str:
    """Where two JSON values first differ, as a path with both values."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            if a.get(key) != b.get(key):
                return _first_difference(a.get(key), b.get(key), f"{path}.{key}")
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            if x != y:
                return _first_difference(x, y, f"{path}[{i}]")
    return f"{path}: {str(a)[:120]} -> {str(b)[:120]}"


@pytest.fixture(autouse=True, scope="session")
def _validate_figures() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as mp:
        for info in pkgutil.iter_modules(explorer.figures.__path__):
            module = importlib.import_module(f"explorer.figures.{info.name}")
            if module is not build and getattr(module, "figure", None) is _FIGURE:
                mp.setattr(module, "figure", validated_figure)
        yield


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


def shown(markdown: str) -> str:
    """What an alert whose text went through ``explorer.ui.guard.plain`` reads on screen."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown).replace("\u2060", "")


def same_arrays(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b)


def same_params(a: Params | None, b: Params | None) -> bool:
    if a is None or b is None:
        return a is b
    return all(
        same_arrays(u, v)
        for u, v in zip((*a.weights, *a.biases), (*b.weights, *b.biases), strict=True)
    )


def assert_same_state(got: object, want: object, where: str = "state") -> None:
    """Equal field by field (an MLP's or a CNN's state, or any part of one); arrays equal bit
    for bit and of the same dtype."""
    if isinstance(want, np.ndarray):
        assert isinstance(got, np.ndarray) and got.dtype == want.dtype, where
        assert np.array_equal(got, want), where
    elif dataclasses.is_dataclass(want) and not isinstance(want, type):
        assert type(got) is type(want), where
        for f in dataclasses.fields(want):
            assert_same_state(getattr(got, f.name), getattr(want, f.name), f"{where}.{f.name}")
    elif isinstance(want, tuple | list):
        assert type(got) is type(want) and len(got) == len(want), where
        for i, (u, v) in enumerate(zip(got, want, strict=True)):
            assert_same_state(u, v, f"{where}[{i}]")
    else:
        assert got == want, where
