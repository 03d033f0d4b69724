"""Per-user state: the current run (settings, dataset, Stepper, metrics) in st.session_state.

Nothing here is shared between users: each browser session gets its own ``Run``. The settings
decide whether a change rebuilds the network (data, architecture, initialisation, seed) or
only retunes training (rate, optimizer, batch size, regularisation); both are said to the user.
Actions that could overflow catch NonFiniteError, stop play, and keep the last finite network.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields

import numpy as np
import streamlit as st

from explorer.analysis.learned import batch_gradient_norms, gradient_norms
from explorer.data import Dataset
from explorer.engine import (
    Edit,
    Event,
    Loaded,
    NetworkSpec,
    NonFiniteError,
    Params,
    SpecError,
    Stepper,
    evaluate,
)
from explorer.state.settings import Settings
from explorer.ui import keys

UPLOAD = "upload"  # the dataset key of a user's own upload
EVAL_ROWS = 2000  # rows of each set used for the live loss/accuracy: enough to be stable


@dataclass
class Metrics:
    """The network's loss/accuracy at one step: on its last batch, and on train and test."""

    step: int
    batch_loss: float | None
    train_loss: float
    test_loss: float
    train_accuracy: float | None
    test_accuracy: float | None
    epochs: float = 0.0  # training samples used by updates so far, in epochs
    grad_norms: tuple[float, ...] = ()  # per layer, |gradient| of the step's mini-batch


@dataclass
class PlayClock:
    """Play's schedule: steps fall due ``rate`` times a second from when play began, however
    often the page's timer fires and however long a rerun takes. A tick takes what is due, at
    most ``most``; after a stall the rest is dropped rather than caught up in a burst."""

    rate: float
    started: float = field(default_factory=time.monotonic)
    counted: int = 0

    def due(self, now: float, most: int) -> int:
        """Steps to take at ``now`` (``time.monotonic()``)."""
        due = max(int((now - self.started) * self.rate) - self.counted, 0)
        self.counted += due
        return min(due, most)


@dataclass
class Run:
    """One user's network and what it has done."""

    settings: Settings
    dataset: Dataset
    spec: NetworkSpec
    stepper: Stepper
    metrics: dict[int, Metrics] = field(default_factory=dict)
    # per step: the hand edits in the trail when its metrics were taken (see ``shown``)
    evaluated: dict[int, tuple[Event, ...]] = field(default_factory=dict)
    selected: tuple[int, int] | None = None
    play: PlayClock | None = None  # None while paused
    notice: str | None = None
    failure: str | None = None
    queued: tuple[str, int] | None = None  # (what, steps) asked by a button, run by the page
    figures_from: tuple[int, str] | None = None  # (step, whose) when not evaluated here

    @property
    def playing(self) -> bool:
        return self.play is not None

    def record(self) -> None:
        """Evaluate the current parameters (on up to EVAL_ROWS rows of each set)."""
        s = self.stepper.state
        d = self.dataset
        classify = d.task == "classification"
        # float32, like the data: four times less to move than float64, ample for a display;
        # float64 for weights beyond float32's range (a diverging run)
        with np.errstate(over="ignore"):
            params = s.params.astype(np.float32)
        if not params.is_finite():
            params = s.params
        train = evaluate(
            self.spec, params, d.x_train[:EVAL_ROWS], d.y_train[:EVAL_ROWS], classify=classify
        )
        test = evaluate(
            self.spec, params, d.x_test[:EVAL_ROWS], d.y_test[:EVAL_ROWS], classify=classify
        )
        batch_loss = s.err.loss if s.err is not None and s.prev_params is not None else None
        self.metrics[s.step] = Metrics(
            s.step,
            batch_loss,
            train.loss,
            test.loss,
            train.accuracy,
            test.accuracy,
            epochs=epochs_trained(self.stepper),
            grad_norms=self._grad_norms(),
        )
        self.evaluated[s.step] = self._edits()
        if self.figures_from is not None and self.figures_from[0] == s.step:
            self.figures_from = None

    def shown(self) -> Metrics | None:
        """The metrics of the network as it stands now: those kept for this step if they were
        taken of this very network, else evaluated now (a step back onto a step that was never
        recorded, such as one inside an Epoch or Run N, or an edit undone); None if it cannot
        be evaluated (an overflow)."""
        step = self.stepper.state.step
        if step not in self.metrics or self.evaluated.get(step) != self._edits():
            try:
                self.record()
            except NonFiniteError:
                return None
        return self.metrics[step]

    def _edits(self) -> tuple[Event, ...]:
        """What in the trail changed the weights besides training: at a given step, the same
        edits mean the same weights (training is deterministic)."""
        return tuple(e for e in self.stepper.state.trail if isinstance(e, Edit | Loaded))

    def take_figures(self, metrics: Metrics, whose: str) -> None:
        """Show ``metrics``, evaluated by ``whose`` of the network as it stands now, in place
        of this page's evaluation: the figures the user just saw there stay the figures."""
        self.metrics[self.stepper.state.step] = metrics
        self.figures_from = (self.stepper.state.step, whose)

    def basis(self) -> str:
        """What the shown figures were evaluated on, and by whom if not here."""
        step = self.stepper.state.step
        if self.figures_from is not None and self.figures_from[0] == step:
            return f"as {self.figures_from[1]} evaluated them, on every example"
        d = self.dataset
        if len(d.x_train) <= EVAL_ROWS and len(d.x_test) <= EVAL_ROWS:
            return "on every example"
        train, test = len(d.x_train), len(d.x_test)
        return (
            f"on the first {min(train, EVAL_ROWS):,} of {train:,} training and "
            f"{min(test, EVAL_ROWS):,} of {test:,} test examples"
        )

    def _grad_norms(self) -> tuple[float, ...]:
        """The gradient norms of the step just taken, or (before any, and after fast-path
        training, which traces nothing) of the batch the next step will take."""
        s = self.stepper.state
        grads = s.gradients() if s.prev_params is not None else None
        if grads is not None:
            return gradient_norms(grads)
        try:
            return batch_gradient_norms(self.spec, s.params, s.x, s.target)
        except NonFiniteError:
            return ()

    def forget_future(self) -> None:
        """After stepping back: drop metrics of steps not reached any more."""
        step = self.stepper.state.step
        for later in [k for k in self.metrics if k > step]:
            del self.metrics[later]
            self.evaluated.pop(later, None)


