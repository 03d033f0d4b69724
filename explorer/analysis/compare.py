"""Side-by-side training: variants that differ in a few settings, trained on the same data from
the same initial weights in the same batch order, and what to record about them.

A ``Variant`` is a labelled ``Settings``; the variants of one comparison share the data (and the
seed, unless it is what they vary), and ``run_comparison`` makes "everything else identical"
hold by construction:
initial parameters are drawn once per (layer sizes, initialisation, seed) and the same arrays are
handed to every variant that matches (an activation, learning-rate or optimizer change), and the
mini-batch schedule is built once per (batch size, seed) and shared. Variants train round-robin
in chunks on the fast path (float32), so progress can be reported, a stop leaves every variant at
the same step, and a diverging variant stops alone with its last finite network.

At the end of each chunk a ``Record`` keeps what the views need: train/test loss and accuracy,
the gradient norm per layer, the share of dead ReLU units and of saturated sigmoid/tanh units.
The fast path keeps no per-layer gradients, so the training-side numbers come from one traced
pass (forward, error, backward) on a fixed probe batch, the first PROBE_ROWS training rows: the
same rows for every variant and every record, and the fast path itself is untouched.

Left out: streamlit and plotly (``explorer.ui.compare_view`` and ``explorer.figures.compare``
draw all this), variants that differ in their data, and the traced Stepper (a variant is opened
in the Explorer for that).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from explorer.data import Dataset
from explorer.engine import (
    ForwardTrace,
    NetworkSpec,
    NonFiniteError,
    OptState,
    Params,
    TrainConfig,
    backward,
    encode_targets,
    epoch_batches,
    error,
    forward,
    init_opt_state,
    init_params,
    predict_classes,
    train_steps,
)
from explorer.engine.types import Array
from explorer.state.settings import MAX_HIDDEN_LAYERS, Settings

MIN_VARIANTS, MAX_VARIANTS = 2, 4
# Rows of each set a record measures: the first PROBE_ROWS training rows are the fixed probe
# batch (train loss and accuracy, gradients, dead and saturated units), as many test rows give
# the test loss and accuracy. Enough to be stable, few enough to record often (a record of
# 784-16-16-10 costs about as much as 40 training steps at batch 10).
PROBE_ROWS = 500
RECORDS = 50  # recording points per run, about (plus the start)
# |z| beyond which a unit counts as saturated: there f'(z) is under 7% of its peak
# (sigmoid'(4) = 0.018 of 0.25, tanh'(2) = 0.071 of 1), so gradients through it all but stop.
SATURATION_Z = {"sigmoid": 4.0, "tanh": 2.0}
DATA_FIELDS = tuple(f.name for f in fields(Settings) if f.metadata["group"] == "data")
# Settings fields a label may mention, with how to show a value (activations and sizes apart).
_LABELLED: dict[str, Callable[[Any], str]] = {
    "head": str,
    "init": lambda v: f"{v} init",
    "optimizer": str,
    "learning_rate": lambda v: f"lr {v:g}",
    "batch_size": lambda v: f"batch {v}",
    "l1": lambda v: f"L1 {v:g}",
    "l2": lambda v: f"L2 {v:g}",
    "momentum": lambda v: f"momentum {v:g}",
    "seed": lambda v: f"seed {v}",
}


@dataclass(frozen=True)
class Variant:
    """One side of a comparison: a label and the full settings it trains with."""

    label: str
    settings: Settings


@dataclass(frozen=True)
class Preset:
    """A ready-made comparison that demonstrates one effect, and where to see it."""

    key: str
    title: str
    explanation: str
    look_at: str
    base: Settings
    variants: tuple[Variant, ...]
    steps: int


@dataclass(frozen=True)
class Record:
    """One variant at one step. ``grad_norms[l]``: |dL/dW_l| (Frobenius) on the probe batch;
    ``dead``: share of ReLU hidden units whose z <= 0 on every probe row (None without ReLU);
    ``saturated``: share of (row, unit) pairs of sigmoid/tanh hidden units with |z| beyond
    SATURATION_Z (None without such units). Accuracies are None for regression."""

    step: int
    train_loss: float
    test_loss: float
    train_accuracy: float | None
    test_accuracy: float | None
    grad_norms: tuple[float, ...]
    dead: float | None
    saturated: float | None

    @property
    def gradient_ratio(self) -> float:
        """|dL/dW| of the first layer over that of the output layer (vanishing when tiny)."""
        return self.grad_norms[0] / max(self.grad_norms[-1], 1e-30)


@dataclass(eq=False)
class VariantRun:
    """One variant's training so far. ``batches`` is the shared schedule (one index array per
    step); ``initial_params`` may be the very arrays another variant started from."""

    variant: Variant
    spec: NetworkSpec
    config: TrainConfig
    target: Array
    batches: Sequence[Array]
    initial_params: Params
    params: Params
    opt_state: OptState
    step: int = 0
    records: list[Record] = field(default_factory=list)
    batch_losses: list[float] = field(default_factory=list)
    failure: str | None = None

    @property
    def label(self) -> str:
        return self.variant.label

    @property
    def last(self) -> Record:
        return self.records[-1]


@dataclass(eq=False)
class Comparison:
    """Every variant's run on one dataset; ``step`` is where the round-robin has reached."""

    dataset: Dataset
    steps: int
    runs: tuple[VariantRun, ...]
    step: int = 0

    @property
    def finished(self) -> bool:
        return self.step >= self.steps

    def snapshot(self) -> Comparison:
        """A copy that further training leaves alone (training replaces parameters and appends
        to the lists; it never writes into an array), for a UI to show while training goes on."""
        runs = tuple(
            replace(run, records=list(run.records), batch_losses=list(run.batch_losses))
            for run in self.runs
        )
        return replace(self, runs=runs)


