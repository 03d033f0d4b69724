"""Type aliases shared by the engine: one name for the arrays every trace holds."""

from __future__ import annotations

from typing import Any, TypeAlias

import numpy.typing as npt

Array: TypeAlias = npt.NDArray[Any]