def epochs_trained(stepper: Stepper) -> float:
    """Training samples used by updates so far, in epochs (a batch not yet updated is unused)."""
    epoch, position = stepper.next_sample()
    return epoch + position / stepper.n_train


def count(stepper: Stepper) -> tuple[str, str]:
    """Where training stands, in the words every page uses: the epoch the next update belongs
    to (so a whole epoch trained reads "Epoch 2") and the updates taken; the epochs trained."""
    where = f"Epoch {stepper.next_sample()[0] + 1} · step {stepper.state.step:,}"
    return where, f"{epochs_text(epochs_trained(stepper))} trained"


def epochs_text(epochs: float) -> str:
    """A count of epochs as every page writes it ("1 epoch", "0.004 epochs", "35.2 epochs"),
    cut, never rounded up (0.996 of an epoch is not "1 epoch"), to hundredths, or to
    thousandths below one hundredth."""
    scale = 100 if epochs >= 0.01 else 1000
    cut = math.floor(round(epochs * scale, 6)) / scale
    number = f"{cut:,.3f}".rstrip("0").rstrip(".")
    return "1 epoch" if number == "1" else f"{number} epochs"


def build(
    settings: Settings,
    dataset: Dataset,
    params: Params | None = None,
    *,
    at: tuple[int, int, int] = (0, 0, 0),
) -> Run:
    """A fresh run: ``params`` if given (a network trained elsewhere), else initialised.

    Parameters other than the settings' own initial ones are not in any link: the trail
    starts with ``Loaded`` (so ``write_link`` says so instead of linking to the untrained
    network), and the count goes on from ``at``, the (epoch, step, position in samples) they
    were trained to."""
    spec = settings.network_spec(dataset)
    stepper = Stepper(
        spec,
        settings.train_config(),
        dataset.x_train,
        dataset.y_train,
        seed=settings.seed,
        init=settings.init,
    )
    s = stepper.state
    if params is not None:
        params.check_shapes(spec)
    if params is not None and not _same(params, s.params):
        epoch, step, position = at
        stepper.restore(
            params, s.opt_state, epoch=epoch, step=step, position=position, trail=(Loaded(),)
        )
    run = Run(settings, dataset, spec, stepper)
    run.record()
    return run


def _same(a: Params, b: Params) -> bool:
    pairs = zip((*a.weights, *a.biases), (*b.weights, *b.biases), strict=True)
    return all(np.array_equal(np.asarray(x, np.float64), y) for x, y in pairs)


def sync(settings: Settings, dataset: Dataset) -> Run:
    """The user's run, rebuilt if the data or the network changed, retuned otherwise."""
    run: Run | None = st.session_state.get(keys.RUN)
    if run is None:
        run = st.session_state[keys.RUN] = build(settings, dataset)
    elif (
        _data_changed(run, settings, dataset)
        or run.settings.rebuild_key() != settings.rebuild_key()
    ):
        what = _rebuild_reason(run.settings, settings)
        try:
            new = build(settings, dataset)
        except SpecError as exc:
            run.failure = f"Cannot build that network: {exc}"
            return run
        new.notice = f"Network rebuilt with fresh weights because the {what} changed."
        run = st.session_state[keys.RUN] = new
    elif run.settings != settings:
        run.stepper.set_config(settings.train_config())
        run.settings = settings
        run.notice = "Training settings updated; the network keeps what it has learned."
    return run


def _data_changed(run: Run, settings: Settings, dataset: Dataset) -> bool:
    """A built-in dataset is named by its settings (compared in ``rebuild_key``), whichever
    cached object holds it: another session's choices may evict the cache's copy, never change
    this run. An upload is this user's own object."""
    return settings.dataset == UPLOAD and run.dataset is not dataset


def _rebuild_reason(old: Settings, new: Settings) -> str:
    names = [
        f.name
        for f in fields(Settings)
        if f.metadata["group"] != "training" and getattr(old, f.name) != getattr(new, f.name)
    ]
    return ", ".join(n.replace("_", " ") for n in names) or "dataset"


def act(run: Run, action: Callable[[Stepper], object], *, record: bool = True) -> None:
    """Run a Stepper action; on overflow stop play and say where, keeping the network."""
    try:
        action(run.stepper)
        run.failure = None
        if record:
            run.record()
    except NonFiniteError as exc:
        run.play = None
        run.failure = str(exc)
