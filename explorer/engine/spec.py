"""What a network is and how it trains: the specs every other part of the app builds from.

``NetworkSpec`` fixes the architecture (input size, layers with their activations, loss),
``TrainConfig`` the optimisation (optimizer, rate, batch size, regularisation), ``Params`` the
numbers. All are frozen; invalid ones raise ``SpecError`` with a message a student can act on.
Index convention: layer ``l`` (0-based) maps ``a[l-1]`` (the input for ``l = 0``) to ``a[l]``
through ``W[l]`` of shape (fan_in, fan_out), so ``z[l] = a[l-1] @ W[l] + b[l]``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, get_args

import numpy as np
import numpy.typing as npt

from explorer.engine.activations import ACTIVATIONS
from explorer.engine.types import Array, LossName, OptimizerName

LOSSES: tuple[LossName, ...] = get_args(LossName)
OPTIMIZERS: tuple[OptimizerName, ...] = get_args(OptimizerName)
MAX_UNITS = 4096  # a guard against absurd sizes, far above anything the UI offers


class SpecError(ValueError):
    """An invalid network or training configuration; the message says what to change."""


def _whole(value: object) -> bool:
    """A whole number, and not a bool (``True`` is an int to Python, never a layer size)."""
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class LayerSpec:
    """One fully connected layer: ``size`` units, each applying ``activation`` to its z."""

    size: int
    activation: str

    def __post_init__(self) -> None:
        if not _whole(self.size) or not 1 <= self.size <= MAX_UNITS:
            raise SpecError(f"A layer needs between 1 and {MAX_UNITS} units, not {self.size!r}.")
        if self.activation not in ACTIVATIONS:
            known = ", ".join(ACTIVATIONS)
            raise SpecError(f"Unknown activation {self.activation!r}; choose one of {known}.")


@dataclass(frozen=True)
class NetworkSpec:
    """A multilayer perceptron; the last of ``layers`` is the output layer."""

    input_size: int
    layers: tuple[LayerSpec, ...]
    loss: LossName = "mse"

    def __post_init__(self) -> None:
        object.__setattr__(self, "layers", tuple(self.layers))
        if not _whole(self.input_size) or not 1 <= self.input_size <= 100_000:
            raise SpecError(
                f"The input needs between 1 and 100000 values, not {self.input_size!r}."
            )
        if not self.layers:
            raise SpecError("A network needs at least an output layer.")
        if self.loss not in LOSSES:
            raise SpecError(f"Unknown loss {self.loss!r}; choose one of {', '.join(LOSSES)}.")
        for layer in self.layers[:-1]:
            if layer.activation == "softmax":
                raise SpecError(
                    "Softmax normalises a whole layer: use it on the output layer only."
                )
        out = self.layers[-1]
        if self.loss == "cross_entropy" and out.activation != "softmax":
            raise SpecError("Cross-entropy needs a softmax output layer.")
        if self.loss == "cross_entropy" and out.size < 2:
            raise SpecError("Cross-entropy needs at least two output units (one per class).")
        if self.loss == "binary_cross_entropy" and out.activation != "sigmoid":
            raise SpecError("Binary cross-entropy needs a sigmoid output layer.")

    @property
    def sizes(self) -> tuple[int, ...]:
        """Units per layer, input first: (784, 16, 16, 10)."""
        return (self.input_size, *(layer.size for layer in self.layers))

    @property
    def n_params(self) -> int:
        s = self.sizes
        return sum(s[i] * s[i + 1] + s[i + 1] for i in range(len(s) - 1))

    def describe(self) -> str:
        """The usual shorthand, e.g. ``784-16-16-10``."""
        return "-".join(str(n) for n in self.sizes)


@dataclass(frozen=True)
class TrainConfig:
    """Optimiser settings, with torch.optim's conventions (l2 is weight decay on weights)."""

    optimizer: OptimizerName = "sgd"
    learning_rate: float = 0.1
    batch_size: int = 32
    l1: float = 0.0
    l2: float = 0.0
    momentum: float = 0.9
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8

    def __post_init__(self) -> None:
        if self.optimizer not in OPTIMIZERS:
            raise SpecError(
                f"Unknown optimizer {self.optimizer!r}; choose one of {', '.join(OPTIMIZERS)}."
            )
        for name in ("learning_rate", "l1", "l2", "momentum", "eps"):
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not math.isfinite(value)
                or value < 0
            ):
                raise SpecError(f"{name} must be a finite number >= 0, not {value!r}.")
        if not _whole(self.batch_size) or self.batch_size < 1:
            raise SpecError(f"The batch size must be a whole number >= 1, not {self.batch_size!r}.")
        if not all(
            not isinstance(b, bool) and isinstance(b, (int, float)) and 0 <= b < 1
            for b in (self.beta1, self.beta2)
        ):
            raise SpecError("Adam's betas must lie in [0, 1).")


@dataclass(frozen=True, eq=False)
class Params:
    """Weights and biases: ``weights[l]`` is (fan_in, fan_out), ``biases[l]`` is (fan_out,)."""

    weights: tuple[Array, ...]
    biases: tuple[Array, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "weights", tuple(self.weights))
        object.__setattr__(self, "biases", tuple(self.biases))
        # Params are shared by the step history: make accidental in-place edits fail loudly.
        for arr in (*self.weights, *self.biases):
            arr.flags.writeable = False

    @property
    def dtype(self) -> np.dtype[Any]:
        return self.weights[0].dtype

    def astype(self, dtype: npt.DTypeLike) -> Params:
        return Params(
            tuple(w.astype(dtype) for w in self.weights),
            tuple(b.astype(dtype) for b in self.biases),
        )

    def is_finite(self) -> bool:
        return all(np.isfinite(a).all() for a in (*self.weights, *self.biases))

    def check_shapes(self, spec: NetworkSpec) -> None:
        """Raise SpecError if these parameters do not belong to ``spec``."""
        s = spec.sizes
        if len(self.weights) != len(spec.layers) or len(self.biases) != len(spec.layers):
            raise SpecError(
                f"The parameters have {len(self.weights)} layers, the network {len(spec.layers)}."
            )
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            if w.shape != (s[i], s[i + 1]) or b.shape != (s[i + 1],):
                raise SpecError(
                    f"Layer {i + 1}: expected weights {(s[i], s[i + 1])} and biases "
                    f"{(s[i + 1],)}, got {w.shape} and {b.shape}."
                )
