"""Initial CNN parameters: the MLP's initialisers, with torch's fans for a kernel.

A kernel (F, C, k, k) has fan_in = C k k and fan_out = F k k (torch.nn.init's convention) and
is drawn with the same formulas as ``explorer.engine.init``, in the kernel's own shape.
Dense layers are drawn exactly as ``explorer.engine.init`` draws them. Biases start at 0.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from explorer.engine.conv.spec import ConvNetSpec
from explorer.engine.init import INITIALIZERS
from explorer.engine.spec import Params, SpecError
from explorer.engine.types import Array

DEFAULT_INIT = "he_uniform"  # the blocks are ReLU by default


def _kernel(rng: np.random.Generator, method: str, shape: tuple[int, ...]) -> Array:
    """Kernel entries with the scale ``method`` gives a layer of these fans (iid, as every
    initialiser here draws them)."""
    f, c, k, _ = shape
    fan_in, fan_out = c * k * k, f * k * k
    if method == "zeros":
        return np.zeros(shape)
    if method == "uniform":
        return rng.uniform(-0.5, 0.5, shape)
    if method == "xavier_uniform":
        bound = np.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-bound, bound, shape)
    if method == "xavier_normal":
        return rng.normal(0.0, np.sqrt(2.0 / (fan_in + fan_out)), shape)
    if method == "he_uniform":
        bound = np.sqrt(6.0 / fan_in)
        return rng.uniform(-bound, bound, shape)
    if method == "he_normal":
        return rng.normal(0.0, np.sqrt(2.0 / fan_in), shape)
    return rng.normal(0.0, np.sqrt(1.0 / fan_in), shape)  # lecun_normal


def init_conv_params(
    spec: ConvNetSpec,
    rng: np.random.Generator,
    method: str = DEFAULT_INIT,
    *,
    dtype: npt.DTypeLike = np.float64,
) -> Params:
    """Fresh parameters for ``spec`` from ``rng``: kernels block by block, then the dense
    layers (drawn in float64, then cast)."""
    if method not in INITIALIZERS:
        known = ", ".join(INITIALIZERS)
        raise SpecError(f"Unknown initialization {method!r}; choose one of {known}.")
    weight_shapes, bias_shapes = spec.param_shapes
    weights = [_kernel(rng, method, s) for s in weight_shapes[: spec.n_blocks]]
    weights += [INITIALIZERS[method](rng, *s) for s in weight_shapes[spec.n_blocks :]]
    return Params(
        tuple(w.astype(dtype) for w in weights),
        tuple(np.zeros(s, dtype=dtype) for s in bias_shapes),
    )