# -- building variants --------------------------------------------------------------------------
def vary(
    base: Settings, *, activation: str | None = None, depth: int | None = None, **changes: Any
) -> Settings:
    """``base`` with ``changes`` (Settings fields); ``depth`` sets the number of hidden layers
    (added ones copy the last hidden layer, or 8 units of tanh), then ``activation`` every
    hidden layer's activation."""
    s = replace(base, **changes)
    if depth is not None:
        depth = max(0, min(depth, MAX_HIDDEN_LAYERS))
        size = s.hidden_sizes[-1] if s.hidden_sizes else 8
        act = s.hidden_activations[-1] if s.hidden_activations else "tanh"
        extra = max(0, depth - len(s.hidden_sizes))
        s = replace(
            s,
            hidden_sizes=(*s.hidden_sizes, *(size,) * extra)[:depth],
            hidden_activations=(*s.hidden_activations, *(act,) * extra)[:depth],
        )
    if activation is not None:
        s = replace(s, hidden_activations=(activation,) * len(s.hidden_sizes))
    return s


def auto_labels(settings: Sequence[Settings]) -> list[str]:
    """A letter per variant plus the values of the fields in which the variants differ:
    ["A · sigmoid", "B · relu"], or ["A · relu, lr 0.03", "B · relu, lr 1"]."""
    parts: list[list[str]] = [[] for _ in settings]
    if len({s.hidden_sizes for s in settings}) > 1:
        for p, s in zip(parts, settings, strict=True):
            p.append("-".join(map(str, s.hidden_sizes)) or "no hidden layer")
    if len({s.hidden_activations for s in settings}) > 1:
        for p, s in zip(parts, settings, strict=True):
            p.append("/".join(dict.fromkeys(s.hidden_activations)) or "linear")
    for name, show in _LABELLED.items():
        if len({getattr(s, name) for s in settings}) > 1:
            for p, s in zip(parts, settings, strict=True):
                p.append(show(getattr(s, name)))
    return [chr(ord("A") + i) + (" · " + ", ".join(p) if p else "") for i, p in enumerate(parts)]


