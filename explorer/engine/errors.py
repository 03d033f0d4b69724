"""The one error the engine raises while training: a value stopped being a finite number."""

from __future__ import annotations

from typing import Literal, TypeAlias

from explorer.engine.types import PhaseKind

# where a value can first stop being finite: the data itself, or one of the phases
FailedPhase: TypeAlias = PhaseKind | Literal["input"]


class NonFiniteError(FloatingPointError):
    """NaN or infinity first appeared in ``phase`` ("input" for the data itself, "forward",
    "error", "backward", "update") at ``layer`` (0-based; None for the error phase and the
    input). Nothing was overwritten: the parameters from before the failing phase are still
    the current ones."""

    def __init__(self, phase: FailedPhase, layer: int | None) -> None:
        self.phase = phase
        self.layer = layer
        if phase == "input":
            super().__init__(
                "The input holds NaN or infinite values: the data cannot be used as it is."
            )
            return
        where = {"error": "the loss", "update": "the weight update"}.get(phase, f"the {phase} pass")
        if layer is not None:
            where += f", layer {layer + 1}"
        super().__init__(
            f"The numbers overflowed (NaN or infinity) in {where}. "
            "Lower the learning rate or step back; the last finite network is kept."
        )
