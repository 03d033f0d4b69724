"""The Stepper's step-back history, held as recipes between sparse snapshots.

A state of the lesson network (784-16-16-10, batch 32) is about 0.45 MiB: its parameters, the
parameters before the update, the batch and every trace. Two hundred of them per student is
what made a class's server run out of memory. But training is deterministic (the same numpy
operations on the same inputs give the same bits), so a state in the history follows exactly
from the one before it and what was done to it. An entry therefore holds:

- ``action``: the trail event run from it (phases under their TrainConfig, or a weight edit),
  which the Stepper redoes to reach the next entry;
- ``switch``: the optimizer ``set_config`` switched to on this state after it was reached (a
  fresh optimizer state, which replaces the one the action left without an action of its own);
- ``state``: the whole state, kept only by anchors, the newest ``RECENT`` entries and the
  entries a walk back has just rebuilt.

An anchor keeps its state for good: one every ``SNAPSHOT_EVERY`` entries, the oldest, and any
state no recipe reaches (after a fast epoch, parameters loaded from elsewhere, a fast epoch
``continued`` without an entry of its own). Stepping back to an entry without a state redoes
at most ``SNAPSHOT_EVERY - 1`` actions from the nearest state before it, and keeps the states
it passes, so walking on back (the Reset button) redoes each step once. The newest entries
keep their states, so undoing the last click or two redoes nothing and returns the very
object. Entries older than the ``limit`` an action pushed out stay, unreachable, back to the
nearest anchor, as the base the oldest reachable entry is rebuilt from: evicting never redoes
anything.

Left out: what the states are and how actions run; ``redo`` and ``switch`` come from the
Stepper, and this module only decides what to keep.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from explorer.engine.spec import TrainConfig
from explorer.engine.trail import Edit, Event, Phases

# A rebuilt entry costs up to SNAPSHOT_EVERY - 1 redone actions, each a traced step at most
# (about 1.5 ms on 784-16-16-10 at batch 32 on the 2-core reference machine): ~25 ms, under
# the ~30 ms of the rerun a Next phase click costs. 200 entries then keep 13 anchors.
SNAPSHOT_EVERY = 16
RECENT = 2

S = TypeVar("S")


@dataclass(eq=False)
class _Entry(Generic[S]):
    action: Event
    switch: TrainConfig | None
    derived: bool  # the previous entry's action (and this switch) lead exactly here
    anchor: bool
    state: S | None


class History(Generic[S]):
    """The last ``limit`` states before an action, for stepping back bit for bit.

    ``redo(state, action)`` is the state ``action`` (a Phases or an Edit event) leads to from
    ``state``; ``switch(state, config)`` is ``state`` with the fresh optimizer state that
    ``set_config`` gives it when ``config`` changes the optimizer.
    """

    def __init__(
        self,
        limit: int,
        redo: Callable[[S, Event], S],
        switch: Callable[[S, TrainConfig], S],
    ) -> None:
        self._limit = limit
        self._redo = redo
        self._switch = switch
        self._entries: deque[_Entry[S]] = deque()
        self._depth = 0  # entries step back can reach, the newest ones
        # How the current state follows from the newest entry: by its action, then this switch.
        self._derived = False
        self._switched: TrainConfig | None = None

    def __len__(self) -> int:
        return self._depth

    def push(self, state: S, action: Event) -> None:
        """Record the current ``state`` before ``action`` runs from it; the state the action
        leads to becomes the current one."""
        if not self._limit:
            return
        anchor = (
            not self._derived or not self._entries or self._since_anchor() >= SNAPSHOT_EVERY - 1
        )
        self._entries.append(_Entry(action, self._switched, self._derived, anchor, state))
        # Only phases and edits are redone: a fast epoch is far slower than a traced step, and
        # loaded parameters are in no recipe. What follows them is pushed as an anchor.
        self._derived = isinstance(action, Phases | Edit)
        self._switched = None
        self._depth = min(self._depth + 1, self._limit)
        self._forget()

    def detach(self) -> None:
        """The current state changed without an entry of its own, in a way no recipe
        reproduces (a fast epoch ``continued``): it will be pushed as an anchor."""
        self._derived = False

    def switched(self, config: TrainConfig) -> None:
        """``set_config`` gave the current state ``config``'s fresh optimizer state."""
        self._switched = config

    def pop(self) -> S | None:
        """The newest reachable state, removed from the history; None when there is none."""
        if not self._depth:
            return None
        entry = self._entries[-1]
        state = entry.state if entry.state is not None else self._rebuild(len(self._entries) - 1)
        self._entries.pop()
        self._depth -= 1
        self._derived, self._switched = entry.derived, entry.switch
        if not self._depth:
            self.clear()
        return state

    def clear(self) -> None:
        self._entries.clear()
        self._depth = 0
        self._derived = False
        self._switched = None

    def _since_anchor(self) -> int:
        """Entries after the newest anchor (the oldest entry is always one)."""
        return next(i for i, e in enumerate(reversed(self._entries)) if e.anchor)

    def _rebuild(self, index: int) -> S:
        start = index
        while self._entries[start].state is None:
            start -= 1
        state = self._entries[start].state
        assert state is not None
        for i in range(start + 1, index + 1):
            state = self._redo(state, self._entries[i - 1].action)
            entry = self._entries[i]
            if entry.switch is not None:
                state = self._switch(state, entry.switch)
            entry.state = state  # the next step back starts from here
        return state

    def _forget(self) -> None:
        """Drop the states of non-anchors older than the newest RECENT entries, and the
        unreachable entries before the anchor the oldest reachable one is rebuilt from."""
        # Kept non-anchor states lie at the newest end, so the first one found without a state
        # ends the search.
        for i in range(len(self._entries) - 1 - RECENT, -1, -1):
            entry = self._entries[i]
            if entry.anchor:
                continue
            if entry.state is None:
                break
            entry.state = None
        base = len(self._entries) - self._depth
        while not self._entries[base].anchor:
            base -= 1
        for _ in range(base):
            self._entries.popleft()
