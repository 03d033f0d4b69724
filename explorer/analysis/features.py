"""Hand-made versus learned features on the digits: three pipelines on one train/test split.

- **Hand-made features + logistic regression**: the classic pipeline. A person decides what to
  measure (ink per region of a coarse grid, ink per row and column, stroke directions per
  quadrant, a few shape measures such as enclosed holes and symmetry), NumPy computes it (the
  holes with SciPy's hole filling), and scikit-learn's ``LogisticRegression`` learns only how
  to weigh those numbers.
- **Raw pixels + logistic regression**: the same classifier on every pixel, no features.
- **MLP on raw pixels**: the engine's network, trained on the fast path; its first layer finds
  its own features, whose weight images the page shows beside the hand-made maps.

Every pipeline is deterministic for a dataset and a seed. Hand-made features are
standardised on the training rows only (the test rows never shape a choice). scikit-learn and
SciPy are imported only when used: they are slow to import. Left out: streamlit and drawing.
"""

from __future__ import annotations

import itertools
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from explorer.data import Dataset
from explorer.engine import (
    LayerSpec,
    NetworkSpec,
    TrainConfig,
    encode_targets,
    epoch_batches,
    forward,
    init_opt_state,
    init_params,
    predict_classes,
    train_steps,
)
from explorer.engine.types import Array

Images = npt.NDArray[np.float32]  # (n, height, width), ink in [0, 1]
GRID = 4  # the coarse grid's cells a side
MAX_ITER = 50  # logistic regression's iterations: under 1 s on the MNIST sample (pixels)
C = 1.0  # logistic regression's inverse L2 strength (scikit-learn's default)
MLP_RECIPE = TrainConfig(optimizer="adam", learning_rate=0.01, batch_size=64)
MLP_EPOCHS = {"digits-8x8": 30, "mnist-sample": 8}  # under 0.5 s each (bench/RESULTS.md)
MLP_OUTPUT = "softmax"  # the output layer, with cross-entropy: the same model as multinomial LR


# -- the feature families ----------------------------------------------------------------------
def ink_grid(images: Images) -> Images:
    """Mean ink in each cell of a GRID x GRID grid, row by row: (n, GRID * GRID)."""
    h, w = images.shape[1:]
    cells = [images[:, r, c].mean(axis=(1, 2)) for r in _bands(h, GRID) for c in _bands(w, GRID)]
    return np.stack(cells, axis=1).astype(np.float32)


def profiles(images: Images) -> Images:
    """Mean ink along each row, then each column: (n, height + width)."""
    return np.concatenate([images.mean(axis=2), images.mean(axis=1)], axis=1).astype(np.float32)


def _bands(n: int, parts: int) -> list[slice]:
    """``parts`` contiguous slices covering range(n), as even as can be."""
    edges = np.linspace(0, n, parts + 1).round().astype(int)
    return [slice(int(a), int(b)) for a, b in itertools.pairwise(edges)]


def _edges(images: Images) -> dict[str, Images]:
    """How much the ink changes from each pixel to its neighbour in four directions:
    a change going down marks a horizontal stroke. Each (n, h - 1 or h, w - 1 or w)."""
    return {
        "horizontal": np.abs(images[:, 1:, :] - images[:, :-1, :]),
        "vertical": np.abs(images[:, :, 1:] - images[:, :, :-1]),
        "falling \\": np.abs(images[:, 1:, 1:] - images[:, :-1, :-1]),
        "rising /": np.abs(images[:, 1:, :-1] - images[:, :-1, 1:]),
    }


def stroke_maps(images: Images) -> dict[str, Images]:
    """Each stroke direction's strength per pixel, (n, h, w), zero-padded at the far edge."""
    h, w = images.shape[1:]
    return {
        name: np.pad(m, ((0, 0), (0, h - m.shape[1]), (0, w - m.shape[2])))
        for name, m in _edges(images).items()
    }


def strokes(images: Images) -> Images:
    """Each stroke direction's mean strength in each quadrant: (n, 4 directions * 4)."""
    parts = [
        m[:, r, c].mean(axis=(1, 2))
        for m in _edges(images).values()
        for r in _bands(m.shape[1], 2)
        for c in _bands(m.shape[2], 2)
    ]
    return np.stack(parts, axis=1).astype(np.float32)


def holes(images: Images, threshold: float = 0.3) -> Images:
    """Background pixels the ink encloses (those no path of background, 4-connected, reaches
    from the border), per pixel: a 0 or a 6 has one hole, an 8 two, a 1 none."""
    from scipy import ndimage

    ink = images >= threshold
    within_one_image = np.zeros((3, 3, 3), dtype=bool)  # never across the batch axis
    within_one_image[1] = ndimage.generate_binary_structure(2, 1)
    filled = ndimage.binary_fill_holes(ink, structure=within_one_image)
    return (filled & ~ink).astype(np.float32)


