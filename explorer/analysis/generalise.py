"""It generalises: a network's accuracy on digits it never saw, over training, beside its
accuracy on the ones it trained on; the test digits it gets right and wrong, with its
confidence; and a check of our numbers against scikit-learn's on the same data.

- **Curves.** ``start_training`` trains the network on ``train_split`` (a seeded choice of the
  training rows; the test rows are all kept and never trained on) with ``FullTraining``, the
  chunked loop the Full training page runs, which evaluates both sets after every epoch.
  ``curves`` reads its train and test accuracy per epoch. A small split overfits: train
  accuracy climbs to 100 % while test accuracy stays low.
- **Gallery.** ``gallery`` picks test digits it classifies right (in test order: a fair
  sample) and wrong (the most confident mistakes first), each with the probability of its
  choice and of the true class.
- **Check.** ``Check`` trains a ``Recipe`` (784-100-10 on Fashion-MNIST, 784-16-16-10 on full
  MNIST: ReLU, Adam 1e-3, batches of 64, 10 epochs) on our engine's fast path and, on the
  same rows with the same scaling (pixels in [0, 1], float32), scikit-learn's
  ``MLPClassifier`` of the same shape, one epoch per ``partial_fit`` call, timing both. Each
  epoch scikit-learn gets the rows in our epoch's order with its own shuffling off, so both
  train on the same mini-batches in the same order; only the initial weights differ (both
  Glorot-uniform, drawn by each). scikit-learn's L2 term (``alpha``, default 1e-4 scaled by
  1/batch) is set to 0 so both minimise the same loss.

No streamlit here. scikit-learn is imported only when a check starts: it is slow to import.
Left out: drawing, and any schedule or early stopping.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np

from explorer.analysis.learned import class_probabilities, misclassified, predict, wrong
from explorer.data import DIGIT_NAMES, Dataset
from explorer.engine import NetworkSpec, Params, epoch_order
from explorer.engine.types import Array
from explorer.state.run_config import RunConfig
from explorer.state.settings import Settings
from explorer.training.full import FullTraining

if TYPE_CHECKING:
    from sklearn.neural_network import MLPClassifier

# The lesson's 784-16-16-10, when the sidebar's network is not on an image set of digits
LESSON_SETTINGS = Settings(
    dataset="mnist-sample",
    hidden_sizes=(16, 16),
    hidden_activations=("relu", "relu"),
    head="softmax + cross-entropy",
    init="he_uniform",
    optimizer="adam",
    learning_rate=0.01,
    batch_size=32,
)
DEFAULT_EPOCHS = 15  # the MNIST sample's 8,000 digits: about a second on the fast path
SPLIT_SIZES = (100, 300, 1000, 3000, 10_000, 30_000)  # training rows to offer, below "all"
GALLERY = 12  # digits of each kind


# -- which network, on which rows ----------------------------------------------------------
def is_digit_images(d: Dataset) -> bool:
    """Whether ``d`` is images of the digits 0-9 (the MNIST sample, full MNIST, 8×8)."""
    return d.class_names == DIGIT_NAMES and len(d.input_shape) == 2


def page_settings(sidebar: Settings, dataset: Dataset) -> Settings:
    """The sidebar's network where its dataset is an image set of digits; otherwise the
    lesson's 784-16-16-10 on the MNIST sample."""
    return sidebar if is_digit_images(dataset) else LESSON_SETTINGS


def split_sizes(d: Dataset) -> tuple[int, ...]:
    """The training-split sizes to offer for ``d``, the whole training set last."""
    n = len(d.x_train)
    return (*(size for size in SPLIT_SIZES if size < n), n)


def train_split(d: Dataset, n: int, seed: int) -> Dataset:
    """``d`` with ``n`` of its training rows, chosen at random for ``seed`` (all of them when
    ``n`` is at least their number); the test rows are all kept, untouched."""
    if n < 1:
        raise ValueError(f"Train on at least one digit, not {n}.")
    if n >= len(d.x_train):
        return d
    rows = np.sort(np.random.default_rng(seed).permutation(len(d.x_train))[:n])
    name = f"{d.name}, {n:,} training rows"
    return replace(d, name=name, x_train=d.x_train[rows], y_train=d.y_train[rows])


