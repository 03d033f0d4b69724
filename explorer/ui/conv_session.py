"""The Convolution page's per-user state: its builder's choices (``ConvSettings``) and its own
network (``ConvRun``, a ConvStepper), under a session key of its own (``keys.CONV_RUN``), apart
from the Explorer's ``Run`` (``explorer.ui.session``), which this page never touches.

A change of the data, the blocks, the dense layers or the seed builds a new network; a new
optimizer, momentum, learning rate, batch size or L2 retunes the one on screen, which carries
on training. Besides the page's builder, a network arrives here from a CNN link
(``conv_link``), a session file or a ``params.npz`` (``conv_files``), Full training's "Open in
Convolution" (``conv_train``) and a lesson step's CNN (``lesson_conv``), each through the
guard. After each whole step the page records the network's loss and accuracy (on EVAL_ROWS
images of each set) and its first block's kernels, for the Training views tab's curves and
kernel strip (``conv_training``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import cast

import numpy as np

from explorer.data import TOY_NAMES, Dataset, available_datasets
from explorer.engine import LayerSpec, NonFiniteError, Params, TrainConfig
from explorer.engine.conv import ConvBlockSpec, ConvNetSpec, ConvStepper, evaluate_conv
from explorer.engine.types import Array, OptimizerName
from explorer.engine.walker import Phase
from explorer.state.settings import Settings
from explorer.ui.datasets import dataset_for
from explorer.ui.inspector_view import Checked
from explorer.ui.session import Metrics, PlayClock, epochs_text

DEFAULT_DATASET = "mnist-sample"
EVAL_ROWS = 500  # images of each set for the recorded loss/accuracy (~60 ms at 28x28)


@dataclass(frozen=True)
class ConvSettings:
    """What the Convolution page's builder chose: the image set, the conv blocks, up to two
    hidden dense layers (then the softmax output, one unit per class), and the MLP's training
    choices: optimizer (with momentum's coefficient), rate, batch size and L2."""

    dataset: str = DEFAULT_DATASET
    blocks: tuple[ConvBlockSpec, ...] = (ConvBlockSpec(),)
    learning_rate: float = 0.1
    batch_size: int = 32
    seed: int = 0
    hidden: tuple[LayerSpec, ...] = ()
    optimizer: str = "sgd"
    momentum: float = 0.9
    l2: float = 0.0

    def spec(self, dataset: Dataset) -> ConvNetSpec:
        """The network on ``dataset``'s images; raises SpecError where a kernel does not fit."""
        h, w = dataset.input_shape
        output = LayerSpec(dataset.n_classes, "softmax")
        return ConvNetSpec((h, w), self.blocks, (*self.hidden, output))

    def config(self) -> TrainConfig:
        return TrainConfig(
            optimizer=cast(OptimizerName, self.optimizer),  # a name TrainConfig checks
            learning_rate=self.learning_rate,
            batch_size=self.batch_size,
            l2=self.l2,
            momentum=self.momentum,
        )

    def same_network(self, other: ConvSettings) -> bool:
        """True when only the training settings differ (no rebuild needed)."""
        return _network_of(self) == _network_of(other)


_TRAINING = {"learning_rate": 0.0, "batch_size": 1, "optimizer": "sgd", "momentum": 0.0, "l2": 0.0}


def _network_of(settings: ConvSettings) -> ConvSettings:
    return replace(settings, **_TRAINING)  # type: ignore[arg-type]


def image_datasets() -> dict[str, str]:
    """Key -> title of the image sets on this machine (the 2-D sets have no image to convolve)."""
    return {k: t for k, t in available_datasets().items() if k not in TOY_NAMES}


@dataclass(frozen=True)
class Pixel:
    """A clicked feature-map pixel: conv output (y, x) of ``filter`` in ``block``; ``pooled``
    when the click was on the pooled map (then (y, x) is that window's winner)."""

    block: int
    filter: int
    y: int
    x: int
    pooled: bool = False


@dataclass
class ConvRun:
    """One user's CNN and what the page shows of it."""

    settings: ConvSettings
    dataset: Dataset
    spec: ConvNetSpec
    stepper: ConvStepper
    selected: Pixel | None = None
    failure: str | None = None
    checked: Checked | None = None
    play: PlayClock | None = None  # None while paused
    metrics: dict[int, Metrics] = field(default_factory=dict)  # by step
    kernels: dict[int, Array] = field(default_factory=dict)  # by step: block 1's (F, 1, k, k)

    @property
    def playing(self) -> bool:
        return self.play is not None

    def act(self, action: str, *args: int, record: bool = True) -> None:
        """Run a stepper action by name, then record the network if ``record`` and its step's
        update is done; an overflow is said, play stopped, the last finite network kept."""
        try:
            getattr(self.stepper, action)(*args)
            self.failure = None
        except NonFiniteError as exc:
            self.failure = str(exc)
            self.play = None
            return
        if record and self.stepper.state.done == len(self.stepper.phases):
            self.record()

    def step_back(self) -> None:
        """Undo the last action; what was recorded of steps not reached any more goes."""
        self.stepper.step_back()
        self.failure = None
        step = self.stepper.state.step
        for later in [k for k in self.metrics if k > step]:
            del self.metrics[later]
            self.kernels.pop(later, None)

    def record(self) -> None:
        """Loss and accuracy of the current parameters on EVAL_ROWS images of each set, and
        the first block's kernels, kept under the current step."""
        s, d = self.stepper.state, self.dataset
        with np.errstate(over="ignore"):
            params = s.params.astype(np.float32)  # ample for a display, as the Explorer's
        if not params.is_finite():
            params = s.params
        train = evaluate_conv(self.spec, params, d.x_train[:EVAL_ROWS], d.y_train[:EVAL_ROWS])
        test = evaluate_conv(self.spec, params, d.x_test[:EVAL_ROWS], d.y_test[:EVAL_ROWS])
        epoch, position = self.stepper.next_sample()
        batch_loss = s.err.loss if s.err is not None and s.prev_params is not None else None
        self.metrics[s.step] = Metrics(
            s.step,
            batch_loss,
            train.loss,
            test.loss,
            train.accuracy,
            test.accuracy,
            epochs=epoch + position / self.stepper.n_train,
        )
        self.kernels[s.step] = s.params.weights[0].copy()

    def forward_params(self) -> Params:
        """The parameters the traced forward pass ran on: after the update, the ones before it."""
        s = self.stepper.state
        if s.done == len(self.stepper.phases) and s.prev_params is not None:
            return s.prev_params
        return s.params


def build_conv(settings: ConvSettings) -> ConvRun:
    """A fresh network for ``settings``; raises DataError or SpecError with a message."""
    dataset = dataset_for(replace(Settings(), dataset=settings.dataset))
    spec = settings.spec(dataset)
    stepper = ConvStepper(
        spec, settings.config(), dataset.x_train, dataset.y_train, seed=settings.seed
    )
    run = ConvRun(settings, dataset, spec, stepper)
    run.record()
    return run


def phase_name(spec: ConvNetSpec, phase: Phase) -> str:
    """ "forward, conv block 1", "error", "backward, output layer", "update"."""
    return phase.kind if phase.layer is None else f"{phase.kind}, {spec.layer_name(phase.layer)}"


def conv_status(run: ConvRun) -> str:
    """The status line in the Explorer's words, with the CNN's layer names."""
    stepper = run.stepper
    s = stepper.state
    last = stepper.last_phase
    done = "start of a mini-batch" if last is None else f"done: {phase_name(run.spec, last)}"
    epoch, position = stepper.next_sample()
    trained = epochs_text(epoch + position / stepper.n_train)
    return (
        f"Epoch {epoch + 1} · step {s.step:,} · batch of {len(s.batch_index)} · {done} · "
        f"next: {phase_name(run.spec, stepper.next_phase)} · {trained} trained"
    )
