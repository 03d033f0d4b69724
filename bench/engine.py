"""Engine benchmark: the fast path against torch (CPU) and against the FLOP floor, and one
fully traced Stepper step.

784-16-16-10, ReLU, softmax + cross-entropy, SGD, batch 64, one epoch of 60,000 synthetic
MNIST-shaped float32 samples. The contenders run interleaved, round after round, on the same
batches, so their ratios are measured under the same machine load; medians of ``--repeats``.
Prints a table and one JSON line. Not part of the test run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
from collections.abc import Callable

import numpy as np
from timing import timed, torch_sgd_epoch  # bench/timing.py

from explorer.engine import (
    LayerSpec,
    NetworkSpec,
    Stepper,
    TrainConfig,
    encode_targets,
    epoch_batches,
    init_opt_state,
    init_params,
    train_steps,
)

SPEC = NetworkSpec(
    784, (LayerSpec(16, "relu"), LayerSpec(16, "relu"), LayerSpec(10, "softmax")), "cross_entropy"
)
CONFIG = TrainConfig(optimizer="sgd", learning_rate=0.01, batch_size=64)


def sgemm_rate(n: int = 2048) -> float:
    """Best of a few float32 n x n matmuls, in FLOP/s."""
    a = np.random.default_rng(0).random((n, n), dtype=np.float32)
    best = min(timed(lambda: a @ a) for _ in range(5))
    return 2 * n**3 / best


def torch_epoch(x: np.ndarray, y: np.ndarray, batches: list[np.ndarray]) -> Callable[[], None]:
    import torch

    torch.set_num_threads(2)
    p = init_params(SPEC, np.random.default_rng(0), dtype=np.float32)
    layers = []
    for w, b in zip(p.weights, p.biases, strict=True):
        lin = torch.nn.Linear(*w.shape)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(w.T.copy()))
            lin.bias.copy_(torch.from_numpy(b.copy()))
        layers.append(lin)
    model = torch.nn.Sequential(layers[0], torch.nn.ReLU(), layers[1], torch.nn.ReLU(), layers[2])
    return torch_sgd_epoch(model, CONFIG.learning_rate, x, y, batches)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=int, default=60_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    x = rng.random((args.samples, 784), dtype=np.float32)
    y = rng.integers(0, 10, args.samples)
    target = encode_targets(SPEC, y)
    batches = epoch_batches(args.samples, CONFIG.batch_size, seed=0, epoch=0)
    params = init_params(SPEC, np.random.default_rng(0), dtype=np.float32)
    state = init_opt_state(params, CONFIG)

    def fast() -> None:
        train_steps(SPEC, params, state, CONFIG, x, target, batches)

    contenders: dict[str, Callable[[], None]] = {"fast path": fast}
    with contextlib.suppress(ImportError):
        contenders["torch cpu"] = torch_epoch(x, y, batches)
    times: dict[str, list[float]] = {name: [] for name in contenders}
    rates: list[float] = []
    for _ in range(args.repeats):
        rates.append(sgemm_rate())
        for name, fn in contenders.items():
            times[name].append(timed(fn))
    med = {name: statistics.median(t) for name, t in times.items()}
    flops = 6 * args.samples * SPEC.n_params
    floor = flops / max(rates)

    stepper = Stepper(SPEC, TrainConfig(batch_size=32), x[:10_000], y[:10_000], seed=0)
    step_times = [timed(stepper.finish_step) for _ in range(300)]
    step_ms = statistics.median(step_times) * 1e3

    result = {
        "fast_epoch_s": med["fast path"],
        "torch_epoch_s": med.get("torch cpu"),
        "speedup_vs_torch": med["torch cpu"] / med["fast path"] if "torch cpu" in med else None,
        "flop_floor_s": floor,
        "ratio_to_flop_floor": med["fast path"] / floor,
        "sgemm_gflops": max(rates) / 1e9,
        "traced_step_ms": step_ms,
    }
    print(f"{'measure':<28}{'value':>12}")
    for name, value in result.items():
        print(f"{name:<28}{'n/a' if value is None else f'{value:12.4f}':>12}")
    print(json.dumps({"bench": "engine", **result}))


if __name__ == "__main__":
    main()
