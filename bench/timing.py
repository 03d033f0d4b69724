"""What the engine benchmarks share: a wall-clock timer and a torch reference epoch.

``torch_sgd_epoch`` is the loop both ``bench/engine.py`` and ``bench/conv.py`` race the NumPy
fast path against: plain torch.optim.SGD with CrossEntropyLoss over the same mini-batches,
nothing else in the loop. torch is imported only when it is asked for.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np


def timed(fn: Callable[[], object]) -> float:
    """Seconds one call of ``fn`` takes."""
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def torch_sgd_epoch(
    model: Any, learning_rate: float, x: np.ndarray, y: np.ndarray, batches: list[np.ndarray]
) -> Callable[[], None]:
    """A function that trains ``model`` (a torch module) for one epoch: SGD at
    ``learning_rate`` on cross-entropy, over ``batches`` (index arrays into x and labels y)."""
    import torch

    opt = torch.optim.SGD(model.parameters(), lr=learning_rate)
    xt, yt = torch.from_numpy(np.array(x)), torch.from_numpy(np.array(y))  # writable copies
    idx = [torch.from_numpy(b) for b in batches]
    loss_fn = torch.nn.CrossEntropyLoss()

    def run() -> None:
        for i in idx:
            opt.zero_grad()
            loss_fn(model(xt[i]), yt[i]).backward()
            opt.step()

    return run