def variants_of(settings: Sequence[Settings]) -> tuple[Variant, ...]:
    """Variants labelled by ``auto_labels``."""
    return tuple(
        Variant(label, s) for label, s in zip(auto_labels(settings), settings, strict=True)
    )


def check_variants(variants: Sequence[Variant]) -> None:
    """Raise ValueError unless there are 2-4 variants with distinct labels and the same data."""
    if not MIN_VARIANTS <= len(variants) <= MAX_VARIANTS:
        raise ValueError(f"Compare {MIN_VARIANTS} to {MAX_VARIANTS} variants, not {len(variants)}.")
    if len({v.label for v in variants}) != len(variants):
        raise ValueError("Each variant needs its own label.")
    for name in DATA_FIELDS:
        if len({getattr(v.settings, name) for v in variants}) > 1:
            raise ValueError(f"All variants train on the same data; their {name} differs.")


# -- training -----------------------------------------------------------------------------------
def batch_schedule(n: int, batch_size: int, seed: int, steps: int) -> tuple[Array, ...]:
    """The first ``steps`` mini-batches, epoch after epoch, in the Stepper's order."""
    per_epoch = math.ceil(n / batch_size)
    epochs = math.ceil(steps / per_epoch)
    batches = [b for e in range(epochs) for b in epoch_batches(n, batch_size, seed, e)]
    return tuple(batches[:steps])


def start_comparison(variants: Sequence[Variant], dataset: Dataset, steps: int) -> Comparison:
    """Every variant at step 0, sharing initial parameters and batch schedules where they can,
    each with its first record."""
    check_variants(variants)
    inits: dict[tuple[Any, ...], Params] = {}
    schedules: dict[tuple[int, int], tuple[Array, ...]] = {}
    runs = []
    for v in variants:
        s = v.settings
        spec = s.network_spec(dataset)
        config = s.train_config()
        key = (spec.sizes, s.init, s.seed)
        if key not in inits:
            rng = np.random.default_rng(s.seed)
            inits[key] = init_params(spec, rng, s.init, dtype=np.float32)
        order = (s.batch_size, s.seed)
        if order not in schedules:
            schedules[order] = batch_schedule(len(dataset.x_train), *order, steps)
        params = inits[key]
        target = encode_targets(spec, dataset.y_train, np.float32)
        run = VariantRun(
            v,
            spec,
            config,
            target,
            schedules[order],
            params,
            params,
            init_opt_state(params, config),
        )
        _record(run, dataset)
        runs.append(run)
    return Comparison(dataset, steps, tuple(runs))


def run_comparison(
    variants: Sequence[Variant],
    dataset: Dataset,
    steps: int,
    *,
    on_progress: Callable[[Comparison], bool] | None = None,
    record_every: int | None = None,
) -> Comparison:
    """Train every variant for ``steps`` mini-batch steps, a chunk of ``record_every`` steps
    (default: about RECORDS chunks in all) per variant in turn, recording after each chunk.

    ``on_progress(comparison)`` is called at the start and after each round of chunks;
    returning False stops there (a UI's Stop button), keeping what was trained.
    """
    comparison = start_comparison(variants, dataset, steps)
    every = record_every or max(1, math.ceil(steps / RECORDS))
    if on_progress is not None and not on_progress(comparison):
        return comparison
    # One BLAS thread: these matrices are small (at most a batch times 784 x 16), where
    # threads only add synchronisation, and on a busy machine (other sessions, two cores)
    # OpenBLAS's spinning threads made 4 variants x 1 MNIST epoch take 13-15 s instead of 2-4 s.
    with threadpool_limits(limits=1, user_api="blas"):
        while not comparison.finished:
            n = min(every, steps - comparison.step)
            for run in comparison.runs:
                _advance(run, dataset, n)
            comparison.step += n
            if on_progress is not None and not on_progress(comparison):
                break
    return comparison


