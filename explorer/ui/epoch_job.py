"""Train for N epochs on the fast path in chunks, so that a page can redraw, show progress and
offer a Stop button between them.

A ``TrainJob`` counts the epochs asked for and done, and remembers the state it left the
Stepper in. Its ``advance`` trains whole epochs (``Stepper.run_epoch_fast``) until its time budget
is spent and records the metrics after each, so the curves get a point per epoch; every epoch
after the first folds into the first one's history entry, so one step back undoes the whole run
and the stepwise history before it stays as it was. A job whose Stepper has moved since (a step
on another page, a rebuilt network, a new optimizer) is stale and must be dropped.

No widgets here: the page keeps the job in its session and ``job_fragment`` advances it on a
timer. Left out: the torch backend (this is the NumPy fast path).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import partial

from explorer.engine import Stepper, StepState
from explorer.ui.session import Run, act


@dataclass
class TrainJob:
    """``epochs`` to train on ``run``'s ``stepper``, ``done`` so far; ``last``: the state it
    left. A ``ChunkedJob`` (explorer.ui.job_fragment)."""

    run: Run
    stepper: Stepper
    epochs: int
    last: StepState
    done: int = 0
    failed: bool = False  # stopped by an overflow, which ``run.failure`` names

    @property
    def fraction(self) -> float:
        return self.done / self.epochs

    @property
    def running(self) -> bool:
        return self.done < self.epochs and not self.failed

    def stale(self, run: Run) -> bool:
        """Whether something other than this job moved the run's network since."""
        return run.stepper is not self.stepper or run.stepper.state is not self.last

    def advance(self, budget_s: float) -> None:
        """Train epochs until ``budget_s`` seconds have passed (at least one epoch) or the job
        is over: done, or stopped by an overflow, keeping the epochs trained before it."""
        began = time.perf_counter()
        while self.running:
            act(self.run, partial(Stepper.run_epoch_fast, continued=self.done > 0))
            if self.run.failure:
                self.failed = True
                return
            self.done += 1
            self.last = self.run.stepper.state
            if time.perf_counter() - began >= budget_s:
                return


def start(run: Run, epochs: int) -> TrainJob:
    """A job for ``epochs`` epochs from where the run stands (an epoch under way counts as the
    first: its rest is trained); Play, if on, stops."""
    if epochs < 1:
        raise ValueError(f"Train at least one epoch, not {epochs}.")
    run.play = None
    return TrainJob(run, run.stepper, epochs, run.stepper.state)