def shape_measures(images: Images) -> Images:
    """Eight numbers per digit: total ink, the ink's centre (x, y) and spread (x, y), the
    share of the image enclosed as holes, its upper half's share of the holes, and how far
    the digit is from its mirror image (left-right): (n, 8)."""
    h, w = images.shape[1:]
    ink = images.sum(axis=(1, 2)) + 1e-6
    ys = (np.arange(h, dtype=np.float32) + 0.5) / h
    xs = (np.arange(w, dtype=np.float32) + 0.5) / w
    cy = (images.sum(axis=2) @ ys) / ink
    cx = (images.sum(axis=1) @ xs) / ink
    sy = np.sqrt(np.maximum((images.sum(axis=2) @ ys**2) / ink - cy**2, 0))
    sx = np.sqrt(np.maximum((images.sum(axis=1) @ xs**2) / ink - cx**2, 0))
    enclosed = holes(images)
    area = enclosed.sum(axis=(1, 2))
    upper = enclosed[:, : h // 2].sum(axis=(1, 2)) / np.maximum(area, 1)
    mirror = np.abs(images - images[:, :, ::-1]).mean(axis=(1, 2))
    columns = [ink / (h * w), cx, cy, sx, sy, area / (h * w), upper, mirror]
    return np.stack(columns, axis=1).astype(np.float32)


@dataclass(frozen=True)
class Family:
    """One family of hand-made features: what it measures, and how."""

    title: str
    describe: str
    compute: Callable[[Images], Images]


FAMILIES: dict[str, Family] = {
    "grid": Family(
        "Ink per region",
        f"the mean ink in each cell of a {GRID}×{GRID} grid",
        ink_grid,
    ),
    "profiles": Family(
        "Row and column profiles",
        "the mean ink along every row and every column",
        profiles,
    ),
    "strokes": Family(
        "Stroke directions",
        "how much horizontal, vertical and diagonal edge there is in each quadrant",
        strokes,
    ),
    "shape": Family(
        "Shape measures",
        "total ink, centre and spread of the ink, enclosed holes, left-right symmetry",
        shape_measures,
    ),
}


def images_of(x: Array, shape: tuple[int, ...]) -> Images:
    """Flattened rows (n, h * w) back to images (n, h, w), float32."""
    return np.asarray(x, dtype=np.float32).reshape(len(x), shape[0], shape[1])


def feature_maps(image: Array, families: Sequence[str]) -> list[tuple[str, Array]]:
    """What the chosen families look at on one digit (h, w), as titled images: the coarse
    grid's ink, the row and column profiles spread back over the image, each stroke
    direction's map, and the enclosed holes."""
    digit = np.asarray(image, dtype=np.float32)
    h, w = digit.shape
    maps: list[tuple[str, Array]] = []
    if "grid" in families:
        coarse = np.empty((h, w), dtype=np.float32)
        for r in _bands(h, GRID):
            for c in _bands(w, GRID):
                coarse[r, c] = digit[r, c].mean()
        maps.append((f"ink per region ({GRID}×{GRID})", coarse))
    if "profiles" in families:
        maps.append(("row profile", np.repeat(digit.mean(axis=1, keepdims=True), w, axis=1)))
        maps.append(("column profile", np.repeat(digit.mean(axis=0, keepdims=True), h, axis=0)))
    if "strokes" in families:
        maps.extend((f"{name} strokes", m[0]) for name, m in stroke_maps(digit[None]).items())
    if "shape" in families:
        enclosed = holes(digit[None])[0]
        maps.append(("enclosed holes" if enclosed.any() else "enclosed holes (none)", enclosed))
    return maps


# -- the pipelines -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Outcome:
    """One pipeline's result on the test set.

    name: which pipeline, in the page's words; n_features: what the classifier saw per digit;
    confusion: (n_classes, n_classes) counts, row = true, column = predicted; seconds: the
    time it took (the features included, unless they were handed over computed); weights:
    for the MLP, its first layer's W (n_in, n_units), None without a hidden layer; for
    logistic regression on pixels, its coefficients (n_in, n_classes); None otherwise.
    """

    name: str
    n_features: int
    accuracy: float
    confusion: npt.NDArray[np.int64]
    seconds: float
    weights: Array | None = None


HAND = "Hand-made features + logistic regression"
PIXELS = "Raw pixels + logistic regression"
MLP = "MLP on raw pixels"


def _confusion(y: Array, predicted: Array, n_classes: int) -> npt.NDArray[np.int64]:
    flat = np.bincount(y * n_classes + predicted, minlength=n_classes * n_classes)
    return flat.reshape(n_classes, n_classes).astype(np.int64)


def _logistic(
    f_train: Images, f_test: Images, d: Dataset, seed: int, *, standardise: bool
) -> tuple[Array, Array]:
    """Multinomial logistic regression fitted on f_train: its test predictions and its
    coefficients (n_features, n_classes). Hand-made features come on different scales and are
    standardised; pixels already share one (0-1), and standardising would blow the nearly
    blank border pixels up into noise."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler(with_mean=standardise, with_std=standardise).fit(f_train)
    model = LogisticRegression(C=C, max_iter=MAX_ITER, random_state=seed)
    with warnings.catch_warnings():
        # MAX_ITER bounds the time on purpose; the fit stops a little short of its tolerance
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(scaler.transform(f_train), d.y_train)
    predicted = np.asarray(model.predict(scaler.transform(f_test)))
    return predicted, np.asarray(model.coef_, dtype=np.float32).T


def _outcome(
    name: str, n_features: int, d: Dataset, predicted: Array, started: float, weights: Array | None
) -> Outcome:
    confusion = _confusion(np.asarray(d.y_test), predicted, d.n_classes)
    accuracy = float(np.trace(confusion)) / len(d.y_test)
    return Outcome(name, n_features, accuracy, confusion, time.perf_counter() - started, weights)


FeaturePair = tuple[Images, Images]  # (train, test)


def family_features(d: Dataset, name: str) -> FeaturePair:
    """Family ``name``'s features of the training and the test rows."""
    compute = FAMILIES[name].compute
    return compute(images_of(d.x_train, d.input_shape)), compute(images_of(d.x_test, d.input_shape))


def hand_made(
    d: Dataset,
    families: Sequence[str],
    seed: int,
    *,
    computed: Callable[[str], FeaturePair] | None = None,
) -> Outcome:
    """Logistic regression on the chosen hand-made feature families, side by side.
    ``computed(name)`` gives a family's features (a cache); by default they are computed."""
    if not families:
        raise ValueError("Choose at least one feature family.")
    started = time.perf_counter()
    get = computed or (lambda name: family_features(d, name))
    pairs = [get(name) for name in families]
    f_train = np.concatenate([train for train, _ in pairs], axis=1)
    f_test = np.concatenate([test for _, test in pairs], axis=1)
    predicted, _ = _logistic(f_train, f_test, d, seed, standardise=True)
    return _outcome(HAND, f_train.shape[1], d, predicted, started, None)


def raw_pixels(d: Dataset, seed: int) -> Outcome:
    """Logistic regression on every pixel; its weights: one template per class."""
    started = time.perf_counter()
    predicted, coef = _logistic(d.x_train, d.x_test, d, seed, standardise=False)
    return _outcome(PIXELS, d.n_features, d, predicted, started, coef)


def mlp_spec(d: Dataset, hidden_sizes: Sequence[int], activations: Sequence[str]) -> NetworkSpec:
    """The network on the raw pixels: the given hidden layers, then softmax + cross-entropy."""
    layers = tuple(LayerSpec(n, a) for n, a in zip(hidden_sizes, activations, strict=True))
    out = LayerSpec(d.n_classes, MLP_OUTPUT)
    return NetworkSpec(d.n_features, (*layers, out), "cross_entropy")


def mlp(
    d: Dataset,
    hidden_sizes: Sequence[int],
    activations: Sequence[str],
    *,
    init: str,
    seed: int,
    epochs: int,
) -> Outcome:
    """The MLP trained on the fast path for ``epochs`` epochs (MLP_RECIPE, float32), from the
    engine's initialisation for ``seed`` and its batch order: the network the Explorer would
    build for these settings, trained the same way every time. Raises the engine's
    NonFiniteError if training overflows."""
    started = time.perf_counter()
    spec = mlp_spec(d, hidden_sizes, activations)
    params = init_params(spec, np.random.default_rng(seed), init, dtype=np.float32)
    state = init_opt_state(params, MLP_RECIPE)
    target = encode_targets(spec, d.y_train, np.float32)
    for epoch in range(epochs):
        batches = epoch_batches(len(d.x_train), MLP_RECIPE.batch_size, seed, epoch)
        done = train_steps(spec, params, state, MLP_RECIPE, d.x_train, target, batches)
        params, state = done.params, done.opt_state
    output = forward(spec, params, np.asarray(d.x_test, dtype=np.float32)).output[-1]
    first = params.weights[0] if len(spec.layers) > 1 else None  # no hidden layer: no features
    return _outcome(MLP, d.n_features, d, predict_classes(output), started, first)
