"""The trail: what was done to a Stepper since it was built, small enough for a link.

Training is deterministic (seeded batch order, seeded initial weights), so the parameters at
any point follow from the settings plus this record: how many phases ran under which training
settings, which epochs were handed to the fast path, and which weights were edited by hand.
Each StepState carries its trail (consecutive phases under one config merge into one segment),
so stepping back shortens it too. The trail is data only: ``explorer.engine.replay`` rebuilds
the exact state on a fresh Stepper, after ``check_replay`` here has counted the work it asks
for and refused one over its budget (a link is anyone's to craft, and its replay runs on the
opener's script thread). Left out: parameters loaded from elsewhere (a torch run, an upload)
are not replayable; the trail records that with ``Loaded`` and replay refuses it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

from explorer.engine.spec import NetworkSpec, TrainConfig


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


# Replay's cost model, fitted on the 2-core reference machine (bench/replay.py prints the
# measured time against this estimate; the estimate should stay above it). A step costs its
# multiply-adds (parameters times the batch, plus a few samples' worth for the update, which
# touches every parameter) and a fixed time per layer for the Python around each phase, far
# larger on the traced path than on the fast one; a fast epoch also costs its own set-up.
UPDATE_SAMPLES = 8
TRACED_NS_PER_MAC = 0.8
TRACED_NS_PER_LAYER = 400_000
FAST_NS_PER_MAC = 0.25
FAST_NS_PER_LAYER = 50_000
FAST_NS_PER_EPOCH = 1_000_000
EDIT_NS = 1_000_000
REPLAY_BUDGET_S = 5.0  # the longest a link or a session file may keep its opener waiting


def replay_cost(trail: tuple[Event, ...], spec: NetworkSpec, n_train: int) -> float:
    """The seconds ``replay`` would take for ``trail`` on the reference machine, estimated
    before doing any work. A fast epoch counts a whole epoch, wherever it starts."""
    layers = len(spec.layers)
    ns = 0.0
    for event in trail:
        if isinstance(event, Phases):
            steps = event.n / (2 * layers + 2)
            macs = spec.n_params * (event.config.batch_size + UPDATE_SAMPLES)
            ns += steps * (macs * TRACED_NS_PER_MAC + layers * TRACED_NS_PER_LAYER)
        elif isinstance(event, FastEpoch):
            batch = min(event.config.batch_size, n_train)
            steps = -(-n_train // batch)
            macs = spec.n_params * (batch + UPDATE_SAMPLES)
            ns += FAST_NS_PER_EPOCH + steps * (macs * FAST_NS_PER_MAC + layers * FAST_NS_PER_LAYER)
        else:
            ns += EDIT_NS
    return ns / 1e9


def check_replay(trail: tuple[Event, ...], cost: float, budget_s: float) -> None:
    """Raise ReplayError for a trail holding loaded parameters, or one whose estimated
    ``cost`` (seconds) is over ``budget_s``."""
    if not replayable(trail):
        raise ReplayError(
            "This network holds parameters loaded from elsewhere; it cannot be replayed."
        )
    if cost > budget_s:
        raise ReplayError(
            f"Replaying its training would take about {cost:,.0f} s; a link or file may ask "
            f"for at most {budget_s:g} s of the server's time."
        )
