"""Weight initialisers, with torch.nn.init's formulas; biases start at ``bias`` (0 by default).

``zeros`` is there to show the symmetry problem: every hidden unit of a layer computes the
same thing and receives the same gradient, so they never become different.
``uniform`` is the Playground's U(-0.5, 0.5).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from explorer.engine.spec import NetworkSpec, Params, SpecError
from explorer.engine.types import Array

Init = Callable[[np.random.Generator, int, int], Array]


def _zeros(rng: np.random.Generator, fan_in: int, fan_out: int) -> Array:
    return np.zeros((fan_in, fan_out))


def _uniform(rng: np.random.Generator, fan_in: int, fan_out: int) -> Array:
    return rng.uniform(-0.5, 0.5, (fan_in, fan_out))


def _xavier_uniform(rng: np.random.Generator, fan_in: int, fan_out: int) -> Array:
    bound = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-bound, bound, (fan_in, fan_out))


def _xavier_normal(rng: np.random.Generator, fan_in: int, fan_out: int) -> Array:
    return rng.normal(0.0, np.sqrt(2.0 / (fan_in + fan_out)), (fan_in, fan_out))


def _he_uniform(rng: np.random.Generator, fan_in: int, fan_out: int) -> Array:
    # kaiming_uniform_(nonlinearity="relu"): gain sqrt(2), bound gain * sqrt(3 / fan_in)
    bound = np.sqrt(6.0 / fan_in)
    return rng.uniform(-bound, bound, (fan_in, fan_out))


def _he_normal(rng: np.random.Generator, fan_in: int, fan_out: int) -> Array:
    return rng.normal(0.0, np.sqrt(2.0 / fan_in), (fan_in, fan_out))


def _lecun_normal(rng: np.random.Generator, fan_in: int, fan_out: int) -> Array:
    return rng.normal(0.0, np.sqrt(1.0 / fan_in), (fan_in, fan_out))


INITIALIZERS: dict[str, Init] = {
    "zeros": _zeros,
    "uniform": _uniform,
    "xavier_uniform": _xavier_uniform,
    "xavier_normal": _xavier_normal,
    "he_uniform": _he_uniform,
    "he_normal": _he_normal,
    "lecun_normal": _lecun_normal,
}


def init_params(
    spec: NetworkSpec,
    rng: np.random.Generator,
    method: str = "xavier_uniform",
    *,
    bias: float = 0.0,
    dtype: npt.DTypeLike = np.float64,
) -> Params:
    """Fresh parameters for ``spec``, drawn layer by layer from ``rng`` (in float64, then cast,
    so a seed gives the same network in float32 and float64 up to rounding)."""
    if method not in INITIALIZERS:
        known = ", ".join(INITIALIZERS)
        raise SpecError(f"Unknown initialization {method!r}; choose one of {known}.")
    draw = INITIALIZERS[method]
    s = spec.sizes
    weights = tuple(draw(rng, s[i], s[i + 1]).astype(dtype) for i in range(len(s) - 1))
    biases = tuple(np.full(s[i + 1], bias, dtype=dtype) for i in range(len(s) - 1))
    return Params(weights, biases)
