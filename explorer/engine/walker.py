"""What the MLP's Stepper and the CNN's ConvStepper share: walking the phases of a step.

The phase order (``phase_sequence``), moving one phase, the rest of a step, N steps or an
epoch at a time, the rest of an epoch on the fast path, stepping back through the
``History``, optimizer switches, parameters from elsewhere, a saved session restored, and
each batch's rows in the epoch's order (drawn once per epoch). ``PhaseWalker`` holds all of
it; a subclass says what a batch's state is (``_batch_state``), how one phase runs
(``_advanced``), how an action is redone (``_redo``), how the fast path trains
(``_train_fast``) and which parameters fit (``_check_params``). States are frozen
dataclasses with the fields of ``WalkState``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import MISSING, dataclass, fields, replace
from typing import Any, ClassVar, Generic, Protocol, TypeVar

import numpy as np
import numpy.typing as npt

from explorer.engine.batches import epoch_order
from explorer.engine.fast import TrainResult
from explorer.engine.history import History
from explorer.engine.optim import OptState, fits, init_opt_state
from explorer.engine.spec import Params, SpecError, TrainConfig
from explorer.engine.trail import Event, FastEpoch, Loaded, Phases, extend
from explorer.engine.types import Array, PhaseKind


@dataclass(frozen=True)
class Phase:
    """One phase of a step: ``kind`` is forward, error, backward or update; ``layer`` is
    0-based for forward and backward, None otherwise."""

    kind: PhaseKind
    layer: int | None = None

    def __str__(self) -> str:
        return self.kind if self.layer is None else f"{self.kind}, layer {self.layer + 1}"


def phase_sequence(n_layers: int) -> tuple[Phase, ...]:
    """forward 0..L-1, error, backward L-1..0, update."""
    return (
        *(Phase("forward", i) for i in range(n_layers)),
        Phase("error"),
        *(Phase("backward", i) for i in reversed(range(n_layers))),
        Phase("update"),
    )


class WalkState(Protocol):
    """The fields every stepper's state has (its own dataclass adds the traces)."""

    __dataclass_fields__: ClassVar[dict[str, Any]]

    @property
    def params(self) -> Params: ...

    @property
    def opt_state(self) -> OptState: ...

    @property
    def epoch(self) -> int: ...

    @property
    def step(self) -> int: ...

    @property
    def position(self) -> int: ...

    @property
    def batch_index(self) -> Array: ...

    @property
    def done(self) -> int: ...

    @property
    def prev_params(self) -> Params | None: ...

    @property
    def prev_opt_state(self) -> OptState | None: ...

    @property
    def trail(self) -> tuple[Event, ...]: ...


S = TypeVar("S", bound=WalkState)


