"""Torch backend benchmark: samples per second of full training, against the matmul rate of the
same device.

- 784-16-16-10 (ReLU, softmax + cross-entropy, SGD) for one epoch of 60,000 MNIST-shaped
  float32 samples, resident on the device, at several batch sizes; on CUDA the steps run as
  CUDA graphs (the target: an epoch at batch 64 in <= 0.1 s). On the CPU the NumPy fast path
  runs the batch-64 epoch too, for reference.
- 784-1024-1024-10, same set-up: a full epoch on a GPU, ``--wide-steps`` steps on the CPU
  (a fraction of an epoch is enough for a rate). Its useful FLOP/s (forward, weight gradients,
  input gradients except the first layer's) are compared with the float32 matmul rate of a
  square matmul on the same device (torch's defaults: TF32 off).

Every contender gets a warm-up call first (which also captures the CUDA graphs), then the
median of ``--repeats`` timed calls. Prints a table and one JSON line. Not part of the tests.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable

import numpy as np
import torch

from explorer.engine import (
    LayerSpec,
    NetworkSpec,
    TrainConfig,
    encode_targets,
    epoch_batches,
    init_opt_state,
    init_params,
    train_steps,
)
from explorer.torch_backend.trainer import TorchTrainer, device_name, select_device


def mlp(*hidden: int) -> NetworkSpec:
    layers = (*(LayerSpec(n, "relu") for n in hidden), LayerSpec(10, "softmax"))
    return NetworkSpec(784, layers, "cross_entropy")


SMALL, WIDE = mlp(16, 16), mlp(1024, 1024)


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def median_time(fn: Callable[[], object], repeats: int, device: str) -> float:
    fn()  # warm-up: allocations, CUDA graph capture
    times = []
    for _ in range(repeats):
        sync(device)
        t0 = time.perf_counter()
        fn()
        sync(device)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def matmul_rate(device: str, n: int, repeats: int) -> float:
    """float32 FLOP/s of an n x n matmul on ``device`` (best of ``repeats`` rounds of 10)."""
    a = torch.randn(n, n, device=device)
    b = torch.randn(n, n, device=device)

    def ten() -> None:
        for _ in range(10):
            torch.mm(a, b)

    ten()
    best = min(median_time(ten, 1, device) for _ in range(repeats))
    return 20 * n**3 / best


def useful_flops(spec: NetworkSpec) -> int:
    """Per sample: 2 per weight forward, 2 for its gradient, 2 for the input gradient (the
    first layer's input gradient is never formed)."""
    s = spec.sizes
    weights = [s[i] * s[i + 1] for i in range(len(s) - 1)]
    return 4 * sum(weights) + 2 * sum(weights[1:])


def trainer_run(
    spec: NetworkSpec, x: np.ndarray, y: np.ndarray, batch: int, steps: int | None, device: str
) -> tuple[Callable[[], object], int]:
    """A call that trains ``steps`` batches (an epoch if None), and the samples it covers."""
    params = init_params(spec, np.random.default_rng(0), dtype=np.float32)
    config = TrainConfig("sgd", learning_rate=0.01, batch_size=batch)
    trainer = TorchTrainer(spec, params, config, x, y, device=device)
    batches = epoch_batches(len(x), batch, seed=0, epoch=0)[:steps]
    return (lambda: trainer.train_batches(batches)), sum(len(b) for b in batches)


def numpy_run(x: np.ndarray, y: np.ndarray) -> Callable[[], object]:
    params = init_params(SMALL, np.random.default_rng(0), dtype=np.float32)
    config = TrainConfig("sgd", learning_rate=0.01, batch_size=64)
    state = init_opt_state(params, config)
    target = encode_targets(SMALL, y)
    batches = epoch_batches(len(x), 64, seed=0, epoch=0)
    return lambda: train_steps(SMALL, params, state, config, x, target, batches)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--samples", type=int, default=60_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--small-batches", default="64,256,1024,4096")
    parser.add_argument("--wide-batches", default="256,1024,4096")
    parser.add_argument("--wide-steps", type=int, default=None, help="default: epoch on a GPU")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = select_device(args.device)
    gpu = device != "cpu"
    wide_steps = args.wide_steps or (None if gpu else 8)

    rng = np.random.default_rng(0)
    x = rng.random((args.samples, 784), dtype=np.float32)
    y = rng.integers(0, 10, args.samples)
    rows: list[tuple[str, int, float, float]] = []  # (network, batch, seconds, samples/s)
    for batch in (int(b) for b in args.small_batches.split(",")):
        run, n = trainer_run(SMALL, x, y, batch, None, device)
        seconds = median_time(run, args.repeats, device)
        rows.append((SMALL.describe(), batch, seconds, n / seconds))
    if not gpu:
        seconds = median_time(numpy_run(x, y), args.repeats, device)
        rows.append((f"{SMALL.describe()} numpy", 64, seconds, args.samples / seconds))
    square = 4096 if gpu else 1024
    rates = [matmul_rate(device, square, args.repeats)]  # before and after: load may vary
    wide: dict[int, float] = {}
    for batch in (int(b) for b in args.wide_batches.split(",")):
        run, n = trainer_run(WIDE, x, y, batch, wide_steps, device)
        seconds = median_time(run, args.repeats, device)
        wide[batch] = n / seconds
        rows.append((WIDE.describe(), batch, seconds, n / seconds))
    rate = max(*rates, matmul_rate(device, square, args.repeats))
    best_wide = max(wide.values()) * useful_flops(WIDE)

    name = device_name(torch.device(device))
    threads = torch.get_num_threads()
    print(f"device: {name}   torch {torch.__version__}   cpu threads {threads}")
    print(f"{'network':<26}{'batch':>7}{'seconds':>10}{'samples/s':>14}")
    for net, batch, seconds, sps in rows:
        print(f"{net:<26}{batch:>7}{seconds:>10.4f}{sps:>14,.0f}")
    print(f"float32 matmul rate: {rate / 1e12:.3f} TFLOP/s")
    print(f"wide net at its best batch: {best_wide / 1e12:.3f} TFLOP/s = {best_wide / rate:.0%}")
    result = {
        "bench": "torch_train",
        "device": name,
        "torch": torch.__version__,
        "cpu_threads": threads,
        "samples": args.samples,
        "rows": [
            {"network": net, "batch": b, "seconds": s, "samples_per_s": sps}
            for net, b, s, sps in rows
        ],
        "wide_steps": wide_steps,
        "matmul_tflops": rate / 1e12,
        "wide_tflops": best_wide / 1e12,
        "wide_to_matmul": best_wide / rate,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