def start_training(settings: Settings, d: Dataset, *, split: int, epochs: int) -> FullTraining:
    """``settings``' network on ``split`` training rows of ``d`` (chosen with the settings'
    data seed), for ``epochs`` epochs on the NumPy fast path; call ``advance`` to train."""
    rows = train_split(d, split, settings.data_seed)
    return FullTraining(RunConfig(settings, epochs=epochs), rows)


@dataclass(frozen=True)
class Curves:
    """Accuracy after each epoch (0: before training), on the rows trained on and on the test
    rows, which the network never trains on."""

    epochs: tuple[int, ...]
    train: tuple[float, ...]
    test: tuple[float, ...]

    @property
    def gap(self) -> float:
        """Train minus test accuracy, last epoch: how much better it does on what it saw."""
        return self.train[-1] - self.test[-1]


def curves(job: FullTraining) -> Curves:
    """The job's accuracy per epoch evaluated so far (a classification job)."""
    records = job.epochs
    if any(r.train_accuracy is None or r.test_accuracy is None for r in records):
        raise ValueError("Accuracy curves need a classification set.")
    return Curves(
        tuple(r.epoch for r in records),
        tuple(float(r.train_accuracy or 0.0) for r in records),
        tuple(float(r.test_accuracy or 0.0) for r in records),
    )


# -- the gallery -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Guess:
    """Test row ``index``: its true ``label``, the class ``predicted``, the probability the
    network gives its choice (``confidence``) and the true class (``true_probability``)."""

    index: int
    label: int
    predicted: int
    confidence: float
    true_probability: float

    @property
    def right(self) -> bool:
        return self.label == self.predicted


def guesses(rows: Array, labels: Array, output: Array) -> list[Guess]:
    """A Guess for each of ``rows``, from every test row's ``labels`` (n,) and ``output``
    (n, n_out)."""
    probs = class_probabilities(output)
    return [
        Guess(
            int(i),
            int(labels[i]),
            int(np.argmax(probs[i])),
            float(probs[i].max()),
            float(probs[i, labels[i]]),
        )
        for i in rows
    ]


def gallery(
    labels: Array, output: Array, *, limit: int = GALLERY
) -> tuple[list[Guess], list[Guess]]:
    """Up to ``limit`` test digits classified right, in test order, and up to ``limit``
    wrong, the most confident mistakes first."""
    right_rows = np.flatnonzero(~wrong(labels, output))[:limit]
    return guesses(right_rows, labels, output), guesses(
        misclassified(labels, output, limit=limit), labels, output
    )


def outputs_on_test(job: FullTraining) -> Array:
    """The trained network's output on every test row (n_test, n_out)."""
    return predict(job.spec, job.params(), job.dataset.x_test)


def predict_image(spec: NetworkSpec, params: Params, pixels: Array) -> Array:
    """The output (n_out,) for one image, converted to the dataset's input (h, w)."""
    return predict(spec, params, pixels.reshape(1, -1))[0]


# -- the check against scikit-learn ----------------------------------------------------------
@dataclass(frozen=True)
class Recipe:
    """One published figure to check: a shape trained with ReLU, Adam and batches of 64."""

    title: str
    dataset: str  # the registry's key
    hidden_sizes: tuple[int, ...]
    published: str  # what the literature reports, in words
    epochs: int = 10
    learning_rate: float = 1e-3
    batch_size: int = 64

    def settings(self, seed: int) -> Settings:
        """Our network: Glorot-uniform initialisation, as scikit-learn's."""
        n = len(self.hidden_sizes)
        return Settings(
            dataset=self.dataset,
            hidden_sizes=self.hidden_sizes,
            hidden_activations=("relu",) * n,
            head="softmax + cross-entropy",
            init="xavier_uniform",
            seed=seed,
            optimizer="adam",
            learning_rate=self.learning_rate,
            batch_size=self.batch_size,
        )

    def sklearn_model(self, seed: int) -> MLPClassifier:
        """scikit-learn's MLPClassifier of the same shape and training."""
        from sklearn.neural_network import MLPClassifier

        return MLPClassifier(
            hidden_layer_sizes=self.hidden_sizes,
            activation="relu",
            solver="adam",
            alpha=0.0,
            learning_rate_init=self.learning_rate,
            batch_size=self.batch_size,
            max_iter=self.epochs,
            shuffle=False,  # each epoch's rows come in our order (SklearnRun)
            random_state=seed,
        )


