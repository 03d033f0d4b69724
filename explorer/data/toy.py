"""The 2-D sets of TensorFlow Playground (``src/dataset.ts``), plus two moons.

Classification: circle, xor, gaussian (two Gaussians), spiral, moons; regression: plane,
multi-gaussian. Points lie roughly in [-6, 6]², the square the Playground plots. As there,
noise mostly perturbs the point used to compute the label (so labels near a boundary
flip) rather than the drawn position; the spiral jitters positions, and moons (not in the
Playground) adds Gaussian jitter. Classification labels follow the Playground's colours:
class 0 is its orange (-1), class 1 its blue (+1). Regression targets lie roughly in [-1, 1].

Everything is drawn from one ``np.random.default_rng(seed)``: same parameters, same points.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from explorer.data.dataset import DataError, Dataset

CLASSIFICATION_NAMES = ("circle", "xor", "gaussian", "spiral", "moons")
REGRESSION_NAMES = ("plane", "multi-gaussian")
TOY_NAMES = CLASSIFICATION_NAMES + REGRESSION_NAMES
TOY_TITLES = {
    "circle": "Circle",
    "xor": "Exclusive or",
    "gaussian": "Two Gaussians",
    "spiral": "Spiral",
    "moons": "Two moons",
    "plane": "Plane (regression)",
    "multi-gaussian": "Multi-Gaussian (regression)",
}
CLASS_NAMES = ("orange", "blue")

N_POINTS_RANGE = (10, 10_000)
NOISE_RANGE = (0.0, 0.5)
TRAIN_RATIO_RANGE = (0.1, 0.9)
DEFAULT_N_POINTS = 500
DEFAULT_NOISE = 0.0
DEFAULT_TRAIN_RATIO = 0.5
DEFAULT_SEED = 0

Points = npt.NDArray[np.float64]
_Make = Callable[[np.random.Generator, int, float], tuple[Points, Points]]


def make_toy(
    name: str,
    *,
    n_points: int = DEFAULT_N_POINTS,
    noise: float = DEFAULT_NOISE,
    train_ratio: float = DEFAULT_TRAIN_RATIO,
    seed: int = DEFAULT_SEED,
) -> Dataset:
    """A 2-D Dataset; ``noise`` and ``train_ratio`` are fractions (0.3 means 30%)."""
    _check_params(name, n_points, noise, train_ratio, seed)
    rng = np.random.default_rng(seed)
    points, targets = _GENERATORS[name](rng, n_points, noise)
    # As the Playground does: shuffle, then the first train_ratio of the points train.
    order = rng.permutation(n_points)
    n_train = round(n_points * train_ratio)
    train, test = order[:n_train], order[n_train:]
    x = points.astype(np.float32)
    regression = name in REGRESSION_NAMES
    y = targets.astype(np.float32) if regression else (targets > 0).astype(np.int64)
    return Dataset(
        name=TOY_TITLES[name],
        x_train=x[train],
        y_train=y[train],
        x_test=x[test],
        y_test=y[test],
        input_shape=(2,),
        class_names=() if regression else CLASS_NAMES,
        task="regression" if regression else "classification",
        provenance=(
            f"Generated: {TOY_TITLES[name]}, {n_points:,} points, noise {noise:.0%}, "
            f"{train_ratio:.0%} for training, seed {seed}; after TensorFlow Playground."
        ),
    )


def _check_params(name: str, n_points: int, noise: float, train_ratio: float, seed: int) -> None:
    if name not in _GENERATORS:
        raise DataError(f"There is no 2-D dataset called {name!r}; choose one of {TOY_NAMES}.")
    low, high = N_POINTS_RANGE
    if not _whole(n_points) or not low <= n_points <= high:
        raise DataError(f"The number of points must be a whole number from {low} to {high:,}.")
    if not NOISE_RANGE[0] <= noise <= NOISE_RANGE[1]:
        raise DataError(f"Noise must be between 0% and 50%; got {noise:.0%}.")
    if not TRAIN_RATIO_RANGE[0] <= train_ratio <= TRAIN_RATIO_RANGE[1]:
        raise DataError(
            f"The share of points used for training must be between 10% and 90%; "
            f"got {train_ratio:.0%}."
        )
    if not _whole(seed) or seed < 0:
        raise DataError("The seed must be a whole number, 0 or more.")


def _whole(value: object) -> bool:
    # NumPy integers count (a value may come from an array); True and False do not.
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _circle(rng: np.random.Generator, n: int, noise: float) -> tuple[Points, Points]:
    radius = 5.0
    n_in = n // 2
    # Half the points inside radius 2.5, half in the ring from 3.5 to 5.
    r = np.concatenate(
        [rng.uniform(0, radius * 0.5, n_in), rng.uniform(radius * 0.7, radius, n - n_in)]
    )
    angle = rng.uniform(0, 2 * math.pi, n)
    points = np.column_stack([r * np.sin(angle), r * np.cos(angle)])
    noisy = points + rng.uniform(-radius, radius, (n, 2)) * noise
    return points, np.where(np.hypot(noisy[:, 0], noisy[:, 1]) < radius * 0.5, 1.0, -1.0)


def _xor(rng: np.random.Generator, n: int, noise: float) -> tuple[Points, Points]:
    points = rng.uniform(-5, 5, (n, 2))
    # Pushing points 0.3 away from the axes leaves a visible gap between the quadrants.
    points += np.where(points > 0, 0.3, -0.3)
    noisy = points + rng.uniform(-5, 5, (n, 2)) * noise
    return points, np.where(noisy[:, 0] * noisy[:, 1] >= 0, 1.0, -1.0)


def _gaussian(rng: np.random.Generator, n: int, noise: float) -> tuple[Points, Points]:
    # The Playground maps noise 0..50% linearly to a variance of 0.5..4.
    std = math.sqrt(0.5 + noise / 0.5 * 3.5)
    n_blue = n // 2
    targets = np.concatenate([np.ones(n_blue), -np.ones(n - n_blue)])
    centres = np.where(targets[:, None] > 0, 2.0, -2.0)
    return centres + rng.normal(0, std, (n, 2)), targets


def _spiral(rng: np.random.Generator, n: int, noise: float) -> tuple[Points, Points]:
    n_blue = n // 2
    sizes = (n_blue, n - n_blue)
    parts = []
    for size, delta in zip(sizes, (0.0, math.pi), strict=True):
        fraction = np.arange(size) / size
        r = fraction * 5
        # 1.75 turns over the radius; the second arm is the first turned by half a turn.
        t = 1.75 * fraction * 2 * math.pi + delta
        parts.append(np.column_stack([r * np.sin(t), r * np.cos(t)]))
    points = np.concatenate(parts) + rng.uniform(-1, 1, (n, 2)) * noise
    return points, np.concatenate([np.ones(sizes[0]), -np.ones(sizes[1])])


def _moons(rng: np.random.Generator, n: int, noise: float) -> tuple[Points, Points]:
    n_upper = n // 2
    t = rng.uniform(0, math.pi, n)
    upper = np.arange(n) < n_upper
    # scikit-learn's make_moons shape: the upper arc, and the lower one shifted by (1, -0.5).
    points = np.where(
        upper[:, None],
        np.column_stack([np.cos(t), np.sin(t)]),
        np.column_stack([1 - np.cos(t), 0.5 - np.sin(t)]),
    )
    # Centre on the origin and scale by 3 to fill about [-4.5, 4.5] × [-2.3, 2.3].
    points = (points - [0.5, 0.25]) * 3 + rng.normal(0, 2 * noise, (n, 2))
    return points, np.where(upper, -1.0, 1.0)


def _plane(rng: np.random.Generator, n: int, noise: float) -> tuple[Points, Points]:
    radius = 6.0
    points = rng.uniform(-radius, radius, (n, 2))
    noisy = points + rng.uniform(-radius, radius, (n, 2)) * noise
    # x + y spans [-12, 12]; the Playground scales [-10, 10] to [-1, 1].
    return points, noisy.sum(axis=1) / 10


def _multi_gaussian(rng: np.random.Generator, n: int, noise: float) -> tuple[Points, Points]:
    radius = 6.0
    centres = np.array([[-4, 2.5], [0, 2.5], [4, 2.5], [-4, -2.5], [0, -2.5], [4, -2.5]])
    signs = np.array([1, -1, 1, -1, 1, -1])
    points = rng.uniform(-radius, radius, (n, 2))
    noisy = points + rng.uniform(-radius, radius, (n, 2)) * noise
    distances = np.linalg.norm(noisy[:, None, :] - centres[None, :, :], axis=2)
    # Each bump falls from ±1 at its centre to 0 at distance 2; the strongest bump wins.
    bumps = signs * np.clip(1 - distances / 2, 0, 1)
    strongest = np.abs(bumps).argmax(axis=1)
    return points, bumps[np.arange(n), strongest]


_GENERATORS: dict[str, _Make] = {
    "circle": _circle,
    "xor": _xor,
    "gaussian": _gaussian,
    "spiral": _spiral,
    "moons": _moons,
    "plane": _plane,
    "multi-gaussian": _multi_gaussian,
}
