"""The trail: what was done to a Stepper since it was built, small enough for a link.

Training is deterministic (seeded batch order, seeded initial weights), so the parameters at
any point follow from the settings plus this record: how many phases ran under which training
settings, which epochs were handed to the fast path, and which weights were edited by hand.
Each StepState carries its trail (consecutive phases under one config merge into one segment),
so stepping back shortens it too. ``replay`` rebuilds the exact state on a fresh Stepper.
``replay`` counts the work a trail asks for before doing any and refuses one over its budget: a
link is anyone's to craft, and its replay runs on the opener's script thread.
Left out: parameters loaded from elsewhere (a torch run, an upload) are not replayable; the
trail records that with ``Loaded`` and ``replay`` refuses it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias

from explorer.engine.spec import NetworkSpec, TrainConfig

if TYPE_CHECKING:
    from explorer.engine.stepper import Stepper


@dataclass(frozen=True)
class Phases:
    """``n`` phases run one after another under ``config``."""

    n: int
    config: TrainConfig


@dataclass(frozen=True)
class FastEpoch:
    """The rest of an epoch trained on the fast path under ``config``."""

    config: TrainConfig


@dataclass(frozen=True)
class Edit:
    """Weight ``W[layer][row, col]`` (or bias ``b[layer][col]`` when row is None) set to
    ``value`` by hand."""

    layer: int
    row: int | None
    col: int
    value: float


@dataclass(frozen=True)
class Loaded:
    """Parameters that came from outside (a torch run, a file): not replayable."""


Event: TypeAlias = Phases | FastEpoch | Edit | Loaded


class ReplayError(ValueError):
    """A trail that cannot or should not be replayed; the message says why."""


def extend(trail: tuple[Event, ...], event: Event) -> tuple[Event, ...]:
    """``trail`` plus ``event``, merging phases run under the same config."""
    if isinstance(event, Phases) and trail:
        last = trail[-1]
        if isinstance(last, Phases) and last.config == event.config:
            return (*trail[:-1], Phases(last.n + event.n, event.config))
    return (*trail, event)


def replayable(trail: tuple[Event, ...]) -> bool:
    return not any(isinstance(e, Loaded) for e in trail)


# Replay's work, in multiply-add equivalents: a step costs its batch (plus a few samples' worth
# for the update, which touches every parameter) times the parameters, plus a fixed overhead
# per layer for the Python around each phase, far larger on the traced path than on the fast
# one. Measured on the 2-core reference machine (bench/RESULTS.md, "Replay budget"): one unit
# takes at most ~1.3 ns, so the budget lets the worst link a user may open take about 5 s.
UPDATE_SAMPLES = 8
TRACED_LAYER_OVERHEAD = 150_000
FAST_LAYER_OVERHEAD = 15_000
REPLAY_BUDGET = 4e9


def replay_work(trail: tuple[Event, ...], spec: NetworkSpec, n_train: int) -> float:
    """The work ``replay`` would do for ``trail``, counted before doing any (see REPLAY_BUDGET).
    A fast epoch counts a whole epoch, wherever it starts; an edit counts one update."""
    layers = len(spec.layers)
    phases_per_step = 2 * layers + 2
    work = 0.0
    for event in trail:
        if isinstance(event, Phases):
            steps = event.n / phases_per_step
            batch = event.config.batch_size
            work += steps * (
                spec.n_params * (batch + UPDATE_SAMPLES) + TRACED_LAYER_OVERHEAD * layers
            )
        elif isinstance(event, FastEpoch):
            batch = min(event.config.batch_size, n_train)
            steps = -(-n_train // batch)
            work += steps * (
                spec.n_params * (batch + UPDATE_SAMPLES) + FAST_LAYER_OVERHEAD * layers
            )
        else:
            work += spec.n_params * UPDATE_SAMPLES
    return work


def replay(stepper: Stepper, trail: tuple[Event, ...], *, budget: float = REPLAY_BUDGET) -> None:
    """Apply ``trail`` to a fresh ``stepper`` (same spec, data, seed and initial weights as
    the one that made it). Raises ReplayError, before any work, for a trail that cannot or
    should not be replayed (loaded parameters, or more than ``budget`` of work)."""
    if not replayable(trail):
        raise ReplayError(
            "This network holds parameters loaded from elsewhere; it cannot be replayed."
        )
    work = replay_work(trail, stepper.spec, stepper.n_train)
    if work > budget:
        raise ReplayError(
            f"Replaying its training would be {work / budget:,.1f} times the most work a link "
            "or file may ask of the server."
        )
    for event in trail:
        if isinstance(event, Phases):
            stepper.set_config(event.config)
            for _ in range(event.n):
                stepper.advance()
        elif isinstance(event, FastEpoch):
            stepper.set_config(event.config)
            stepper.run_epoch_fast()
        elif isinstance(event, Edit):
            stepper.edit(event.layer, event.row, event.col, event.value)
