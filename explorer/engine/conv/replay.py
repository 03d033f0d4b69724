"""Replaying a CNN's trail on a fresh ConvStepper, with the cost counted first.

A CNN's trail holds what its Stepper records (phases under a training config, fast epochs,
parameters loaded from elsewhere); there are no hand edits. ``replay_conv`` estimates the
seconds the trail would take on the reference machine before doing any of it and refuses one
over the budget, as ``explorer.engine.replay`` does for an MLP: a link is anyone's to
craft, and it replays on the opener's script thread.

The cost model counts a sample's work through a step as multiply-adds (each block's twice,
for its forward and kernel gradient, three times when its input gradient is formed too; the
dense part's twice) and values moved (each block's im2col matrix and maps, written and read a
few times: ``MOVE_UNITS``). Moving costs more per value as the batch grows (the arrays leave
the caches: ``BATCH_SLOWDOWN``). A batch costs at least ``MIN_BATCH`` samples' worth (a small
batch is dominated by the calls around its matrices) plus a fixed time per step; the traced
path costs ``TRACED_FACTOR`` times the fast one (float64, every record kept) plus a fixed
time per layer. Fitted on the 2-core reference machine with bench/replay.py, which prints
measured time against this estimate (the estimate should stay above it).
"""

from __future__ import annotations

from explorer.engine.conv.spec import ConvNetSpec
from explorer.engine.conv.stepper import ConvStepper
from explorer.engine.trail import (
    REPLAY_BUDGET_S,
    Edit,
    Event,
    FastEpoch,
    Phases,
    ReplayError,
    check_replay,
)

MOVE_UNITS = 4
MIN_BATCH = 4
BATCH_SLOWDOWN = 256  # moving a value costs twice as much at a batch of this size
NS_PER_MAC = 0.6
NS_PER_MOVE = 2.0
NS_PER_STEP = 300_000
NS_PER_EPOCH = 2_000_000
TRACED_FACTOR = 2.0
TRACED_NS_PER_LAYER = 1_500_000
LOADED_NS = 1_000_000


def sample_work(spec: ConvNetSpec) -> tuple[int, int]:
    """One sample's (multiply-adds, values moved) through a whole step."""
    macs = moves = 0
    for i, (block, shapes) in enumerate(zip(spec.blocks, spec.block_shapes, strict=True)):
        c = shapes.input[0]
        f, ho, wo = shapes.conv
        cols = c * block.kernel * block.kernel * ho * wo
        macs += cols * f * (3 if i else 2)
        moves += MOVE_UNITS * (cols + f * ho * wo)
    sizes = spec.head.sizes
    macs += 2 * sum(sizes[i] * sizes[i + 1] for i in range(len(sizes) - 1))
    return macs, moves


def step_ns(spec: ConvNetSpec, batch: int) -> float:
    """One fast-path step of ``batch`` samples, in nanoseconds."""
    macs, moves = sample_work(spec)
    sample = macs * NS_PER_MAC + moves * NS_PER_MOVE * (1 + batch / BATCH_SLOWDOWN)
    return max(batch, MIN_BATCH) * sample + NS_PER_STEP


def conv_replay_cost(trail: tuple[Event, ...], spec: ConvNetSpec, n_train: int) -> float:
    """The seconds ``replay_conv`` would take for ``trail`` on the reference machine,
    estimated before doing any work. A fast epoch counts a whole epoch, wherever it starts."""
    phases = 2 * spec.n_layers + 2
    ns = 0.0
    for event in trail:
        if isinstance(event, Phases):
            batch = min(event.config.batch_size, n_train)
            step = TRACED_FACTOR * step_ns(spec, batch) + spec.n_layers * TRACED_NS_PER_LAYER
            ns += event.n / phases * step
        elif isinstance(event, FastEpoch):
            batch = min(event.config.batch_size, n_train)
            ns += NS_PER_EPOCH + -(-n_train // batch) * step_ns(spec, batch)
        else:
            ns += LOADED_NS
    return ns / 1e9


def replay_conv(
    stepper: ConvStepper, trail: tuple[Event, ...], *, budget_s: float = REPLAY_BUDGET_S
) -> None:
    """Apply ``trail`` to a fresh ``stepper`` (same spec, data, seed and initial weights as
    the one that made it). Raises ReplayError, before any work, for a trail that cannot or
    should not be replayed: loaded parameters, a hand edit (a CNN has none), or an
    estimated cost over ``budget_s``."""
    check_replay(trail, conv_replay_cost(trail, stepper.spec, stepper.n_train), budget_s)
    if any(isinstance(e, Edit) for e in trail):
        raise ReplayError("A CNN's training record holds no hand edits.")
    for event in trail:
        if isinstance(event, Phases):
            stepper.set_config(event.config)
            for _ in range(event.n):
                stepper.advance()
        elif isinstance(event, FastEpoch):
            stepper.set_config(event.config)
            stepper.run_epoch_fast()