def _advance(run: VariantRun, dataset: Dataset, n: int) -> None:
    if run.failure is not None:
        return
    batches = run.batches[run.step : run.step + n]
    try:
        result = train_steps(
            run.spec, run.params, run.opt_state, run.config, dataset.x_train, run.target, batches
        )
    except NonFiniteError as exc:
        run.failure = f"Stopped between steps {run.step + 1} and {run.step + n}. {exc}"
        return
    run.params, run.opt_state = result.params, result.opt_state
    run.batch_losses.extend(result.losses.tolist())
    run.step += n
    _record(run, dataset)


def _record(run: VariantRun, dataset: Dataset) -> None:
    spec, params = run.spec, run.params
    x_test, y_test = dataset.x_test[:PROBE_ROWS], dataset.y_test[:PROBE_ROWS]
    try:
        fwd = forward(spec, params, dataset.x_train[:PROBE_ROWS])
        err = error(spec, fwd, run.target[:PROBE_ROWS])
        grads = backward(spec, params, fwd, err)
        test_fwd = forward(spec, params, x_test)
        test_err = error(spec, test_fwd, encode_targets(spec, y_test, params.dtype))
    except NonFiniteError as exc:
        run.failure = f"Stopped at step {run.step}. {exc}"
        return
    classify = dataset.task == "classification"
    run.records.append(
        Record(
            step=run.step,
            train_loss=err.loss,
            test_loss=test_err.loss,
            train_accuracy=_accuracy(fwd, dataset.y_train[:PROBE_ROWS]) if classify else None,
            test_accuracy=_accuracy(test_fwd, y_test) if classify else None,
            grad_norms=tuple(float(np.linalg.norm(g)) for g in grads.weight_der),
            dead=dead_share(spec, fwd.total_input),
            saturated=saturated_share(spec, fwd.total_input),
        )
    )


def _accuracy(fwd: ForwardTrace, labels: Array) -> float:
    return float(np.mean(predict_classes(fwd.output[-1]) == labels))


# -- measures -----------------------------------------------------------------------------------
def dead_share(spec: NetworkSpec, zs: Sequence[Array]) -> float | None:
    """Share of ReLU hidden units with z <= 0 on every row of ``zs`` (per layer, (B, n_l)):
    they output 0 and pass no gradient, so nothing revives them."""
    hidden = zip(zs[:-1], spec.layers[:-1], strict=True)
    relu = [z for z, layer in hidden if layer.activation == "relu"]
    if not relu:
        return None
    dead = sum(int((z.max(axis=0) <= 0).sum()) for z in relu)
    return dead / sum(z.shape[1] for z in relu)


def saturated_share(spec: NetworkSpec, zs: Sequence[Array]) -> float | None:
    """Share of (row, unit) pairs of sigmoid/tanh hidden units with |z| beyond SATURATION_Z."""
    flat = [
        np.abs(z) > SATURATION_Z[layer.activation]
        for z, layer in zip(zs[:-1], spec.layers[:-1], strict=True)
        if layer.activation in SATURATION_Z
    ]
    if not flat:
        return None
    return sum(int(f.sum()) for f in flat) / sum(f.size for f in flat)


def distinct_units(params: Params, layer: int, *, tol: float = 1e-6) -> int:
    """How many units of ``layer`` differ, by their incoming weights and bias (up to a relative
    ``tol``): 1 when symmetry was never broken, as after a zero initialisation."""
    units = np.vstack([params.weights[layer], params.biases[layer][None]]).T.astype(np.float64)
    sq = np.sum(units * units, axis=1)
    dist = np.maximum(sq[:, None] + sq[None, :] - 2 * units @ units.T, 0.0)
    close = dist <= tol * tol * (sq[:, None] + sq[None, :] + 1e-12)
    # a unit is new unless it repeats an earlier one
    return int(len(units) - np.tril(close, -1).any(axis=1).sum())


def hidden_outputs(run: VariantRun, dataset: Dataset) -> tuple[Array, ...]:
    """The hidden layers' activations a (PROBE_ROWS, n_l) for the probe batch, now."""
    fwd = forward(run.spec, run.params, dataset.x_train[:PROBE_ROWS])
    return fwd.output[:-1]


