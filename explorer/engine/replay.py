"""Replaying a trail (``explorer.engine.trail``) on a fresh Stepper: the MLP's, beside the
Stepper it drives; ``explorer.engine.conv.replay`` is the CNN's."""

from __future__ import annotations

from explorer.engine.stepper import Stepper
from explorer.engine.trail import (
    REPLAY_BUDGET_S,
    Edit,
    Event,
    FastEpoch,
    Phases,
    check_replay,
    replay_cost,
)


def replay(
    stepper: Stepper, trail: tuple[Event, ...], *, budget_s: float = REPLAY_BUDGET_S
) -> None:
    """Apply ``trail`` to a fresh ``stepper`` (same spec, data, seed and initial weights as
    the one that made it). Raises ReplayError, before any work, for a trail that cannot or
    should not be replayed (loaded parameters, or an estimated cost over ``budget_s``)."""
    check_replay(trail, replay_cost(trail, stepper.spec, stepper.n_train), budget_s)
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