FASHION = Recipe("784-100-10 on Fashion-MNIST", "fashion-mnist", (100,), "about 87-88 %")
MNIST = Recipe("784-16-16-10 on full MNIST", "mnist", (16, 16), "about 96 %")
RECIPES = (FASHION, MNIST)


@dataclass
class SklearnRun:
    """scikit-learn's model trained one epoch per ``epoch`` call, on the rows in the order
    our engine takes them that epoch (``epoch_order``: the same batches), its test accuracy
    after each; ``seconds``: in ``partial_fit`` only."""

    recipe: Recipe
    dataset: Dataset
    seed: int
    model: MLPClassifier = field(init=False)
    seconds: float = 0.0
    accuracies: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.model = self.recipe.sklearn_model(self.seed)

    @property
    def done(self) -> int:
        return len(self.accuracies)

    def epoch(self) -> None:
        d = self.dataset
        classes = np.arange(d.n_classes)
        order = epoch_order(len(d.x_train), self.seed, self.done)
        x, y = d.x_train[order], d.y_train[order]
        started = time.perf_counter()
        self.model.partial_fit(x, y, classes=classes)
        self.seconds += time.perf_counter() - started
        self.accuracies.append(float(np.mean(self.model.predict(d.x_test) == d.y_test)))


@dataclass(frozen=True)
class CheckResult:
    """Both models' test accuracy after the epochs each trained (ours may stop inside one),
    and their training time."""

    ours: float
    theirs: float
    ours_seconds: float
    theirs_seconds: float
    ours_epochs: float
    theirs_epochs: int

    @property
    def ratio(self) -> float:
        """scikit-learn's training time over ours: above 1, ours was faster."""
        return self.theirs_seconds / self.ours_seconds if self.ours_seconds else float("nan")


class Check:
    """``recipe`` on ``dataset``: ours on the fast path and scikit-learn's, an epoch of each
    in turn, ours in chunks."""

    def __init__(self, recipe: Recipe, dataset: Dataset, *, seed: int = 0) -> None:
        self.recipe, self.dataset = recipe, dataset
        config = RunConfig(recipe.settings(seed), epochs=recipe.epochs)
        self.ours = FullTraining(config, dataset)
        self.theirs = SklearnRun(recipe, dataset, seed)
        self.stopped = False

    @property
    def finished(self) -> bool:
        return self.theirs.done >= self.recipe.epochs

    @property
    def running(self) -> bool:
        return not (self.finished or self.stopped or self.ours.failure)

    @property
    def fraction(self) -> float:
        """Epochs trained of both models' 2 x epochs."""
        return (self.ours.epochs_trained + self.theirs.done) / (2 * self.recipe.epochs)

    def stop(self) -> None:
        self.stopped = True
        self.ours.stop()

    @property
    def _ours_turn(self) -> bool:
        # epoch by epoch in turn, so that a machine whose load changes slows both alike
        return self.ours.running and self.ours.epoch <= self.theirs.done

    def advance(self, budget_s: float) -> None:
        """About ``budget_s`` of ours, or one epoch of scikit-learn's, whichever is behind."""
        if not self.running:
            return
        if self._ours_turn:
            self.ours.advance(budget_s)
        else:
            self.theirs.epoch()

    def run(self) -> None:
        """Train both to the end in one call (the benchmark), an epoch of each in turn."""
        while self.running:
            if self._ours_turn:
                self.ours.run_epoch()
            else:
                self.theirs.epoch()

    def result(self) -> CheckResult:
        """Where both stand; an untrained model's accuracy is NaN."""
        ours = self.ours.epochs[-1].test_accuracy
        return CheckResult(
            float("nan") if ours is None or not self.ours.step else ours,
            self.theirs.accuracies[-1] if self.theirs.accuracies else float("nan"),
            self.ours.seconds,
            self.theirs.seconds,
            round(self.ours.epochs_trained, 2),
            self.theirs.done,
        )