class PhaseWalker(ABC, Generic[S]):
    """Training on the rows of ``x`` one phase at a time, with a history for stepping back."""

    state: S

    def __init__(
        self,
        config: TrainConfig,
        x: Array,
        n_layers: int,
        *,
        seed: int,
        dtype: npt.DTypeLike,
        history: int,
    ) -> None:
        self.config = config
        self.seed = seed
        self.dtype = np.dtype(dtype)
        self._x = x
        self.phases = phase_sequence(n_layers)
        self._history: History[S] = History(history, self._redo, switched)
        self._epoch_order: tuple[int, Array] = (-1, np.empty(0, dtype=np.intp))

    # -- what a subclass says --------------------------------------------------------------
    @abstractmethod
    def _batch_state(
        self,
        params: Params,
        opt_state: OptState,
        *,
        epoch: int,
        step: int,
        position: int,
        batch_size: int,
        trail: tuple[Event, ...] = (),
    ) -> S:
        """The state at the start of the batch at (epoch, position) (the next epoch's first
        when position is past the end); ``_rows`` gives its rows."""

    @abstractmethod
    def _advanced(self, s: S, config: TrainConfig) -> S:
        """``s`` one phase on (``_next_batch`` first)."""

    @abstractmethod
    def _redo(self, s: S, event: Event) -> S:
        """The state ``event`` leads to from ``s``: the one way an action is run, and the way
        the history rebuilds what it did not keep, so the two give the same bits."""

    @abstractmethod
    def _train_fast(self, params: Params, opt_state: OptState, batches: list[Array]) -> TrainResult:
        """Train ``batches`` (rows of x) on the fast path from float32 ``params``."""

    @abstractmethod
    def _check_params(self, params: Params) -> None:
        """Raise SpecError if ``params`` do not fit the network."""

    # -- what is known -------------------------------------------------------------------
    @property
    def n_train(self) -> int:
        return len(self._x)

    @property
    def next_phase(self) -> Phase:
        """The phase ``advance`` will run (the first of the next batch after an update)."""
        done = self.state.done
        return self.phases[done if done < len(self.phases) else 0]

    @property
    def last_phase(self) -> Phase | None:
        """The phase completed last in the current batch, None before the first."""
        return self.phases[self.state.done - 1] if self.state.done else None

    @property
    def can_step_back(self) -> bool:
        return bool(self._history)

    def next_sample(self) -> tuple[int, int]:
        """(epoch, position) of the first sample no update has used yet; a batch whose update
        has not happened yet counts as unused."""
        s = self.state
        position = s.position + (len(s.batch_index) if s.done == len(self.phases) else 0)
        return (s.epoch + 1, 0) if position >= self.n_train else (s.epoch, position)

    # -- moving --------------------------------------------------------------------------
    def advance(self) -> Phase:
        """Run exactly one phase; raises NonFiniteError (state unchanged) on overflow."""
        self._act(Phases(1, self.config))
        return self.phases[self.state.done - 1]

    def finish_step(self) -> None:
        """Run the phases left in this batch through its update (a whole step if none are)."""
        left = len(self.phases) - self.state.done % len(self.phases)
        self._act(Phases(left, self.config))

    def run_steps(self, n: int) -> None:
        """``finish_step`` n times; stops at (and re-raises) the first overflow, keeping the
        steps before it."""
        for _ in range(n):
            self.finish_step()

    def run_epoch(self) -> None:
        """Finish steps until the current epoch's data is used up."""
        self.finish_step()
        while self.state.position + len(self.state.batch_index) < self.n_train:
            self.finish_step()

    def run_epoch_fast(self, *, continued: bool = False) -> Array:
        """Train the rest of the epoch on the fast path (float32, nothing traced) and stand at
        the first batch of the next epoch; returns each step's batch loss (steps,).

        Same batches, in the same order, as ``run_epoch``; a batch part-way through its phases
        restarts from its forward pass. Step back undoes it in one go; ``continued=True`` folds
        it into the history entry of the previous call instead (a long run trained in chunks
        then steps back at once). On overflow raises NonFiniteError, state unchanged.
        """
        s = self.state
        epoch, position = self.next_sample()
        size = self.config.batch_size
        order = self._order(epoch)
        batches = [order[i : i + size] for i in range(position, self.n_train, size)]
        result = self._train_fast(
            s.params.astype(np.float32), opt_astype(s.opt_state, np.float32), batches
        )
        new = self._batch_state(
            result.params.astype(self.dtype),
            opt_astype(result.opt_state, self.dtype),
            epoch=epoch + 1,
            step=s.step + len(batches),
            position=0,
            batch_size=size,
            trail=extend(s.trail, FastEpoch(self.config)),
        )
        if continued:
            self._history.detach()
        else:
            self._history.push(s, FastEpoch(self.config))
        self.state = new
        return result.losses

    def step_back(self) -> bool:
        """Return to the state before the last action; False if the history is empty. A state
        from before an optimizer switch comes back with the current optimizer's fresh state,
        as ``set_config`` would have given it."""
        state = self._history.pop()
        if state is None:
            return False
        if not fits(state.opt_state, self.config):
            state = switched(state, self.config)
            self._history.switched(self.config)
        self.state = state
        return True

    def set_config(self, config: TrainConfig) -> None:
        """New optimisation settings, applied from the next update; training carries on.
        A different optimizer starts its own state (momentum and Adam buffers at zero)."""
        if config.optimizer != self.config.optimizer:
            self.state = switched(self.state, config)
            self._history.switched(config)
        self.config = config

    def set_params(self, params: Params) -> None:
        """Replace the parameters with ones from elsewhere (a torch run, a file); the current
        batch restarts from its forward pass and the change can be stepped back."""
        s = self.state
        new = self._with_params(s, params, Loaded())
        self._history.push(s, Loaded())
        self.state = new

    def restore(
        self,
        params: Params,
        opt_state: OptState,
        *,
        epoch: int,
        step: int,
        position: int,
        trail: tuple[Event, ...],
    ) -> None:
        """Stand at the start of the batch at (epoch, position) with these parameters and
        optimizer state, as a saved session left them; the history starts empty."""
        self._check_params(params)
        if not (0 <= position < self.n_train and epoch >= 0 and step >= 0):
            raise SpecError("The saved position lies outside this training set.")
        self._history.clear()
        self.state = self._batch_state(
            params.astype(self.dtype),
            opt_astype(opt_state, self.dtype),
            epoch=epoch,
            step=step,
            position=position,
            batch_size=self.config.batch_size,
            trail=trail,
        )

    # -- helpers for the subclasses ------------------------------------------------------------
    def _act(self, event: Event) -> None:
        """Run ``event`` from the current state, which goes into the history; raises (state
        and history unchanged) where the event fails."""
        s = self.state
        new = self._redo(s, event)
        self._history.push(s, event)
        self.state = new

    def _order(self, epoch: int) -> Array:
        """``epoch_order`` of this epoch, drawn once per epoch rather than once per batch."""
        if self._epoch_order[0] != epoch:
            order = epoch_order(self.n_train, self.seed, epoch)
            order.flags.writeable = False
            self._epoch_order = (epoch, order)
        return self._epoch_order[1]

    def _rows(self, epoch: int, position: int, batch_size: int) -> tuple[int, int, Array, Array]:
        """(epoch, position, rows of x, the batch) of the batch at (epoch, position), the
        next epoch's first when position is past the end. A float32 batch stays float32:
        numpy widens it exactly where it meets float64 weights, so the numbers are the same
        at half the memory of every state that holds it."""
        if position >= self.n_train:
            epoch, position = epoch + 1, 0
        idx = self._order(epoch)[position : position + batch_size]
        x = self._x[idx]
        if x.dtype.itemsize > self.dtype.itemsize or x.dtype.kind != "f":
            x = x.astype(self.dtype)
        return epoch, position, idx, x

    def _with_params(self, s: S, params: Params, event: Event) -> S:
        """``s`` with ``params`` (checked), its batch restarting from the forward pass: every
        field with a default (the phases done, the traces, the parameters before the update)
        back at it."""
        self._check_params(params)
        fresh = {f.name: f.default for f in fields(s) if f.default is not MISSING}
        del fresh["trail"]
        return replace(s, params=params.astype(self.dtype), trail=extend(s.trail, event), **fresh)

    def _next_batch(self, s: S, config: TrainConfig) -> S:
        """``s``, or after its update the next batch's start, of ``config``'s size. A batch
        not begun yet is drawn again when the batch size changed since it was drawn, so a
        batch's rows follow from where it starts and the size its first phase ran with, which
        is what the trail records (a link replays the change)."""
        fresh = s.done == 0 and len(s.batch_index) != min(
            config.batch_size, self.n_train - s.position
        )
        if s.done < len(self.phases) and not fresh:
            return s
        return self._batch_state(
            s.params,
            s.opt_state,
            epoch=s.epoch,
            step=s.step,
            position=s.position + (0 if fresh else len(s.batch_index)),
            batch_size=config.batch_size,
            trail=s.trail,
        )

    def _redo_phases(self, s: S, event: Phases) -> S:
        """``s`` after ``event.n`` phases, with the event on its trail."""
        new = s
        for _ in range(event.n):
            new = self._advanced(new, event.config)
        return replace(new, trail=extend(s.trail, event))


def updated(s: S, params: Params, opt_state: OptState) -> S:
    """``s`` after its update phase: the new parameters, the old ones kept beside them."""
    return replace(
        s,
        done=s.done + 1,
        params=params,
        opt_state=opt_state,
        prev_params=s.params,
        prev_opt_state=s.opt_state,
        step=s.step + 1,
    )


def switched(s: S, config: TrainConfig) -> S:
    """``s`` with ``config``'s optimizer starting afresh (zero buffers), its update count kept."""
    fresh = init_opt_state(s.params, config)
    return replace(s, opt_state=replace(fresh, step=s.opt_state.step))


def opt_astype(state: OptState, dtype: npt.DTypeLike) -> OptState:
    """The optimizer state with its buffers (if any) cast to ``dtype``."""

    def cast(p: Params | None) -> Params | None:
        return None if p is None else p.astype(dtype)

    return OptState(state.step, cast(state.velocity), cast(state.m), cast(state.v))
