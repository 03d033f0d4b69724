"""The replay budget: how long the most work a link (or a session file) may ask takes to open.

A link's trail is replayed on the opener's script thread, so ``explorer.engine.trail``
estimates its cost before doing any work and refuses a trail over ``REPLAY_BUDGET_S``. This
measures, for the shapes a sidebar builds (the lesson's 784-16-16-10 and the widest,
784-128x6-10, on the MNIST sample; a 2-D set) and batch sizes 1, 32 and 512, on both paths a
trail uses (traced phases, fast epochs): the replay time against the estimate (a ratio above 1
means the model is optimistic there), and the wall time of the worst link the budget allows.
The same for the CNN of the Convolution page (``explorer.engine.conv.replay``): the default
block, the largest single block (16 filters 5x5, same, no pool) and the largest two blocks,
on the MNIST sample and the 8x8 digits, its fast epochs on the first ``CNN_ROWS`` images (an
epoch of the largest network at batch 1 takes minutes; the estimate counts the rows).
Prints a table and one JSON line. Not part of the test run.
"""

from __future__ import annotations

import json
import math
import statistics
import time

from explorer.data import load_dataset
from explorer.engine import (
    REPLAY_BUDGET_S,
    FastEpoch,
    Phases,
    Stepper,
    TrainConfig,
    replay,
    replay_cost,
)
from explorer.engine.conv import ConvBlockSpec, ConvNetSpec, ConvStepper
from explorer.engine.conv.replay import conv_replay_cost, replay_conv
from explorer.engine.spec import LayerSpec
from explorer.state.settings import Settings
from explorer.state.share import MAX_TRAIL_ITEMS

SHAPES = {
    "784-16-16-10": ("mnist-sample", (16, 16)),
    "784-128x6-10": ("mnist-sample", (128,) * 6),
    "2-4-2-1": ("circle", (4, 2)),
}
BATCHES = (1, 32, 512)
BIG = ConvBlockSpec(16, 5, "same", "relu", True)
CNN_SHAPES = {
    "default CNN": ("mnist-sample", (ConvBlockSpec(),)),
    "conv 5x5 x16 same": ("mnist-sample", (ConvBlockSpec(16, 5, "same", "relu", False),)),
    "two 5x5 x16 blocks": ("mnist-sample", (BIG, ConvBlockSpec(16, 5, "same", "relu", False))),
    "8x8 default CNN": ("digits-8x8", (ConvBlockSpec(),)),
}
CNN_ROWS = 1024


def stepper(dataset_key: str, hidden: tuple[int, ...], batch: int) -> Stepper:
    data = load_dataset(dataset_key)
    head = "softmax + cross-entropy" if data.n_classes > 2 else "sigmoid + binary cross-entropy"
    settings = Settings(
        dataset=dataset_key,
        hidden_sizes=hidden,
        hidden_activations=("relu",) * len(hidden),
        head=head,
        batch_size=batch,
    )
    spec = settings.network_spec(data)
    return Stepper(spec, settings.train_config(), data.x_train, data.y_train)


def timed(make: Stepper, trail: tuple, budget_s: float = REPLAY_BUDGET_S) -> float:  # type: ignore[type-arg]
    start = time.perf_counter()
    replay(make, trail, budget_s=budget_s)
    return time.perf_counter() - start


def conv_stepper(key: str, blocks: tuple[ConvBlockSpec, ...], batch: int) -> ConvStepper:
    data = load_dataset(key)
    spec = ConvNetSpec(data.input_shape, blocks, (LayerSpec(data.n_classes, "softmax"),))
    x, y = data.x_train[:CNN_ROWS], data.y_train[:CNN_ROWS]
    return ConvStepper(spec, TrainConfig(learning_rate=0.01, batch_size=batch), x, y)


