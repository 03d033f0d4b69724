"""CNN engine benchmark: one traced step, one fast epoch against torch CPU, and accuracy.

The default CNN (28x28 -> conv 3x3 x4 -> ReLU -> max-pool 2x2 -> dense 10, softmax +
cross-entropy, SGD at 0.1, batch 32) on the MNIST sample's 8,000 training images:

- one traced ConvStepper step, all phases (``finish_step``), float64, and each phase alone
  (``advance``), medians of ``--steps``;
- one epoch on the NumPy fast path (float32) and in torch (CPU, float32, ``--torch-threads``
  threads: Conv2d, ReLU, MaxPool2d, Linear, CrossEntropyLoss, torch.optim.SGD) on the same
  batches, the two interleaved round after round so their ratio is measured under the same
  load; medians of ``--repeats``. One torch thread by default: on this shared 2-core machine
  torch's two-thread pool spends most of an epoch waiting for a core (10-30 s an epoch
  measured, against about 1 s with one thread), which would flatter the NumPy side;
- the same epoch through the torch backend's ``TorchTrainer`` (``explorer.torch_backend``'s
  ConvNet, what Full training and the command line run), interleaved with the two above;
- test accuracy after ``--epochs`` fast epochs from the seed-0 network.

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

from explorer.data import load_dataset
from explorer.engine import TrainConfig, epoch_batches, init_opt_state
from explorer.engine.conv import (
    DEFAULT_SPEC,
    ConvStepper,
    evaluate_conv,
    init_conv_params,
    train_conv_steps,
)
from explorer.engine.spec import Params

CONFIG = TrainConfig(optimizer="sgd", learning_rate=0.1, batch_size=32)


def torch_epoch(
    params: Params, x: np.ndarray, y: np.ndarray, batches: list[np.ndarray], threads: int
) -> Callable[[], None]:
    """One epoch of the same network in torch, from the same float32 parameters."""
    import torch

    torch.set_num_threads(threads)
    (kernel, dense_w), (conv_b, dense_b) = params.weights, params.biases
    conv = torch.nn.Conv2d(1, kernel.shape[0], kernel.shape[-1])
    lin = torch.nn.Linear(*dense_w.shape)
    with torch.no_grad():
        conv.weight.copy_(torch.from_numpy(kernel.copy()))
        conv.bias.copy_(torch.from_numpy(conv_b.copy()))
        lin.weight.copy_(torch.from_numpy(dense_w.T.copy()))
        lin.bias.copy_(torch.from_numpy(dense_b.copy()))
    model = torch.nn.Sequential(
        conv, torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.Flatten(), lin
    )
    images = x.reshape(len(x), 1, *DEFAULT_SPEC.input_shape)
    return torch_sgd_epoch(model, CONFIG.learning_rate, images, y, batches)


def backend_epoch(
    params: Params, x: np.ndarray, y: np.ndarray, batches: list[np.ndarray]
) -> Callable[[], None]:
    """One epoch through ``TorchTrainer`` on the cpu, from the same float32 parameters."""
    from explorer.torch_backend.trainer import TorchTrainer

    def epoch() -> None:
        trainer = TorchTrainer(DEFAULT_SPEC, params, CONFIG, x, y, device="cpu")
        trainer.train_batches(batches)

    return epoch


def traced(stepper: ConvStepper, steps: int) -> tuple[float, dict[str, float]]:
    """Median ms of a whole traced step (``finish_step``), and of each phase (``advance``)."""
    stepper.finish_step()  # warm up
    step_ms = statistics.median(timed(stepper.finish_step) for _ in range(steps)) * 1e3
    per_phase: dict[str, list[float]] = {}
    for _ in range(steps):
        for phase in stepper.phases:
            layer = "" if phase.layer is None else f": {stepper.spec.layer_name(phase.layer)}"
            per_phase.setdefault(phase.kind + layer, []).append(timed(stepper.advance))
    return step_ms, {k: statistics.median(v) * 1e3 for k, v in per_phase.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--torch-threads", type=int, default=1)
    args = parser.parse_args()

    data = load_dataset("mnist-sample")
    x, y = data.x_train, data.y_train
    spec = DEFAULT_SPEC
    step_ms, phase_ms = traced(ConvStepper(spec, CONFIG, x, y, seed=0), args.steps)

    params = init_conv_params(spec, np.random.default_rng(0), dtype=np.float32)
    state = init_opt_state(params, CONFIG)
    batches = epoch_batches(len(x), CONFIG.batch_size, seed=0, epoch=0)

    def fast() -> None:
        train_conv_steps(spec, params, state, CONFIG, x, y, batches)

    contenders: dict[str, Callable[[], None]] = {"numpy fast path": fast}
    with contextlib.suppress(ImportError):
        contenders["torch cpu"] = torch_epoch(params, x, y, batches, args.torch_threads)
        contenders["torch backend"] = backend_epoch(params, x, y, batches)
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(args.repeats):
        for name, fn in contenders.items():
            times[name].append(timed(fn))
    med = {name: statistics.median(t) for name, t in times.items()}

    trained, opt_state = params, state
    for epoch in range(args.epochs):
        order = epoch_batches(len(x), CONFIG.batch_size, seed=0, epoch=epoch)
        result = train_conv_steps(spec, trained, opt_state, CONFIG, x, y, order)
        trained, opt_state = result.params, result.opt_state
    test = evaluate_conv(spec, trained, data.x_test, data.y_test)

    row: dict[str, float | None] = {
        "traced_step_ms": step_ms,
        "fast_epoch_s": med["numpy fast path"],
        "torch_epoch_s": med.get("torch cpu"),
        "ratio_to_torch": med["numpy fast path"] / med["torch cpu"] if "torch cpu" in med else None,
        "torch_backend_epoch_s": med.get("torch backend"),
        f"test_accuracy_{args.epochs}_epochs": test.accuracy,
        f"test_loss_{args.epochs}_epochs": test.loss,
    }
    print(f"{spec.describe()}, {spec.n_params} parameters, batch {CONFIG.batch_size}")
    print(f"{'measure':<36}{'value':>12}")
    for name, value in {**row, **{f"  {k} (ms)": v for k, v in phase_ms.items()}}.items():
        print(f"{name:<36}{'n/a' if value is None else f'{value:12.4f}':>12}")
    print(json.dumps({"bench": "conv", **row, "phase_ms": phase_ms}))


if __name__ == "__main__":
    main()