def class_accuracy(run: VariantRun, dataset: Dataset) -> Array:
    """Per class: the share of the test examples of that class classified right (n_classes,)."""
    out = np.concatenate(
        [
            forward(run.spec, run.params, dataset.x_test[i : i + PROBE_ROWS]).output[-1]
            for i in range(0, len(dataset.x_test), PROBE_ROWS)
        ]
    )
    right = predict_classes(out) == dataset.y_test
    counts = np.bincount(dataset.y_test, minlength=dataset.n_classes)
    hits = np.bincount(dataset.y_test[right], minlength=dataset.n_classes)
    return np.where(counts > 0, hits / np.maximum(counts, 1), np.nan)


@dataclass(frozen=True, eq=False)
class Grid:
    """A square of points over a 2-D dataset: ``xs``/``ys`` (resolution,), ``points`` (r*r, 2),
    row-major in y then x, as a heatmap wants them."""

    xs: Array
    ys: Array
    points: Array


def data_grid(dataset: Dataset, resolution: int = 60) -> Grid:
    """A grid covering every training and test point with a 5% margin."""
    both = np.concatenate([dataset.x_train, dataset.x_test])
    lo, hi = both.min(axis=0), both.max(axis=0)
    pad = 0.05 * (hi - lo) + 1e-6
    xs = np.linspace(lo[0] - pad[0], hi[0] + pad[0], resolution, dtype=np.float32)
    ys = np.linspace(lo[1] - pad[1], hi[1] + pad[1], resolution, dtype=np.float32)
    gx, gy = np.meshgrid(xs, ys)
    return Grid(xs, ys, np.column_stack([gx.ravel(), gy.ravel()]))


def decision_values(run: VariantRun, grid: Grid) -> Array:
    """The network's score on every grid point, (resolution, resolution): the probability of
    class 1 for a binary task (one sigmoid unit or two softmax units), the predicted class for
    more classes, the output itself for regression."""
    out = forward(run.spec, run.params, grid.points).output[-1]
    if out.shape[1] == 1:
        score = out[:, 0]
    elif out.shape[1] == 2:
        score = out[:, 1]
    else:
        score = predict_classes(out).astype(np.float32)
    return score.reshape(len(grid.ys), len(grid.xs))


def summary(comparison: Comparison) -> list[dict[str, Any]]:
    """One row per variant: where it got to and the numbers the presets are about
    ("distinct hidden units": "all", or per hidden layer "distinct/units")."""
    rows = []
    for run in comparison.runs:
        last = run.last
        rows.append(
            {
                "variant": run.label,
                "step": last.step,
                "train loss": last.train_loss,
                "test loss": last.test_loss,
                "test accuracy": last.test_accuracy,
                "gradient ratio first/last": last.gradient_ratio,
                "dead ReLU": last.dead,
                "saturated": last.saturated,
                "distinct hidden units": _distinct_text(run),
            }
        )
    return rows


def _distinct_text(run: VariantRun) -> str:
    sizes = run.spec.sizes[1:-1]
    counts = [distinct_units(run.params, i) for i in range(len(sizes))]
    if counts == list(sizes):
        return "all"
    return ", ".join(f"{c}/{n}" for c, n in zip(counts, sizes, strict=True))


# -- presets ------------------------------------------------------------------------------------
_CIRCLE = Settings(dataset="circle", n_points=400, noise=0.1, hidden_sizes=(8, 8))
_DEEP = vary(_CIRCLE, depth=6, activation="sigmoid", learning_rate=0.1)
_RELU = vary(_CIRCLE, activation="relu", learning_rate=0.03)
_ZERO = vary(_CIRCLE, activation="sigmoid", learning_rate=0.3)
_SPIRAL = Settings(
    dataset="spiral",
    n_points=400,
    noise=0.1,
    hidden_sizes=(16, 16, 16),
    hidden_activations=("tanh",) * 3,
    optimizer="adam",
    learning_rate=0.01,
)
_DIGITS = Settings(
    dataset="mnist-sample",
    hidden_sizes=(16, 16),
    hidden_activations=("relu", "relu"),
    head="softmax + cross-entropy",
    learning_rate=0.1,
    batch_size=32,
)