def conv_rows() -> list[dict[str, object]]:
    """Measured against estimated replay of CNN trails: a few traced steps, one fast epoch."""
    rows: list[dict[str, object]] = []
    for name, (key, blocks) in CNN_SHAPES.items():
        for batch in BATCHES:
            config = TrainConfig(learning_rate=0.01, batch_size=batch)
            probe = conv_stepper(key, blocks, batch)
            steps = max(2, min(20, 640 // batch))
            phases = 2 * probe.spec.n_layers + 2
            for path in ("traced", "fast"):
                trail = (
                    (Phases(phases * steps, config),) if path == "traced" else (FastEpoch(config),)
                )
                times = []
                for _ in range(3):
                    fresh = conv_stepper(key, blocks, batch)
                    start = time.perf_counter()
                    replay_conv(fresh, trail, budget_s=math.inf)
                    times.append(time.perf_counter() - start)
                estimate = conv_replay_cost(trail, probe.spec, probe.n_train)
                rows.append(
                    {
                        "network": name,
                        "batch": batch,
                        "path": path,
                        "measured_s": statistics.median(times),
                        "estimated_s": estimate,
                        "ratio": statistics.median(times) / estimate,
                    }
                )
    return rows


def main() -> None:
    rows = []
    for name, (key, hidden) in SHAPES.items():
        for batch in BATCHES:
            config = TrainConfig(learning_rate=0.01, batch_size=batch)
            probe = stepper(key, hidden, batch)
            phases = 2 * len(probe.spec.layers) + 2
            for path in ("traced", "fast"):
                short = (Phases(phases * 20, config),) if path == "traced" else (FastEpoch(config),)
                times = [timed(stepper(key, hidden, batch), short, math.inf) for _ in range(3)]
                estimate = replay_cost(short, probe.spec, probe.n_train)
                rows.append(
                    {
                        "network": name,
                        "batch": batch,
                        "path": path,
                        "measured_s": statistics.median(times),
                        "estimated_s": estimate,
                        "ratio": statistics.median(times) / estimate,
                    }
                )
    # The worst link a user may open: the shape whose estimate is the most optimistic, with as
    # much of it as the budget (and a link's MAX_TRAIL_ITEMS) allows.
    worst = max(rows, key=lambda r: r["ratio"])
    key, hidden = SHAPES[worst["network"]]
    config = TrainConfig(learning_rate=0.01, batch_size=worst["batch"])
    probe = stepper(key, hidden, worst["batch"])
    phases = 2 * len(probe.spec.layers) + 2
    if worst["path"] == "traced":
        steps = int(REPLAY_BUDGET_S / worst["estimated_s"] * 20)
        full: tuple = (Phases(phases * steps, config),)  # type: ignore[type-arg]
    else:
        epochs = min(int(REPLAY_BUDGET_S / worst["estimated_s"]), MAX_TRAIL_ITEMS)
        full = (FastEpoch(config),) * epochs
    worst_s = timed(probe, full)

    print(f"Replay budget {REPLAY_BUDGET_S:g} s (estimated on the reference machine)")
    print(
        f"{'network':<14}{'batch':>6}  {'path':<7}{'measured s':>11}{'estimate s':>11}{'ratio':>7}"
    )
    for r in rows:
        print(
            f"{r['network']:<14}{r['batch']:>6}  {r['path']:<7}{r['measured_s']:>11.3f}"
            f"{r['estimated_s']:>11.3f}{r['ratio']:>7.2f}"
        )
    print(
        f"Worst allowed link: {worst['network']}, batch {worst['batch']}, {worst['path']}, "
        f"{len(full)} trail items, estimated {replay_cost(full, probe.spec, probe.n_train):.2f} s,"
        f" replayed in {worst_s:.2f} s"
    )
    cnn = conv_rows()
    print(f"CNN (fast epochs on the first {CNN_ROWS:,} images)")
    for r in cnn:
        print(
            f"{r['network']:<20}{r['batch']:>6}  {r['path']:<7}{r['measured_s']:>11.3f}"
            f"{r['estimated_s']:>11.3f}{r['ratio']:>7.2f}"
        )
    result = {
        "bench": "replay",
        "budget_s": REPLAY_BUDGET_S,
        "rows": rows,
        "worst_s": worst_s,
        "cnn_rows": cnn,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
