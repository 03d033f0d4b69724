"""Mini-batch order: a fresh, deterministic shuffle per epoch from an explicit seed.

The order of epoch ``e`` depends only on (seed, e), so any position in training can be rebuilt
without replaying the random stream. The last batch of an epoch may be smaller (as torch's
DataLoader with drop_last=False).
"""

from __future__ import annotations

import numpy as np

from explorer.engine.types import Array


def epoch_order(n: int, seed: int, epoch: int) -> Array:
    """The permutation of the n training samples used in ``epoch``."""
    return np.random.default_rng((seed, epoch)).permutation(n)


def epoch_batches(n: int, batch_size: int, seed: int, epoch: int) -> list[Array]:
    """The index arrays of every mini-batch of ``epoch``, in order."""
    order = epoch_order(n, seed, epoch)
    return [order[i : i + batch_size] for i in range(0, n, batch_size)]
