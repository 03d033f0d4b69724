"""Full training of one network for a number of epochs, in chunks, on either backend: what the
Train page and the command line share.

``FullTraining`` owns the epoch loop: the engine's batch order for (seed, epoch), a time
budget per ``advance`` call (so a page can redraw its progress between chunks and a Stop can
land) or a whole epoch per ``run_epoch`` (the command line), the loss of every chunk, and the
train/test loss and accuracy after every epoch (and before the first). The stepping itself
is a ``Trainer``: ``NumpyTrainer`` (the engine's fast path, the MLP's or the CNN's) or the
torch backend's ``TorchTrainer``, which is imported only when asked for. A run with
``conv_blocks`` trains that CNN (``RunConfig.network_spec``), from the ConvStepper's
initialisation for the seed unless given parameters.

On overflow a chunk is rolled back by the trainer and the job stops with the message; a stop
keeps what was trained. No streamlit here, and no torch unless the backend is torch.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

from explorer.data import Dataset
from explorer.engine import (
    Evaluation,
    NetworkSpec,
    NonFiniteError,
    Params,
    TrainConfig,
    encode_targets,
    epoch_batches,
    evaluate,
    init_opt_state,
    init_params,
    train_steps,
)
from explorer.engine.conv import (
    DEFAULT_INIT,
    ConvNetSpec,
    evaluate_conv,
    init_conv_params,
    train_conv_steps,
)
from explorer.engine.types import Array
from explorer.state.run_config import RunConfig
from explorer.torch_backend import require_torch

if TYPE_CHECKING:
    from explorer.torch_backend.distributed import World

FIRST_CHUNK = 4  # batches in the first chunk, before the time per batch is known


class Trainer(Protocol):
    """What a job needs from a backend."""

    def describe(self) -> str: ...

    def params(self) -> Params: ...

    def train_batches(self, batches: Sequence[Array]) -> Array: ...

    def evaluate(self, x: Array, y: Array, *, classify: bool) -> Evaluation: ...


class NumpyTrainer:
    """The engine's fast path (``train_steps``, a CNN's ``train_conv_steps``) behind the
    Trainer interface."""

    def __init__(
        self,
        spec: NetworkSpec | ConvNetSpec,
        params: Params,
        config: TrainConfig,
        x: Array,
        target: Array,
        *,
        dtype: str = "float32",
    ) -> None:
        self.spec, self.config = spec, config
        self._params = params.astype(dtype)
        self._state = init_opt_state(self._params, config)
        self._x, self._target = x, target

    def describe(self) -> str:
        return "numpy on the cpu (the engine's fast path)"

    def params(self) -> Params:
        return self._params

    def train_batches(self, batches: Sequence[Array]) -> Array:
        steps = train_conv_steps if isinstance(self.spec, ConvNetSpec) else train_steps
        done = steps(
            self.spec,  # type: ignore[arg-type]
            self._params,
            self._state,
            self.config,
            self._x,
            self._target,
            batches,
        )
        self._params, self._state = done.params, done.opt_state
        return done.losses

    def evaluate(self, x: Array, y: Array, *, classify: bool) -> Evaluation:
        if isinstance(self.spec, ConvNetSpec):
            return evaluate_conv(self.spec, self._params, x, y)
        return evaluate(self.spec, self._params, x, y, classify=classify)


def make_trainer(
    spec: NetworkSpec | ConvNetSpec,
    params: Params,
    config: RunConfig,
    x: Array,
    target: Array,
    *,
    world: World | None = None,
) -> Trainer:
    """The backend ``config`` names; raises TorchMissingError if that is torch and it is not
    installed, DeviceError if its device is not here."""
    train_config = config.settings.train_config()
    if config.backend == "numpy":
        return NumpyTrainer(spec, params, train_config, x, target, dtype=config.dtype)
    require_torch()
    from explorer.torch_backend.trainer import TorchTrainer

    return TorchTrainer(
        spec, params, train_config, x, target, device=config.device, dtype=config.dtype, world=world
    )


@dataclass(frozen=True)
class EpochRecord:
    """Loss and accuracy after ``epoch`` epochs (0: before training), at ``step``."""

    epoch: int
    step: int
    train_loss: float
    test_loss: float
    train_accuracy: float | None
    test_accuracy: float | None


class FullTraining:
    """Trains ``config``'s network on ``dataset`` for ``config.epochs`` epochs.

    ``params`` defaults to the engine's initialisation for the settings' seed, the network the
    Explorer would build; ``world`` is a DDP rank (torch only).
    """

    def __init__(
        self,
        config: RunConfig,
        dataset: Dataset,
        *,
        params: Params | None = None,
        world: World | None = None,
    ) -> None:
        settings = config.settings
        self.config, self.dataset = config, dataset
        self.network = config.network_spec(dataset)  # what trains: the MLP or the CNN
        net = self.network
        self.spec = net.head if isinstance(net, ConvNetSpec) else net  # the MLP, a CNN's dense part
        rng = np.random.default_rng(settings.seed)
        if params is None:
            params = (
                init_conv_params(net, rng, DEFAULT_INIT)
                if isinstance(net, ConvNetSpec)
                else init_params(net, rng, settings.init)
            )
        target = encode_targets(self.spec, dataset.y_train, config.dtype)
        self.trainer = make_trainer(net, params, config, dataset.x_train, target, world=world)
        self.epoch = 0  # epochs finished
        self.position = 0  # batches of the current epoch done
        self.step = 0
        self.seconds = 0.0  # spent in training steps, evaluation excluded
        self.samples = 0
        self.chunk_losses: list[tuple[int, float]] = []  # (step at its end, mean batch loss)
        self.stopped = False
        self.failure: str | None = None
        self._seconds_per_batch: float | None = None
        self._batches = self._epoch_batches()
        self.epochs = [self._evaluate()]

    # -- where it stands ---------------------------------------------------------------------
    @property
    def n_batches(self) -> int:
        """Batches per epoch."""
        return len(self._batches)

    @property
    def finished(self) -> bool:
        return self.epoch >= self.config.epochs

    @property
    def running(self) -> bool:
        return not (self.finished or self.stopped or self.failure)

    @property
    def samples_per_second(self) -> float | None:
        return self.samples / self.seconds if self.seconds else None

    def params(self) -> Params:
        """What has been trained so far."""
        return self.trainer.params()

    # -- moving --------------------------------------------------------------------------------
    def stop(self) -> None:
        """Stop between two chunks; the network kept is evaluated (unless it just was), so
        the figures shown are of the network a page opens."""
        if self.running and self.epochs[-1].step != self.step:
            self.epochs.append(self._evaluate())
        self.stopped = True

    @property
    def epochs_trained(self) -> float:
        """Training samples used so far, in epochs."""
        done = min(self.position * self.config.settings.batch_size, len(self.dataset.x_train))
        return self.epoch + done / len(self.dataset.x_train)

    def advance(self, budget_s: float) -> None:
        """Train for about ``budget_s`` seconds (at least one batch), across epoch ends, each
        of which is evaluated. What a page calls between two redraws."""
        deadline = time.perf_counter() + budget_s
        while self.running:
            left = self.n_batches - self.position
            if self._seconds_per_batch is None:
                n = min(left, FIRST_CHUNK)
            else:
                fits = int((deadline - time.perf_counter()) / self._seconds_per_batch)
                n = max(1, min(left, fits))
            self._train(n)
            if time.perf_counter() >= deadline:
                return

    def run_epoch(self) -> None:
        """Train the rest of the current epoch in one call and evaluate it."""
        if self.running:
            self._train(self.n_batches - self.position)

    def _train(self, n: int) -> None:
        """The next ``n`` batches of this epoch; ends the epoch when they finish it."""
        batches = self._batches[self.position : self.position + n]
        started = time.perf_counter()
        try:
            losses = self.trainer.train_batches(batches)
            self._count(batches, losses, time.perf_counter() - started)
            if self.position == self.n_batches:
                self._end_epoch()
        except NonFiniteError as exc:
            self.failure = str(exc)

    def _count(self, batches: Sequence[Array], losses: Array, spent: float) -> None:
        self.seconds += spent
        self.samples += sum(len(b) for b in batches)
        self._seconds_per_batch = spent / len(batches)
        self.position += len(batches)
        self.step += len(batches)
        self.chunk_losses.append((self.step, float(np.mean(losses))))

    def _end_epoch(self) -> None:
        self.epoch += 1
        self.position = 0
        self.epochs.append(self._evaluate())
        if not self.finished:
            self._batches = self._epoch_batches()

    def _epoch_batches(self) -> list[Array]:
        s = self.config.settings
        return epoch_batches(len(self.dataset.x_train), s.batch_size, s.seed, self.epoch)

    def _evaluate(self) -> EpochRecord:
        d = self.dataset
        classify = d.task == "classification"
        train = self.trainer.evaluate(d.x_train, d.y_train, classify=classify)
        test = self.trainer.evaluate(d.x_test, d.y_test, classify=classify)
        return EpochRecord(
            self.epoch, self.step, train.loss, test.loss, train.accuracy, test.accuracy
        )