PRESETS: dict[str, Preset] = {
    p.key: p
    for p in (
        Preset(
            "vanishing",
            "Deep sigmoid net: vanishing gradients",
            "Six hidden layers of 8 units on the circle, identical but for the activation. "
            "Backprop multiplies the gradient by f'(z) once per layer, and sigmoid's f' is at "
            "most 0.25: after six layers little of the gradient reaches the first one.",
            "Gradients: sigmoid's layer-1 gradient norm stays three to four orders of "
            "magnitude below its output layer's (first/last ratio around 1e-4 to 1e-3 in the "
            "summary), while tanh's and ReLU's first layers get as much as their last, or "
            "more. Loss: sigmoid hardly moves off 0.69 (chance); tanh and ReLU learn the "
            "circle.",
            _DEEP,
            variants_of([vary(_DEEP, activation=a) for a in ("sigmoid", "tanh", "relu")]),
            1000,
        ),
        Preset(
            "dead-relu",
            "Too high a learning rate: dead ReLUs",
            "A 2-8-8-1 ReLU net on the circle, trained with three learning rates. One large "
            "step can push a unit's bias and weights so far that its z is negative for every "
            "input: it outputs 0, its gradient is 0, and it never comes back.",
            "Dead & saturated: the share of dead ReLUs jumps to about half at rate 3 and stays "
            "at 0 at rate 0.03. Gradients: with a whole layer dead, no gradient reaches layer "
            "1 at all. Loss: the rate-3 network is stuck at chance.",
            _RELU,
            variants_of([vary(_RELU, learning_rate=r) for r in (0.03, 0.3, 3.0)]),
            500,
        ),
        Preset(
            "zero-init",
            "Zero initialization: units that never differ",
            "A 2-8-8-1 sigmoid net started from all-zero weights, and from Xavier's random "
            "ones. With zeros every hidden unit of a layer computes the same value and gets "
            "the same gradient, so the units stay copies of each other forever.",
            "Summary: 'distinct hidden units' stays at 1/8 in each layer with zeros, all 8 "
            "with Xavier. Boundaries: the zero-initialised net can only draw what one unit "
            "per layer can, and stays near chance on the circle.",
            _ZERO,
            variants_of([vary(_ZERO, init=i) for i in ("zeros", "xavier_uniform")]),
            1000,
        ),
        Preset(
            "spiral",
            "Sigmoid vs tanh vs ReLU vs GELU on the spiral",
            "Three hidden layers of 16 units, Adam, the same start and the same batches; only "
            "the activation differs. The spiral needs many sharp bends, so how well gradients "
            "flow decides how far each network gets in 2,000 steps.",
            "Loss and Boundaries: ReLU and GELU wind through both arms (near 100% test "
            "accuracy), tanh gets most of it, sigmoid stays near chance. Gradients: sigmoid's "
            "first layer gets far less gradient than the others'.",
            _SPIRAL,
            variants_of([vary(_SPIRAL, activation=a) for a in ("sigmoid", "tanh", "relu", "gelu")]),
            2000,
        ),
        Preset(
            "digits",
            "Real digits: sigmoid vs tanh vs ReLU, one epoch",
            "784-16-16-10 on the shipped MNIST sample, plain SGD at rate 0.1, one pass over "
            "the 8,000 training digits. Same start, same batches.",
            "Loss: tanh and ReLU pass 85% test accuracy within the epoch while sigmoid is "
            "still far behind. Per class: sigmoid gets some digits and misses others entirely.",
            _DIGITS,
            variants_of([vary(_DIGITS, activation=a) for a in ("sigmoid", "tanh", "relu")]),
            250,
        ),
    )
}
