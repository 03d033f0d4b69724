"""The trail: what was done to a Stepper since it was built, small enough for a link.

Training is deterministic (seeded batch order, seeded initial weights), so the parameters at
any point follow from the settings plus this record: how many phases ran under which training
settings, which epochs were handed to the fast path, and which weights were edited by hand.
Each StepState carries its trail (consecutive phases under one config merge into one segment),
so stepping back shortens it too. ``replay`` rebuilds the exact state on a fresh Stepper.
Left out: parameters loaded from elsewhere (a torch run, an upload) are not replayable; the
trail records that with ``Loaded`` and ``replay`` refuses it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias

from explorer.engine.spec import TrainConfig

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


def extend(trail: tuple[Event, ...], event: Event) -> tuple[Event, ...]:
    """``trail`` plus ``event``, merging phases run under the same config."""
    if isinstance(event, Phases) and trail:
        last = trail[-1]
        if isinstance(last, Phases) and last.config == event.config:
            return (*trail[:-1], Phases(last.n + event.n, event.config))
    return (*trail, event)


def replayable(trail: tuple[Event, ...]) -> bool:
    return not any(isinstance(e, Loaded) for e in trail)


def replay(stepper: Stepper, trail: tuple[Event, ...], *, max_phases: int = 200_000) -> None:
    """Apply ``trail`` to a fresh ``stepper`` (same spec, data, seed and initial weights as
    the one that made it). Raises ValueError for a trail that cannot or should not be replayed
    (loaded parameters, or more than ``max_phases`` phases of work)."""
    if not replayable(trail):
        raise ValueError(
            "This network holds parameters loaded from elsewhere; it cannot be replayed."
        )
    if sum(e.n for e in trail if isinstance(e, Phases)) > max_phases:
        raise ValueError(f"Replaying more than {max_phases:,} phases would take too long.")
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
