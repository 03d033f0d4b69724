"""Type aliases shared by the engine: one name for the arrays every trace holds, and the names
a spec, a config and a phase may take (checked again where they come from outside)."""

from __future__ import annotations

from typing import Any, Literal, TypeAlias

import numpy.typing as npt

Array: TypeAlias = npt.NDArray[Any]
LossName: TypeAlias = Literal["mse", "cross_entropy", "binary_cross_entropy"]
OptimizerName: TypeAlias = Literal["sgd", "momentum", "adam"]
PhaseKind: TypeAlias = Literal["forward", "error", "backward", "update"]
