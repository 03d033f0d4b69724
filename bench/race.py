"""Why GPUs benchmark: the page's race (``explorer.analysis.race``) from the command line.

784-W-W-10 (ReLU, softmax + cross-entropy, SGD 0.01, float32) on the MNIST sample, the same
initial weights and batches for the NumPy engine's fast path, torch on the CPU and torch on
CUDA: per contender and width, one warm-up call, then the median of ``--calls`` timed calls of
up to 16 steps (fewer for the widest, as on the page); samples/s, achieved matmul FLOP/s
(6W^2 + 3,196W per sample) and its share of the contender's own float32 matmul rate.

``--threads`` sets torch's CPU threads and NumPy's BLAS threads alike (on a busy CPU one
thread each is fastest: bench/RESULTS.md). ``--device cpu`` races the CPU contenders, ``cuda``
adds torch on CUDA and stops with a message when there is none, ``auto`` takes what is here.
Prints a table, the page's explanation and one JSON line. Not part of the tests.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys

from explorer.analysis.race import (
    CONTENDERS,
    DEFAULT_BATCH,
    TORCH_CUDA,
    WIDTHS,
    Contender,
    Race,
    contenders,
    explain,
    gpu_available,
)
from explorer.data import load_dataset
from explorer.torch_backend import torch_available


def entrants(device: str) -> tuple[Contender, ...]:
    here = contenders()
    if device == "cuda" and not gpu_available():
        sys.exit("no CUDA device here: bench/race.py --device cuda needs one")
    if device == "cpu":
        return tuple(c for c in here if c is not TORCH_CUDA)
    return here


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    parser.add_argument("--widths", default=",".join(str(w) for w in WIDTHS))
    parser.add_argument("--batch", type=int, default=DEFAULT_BATCH)
    parser.add_argument("--calls", type=int, default=5, help="timed calls per cell (median)")
    parser.add_argument(
        "--threads", type=int, default=None, help="CPU threads of torch and of NumPy's BLAS"
    )
    args = parser.parse_args()
    racers = entrants(args.device)
    if args.threads:  # scikit-learn's dependency, so always here
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.threads)
    threads = None
    if torch_available():
        import torch

        if args.threads:
            torch.set_num_threads(args.threads)
        threads = torch.get_num_threads()
    widths = tuple(int(w) for w in args.widths.split(","))
    job = Race(load_dataset("mnist-sample"), widths, args.batch, racers, calls=args.calls)
    while job.running:
        job.advance(60.0)
    if job.failure:
        sys.exit(job.failure)

    title = {c.key: c.title for c in CONTENDERS}
    print(f"{platform.processor() or platform.machine()}   torch cpu threads {threads}")
    print(f"batch {args.batch}, median of {args.calls} timed calls per cell")
    head = f"{'contender':<22}{'width':>7}{'steps':>7}{'ms/step':>11}{'samples/s':>12}"
    print(f"{head}{'GFLOP/s':>10}{'% matmul':>10}")
    for c in job.cells:
        share = c.flops_per_s / job.rates[c.contender]
        print(
            f"{title[c.contender]:<22}{c.width:>7,}{c.steps:>7}{c.step_seconds * 1e3:>11.3f}"
            f"{c.samples_per_s:>12,.0f}{c.flops_per_s / 1e9:>10.2f}{share:>10.1%}"
        )
    for key, rate in job.rates.items():
        print(f"float32 matmul rate, {title[key]}: {rate / 1e9:,.1f} GFLOP/s")
    for line in explain(job):
        print(f"- {line}")
    result = {
        "bench": "race",
        "batch": args.batch,
        "calls": args.calls,
        "torch_threads": threads,
        "matmul_gflops": {k: v / 1e9 for k, v in job.rates.items()},
        "cells": [
            {
                "contender": c.contender,
                "width": c.width,
                "steps": c.steps,
                "step_ms": c.step_seconds * 1e3,
                "samples_per_s": c.samples_per_s,
                "gflops": c.flops_per_s / 1e9,
            }
            for c in job.cells
        ],
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
