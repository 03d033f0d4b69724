"""The gradient check as the Explorer reports it: per layer, named as the graph names it, how
many gradients were compared with central finite differences, the largest relative error, and
pass or fail against a stated tolerance; one sentence for the whole network.

The tolerance: the engine's float64 backprop against extended-precision difference quotients
agrees to about 1e-9 on the lesson networks, so 1e-6 leaves room to spare and still catches
any real mistake (a wrong derivative is off by far more). A ReLU whose total input lies within
h of its kink for some sample of the batch can fail it without a bug.

Left out: rendering (no streamlit here) and running the check (``explorer.engine.gradient_check``).
"""

from __future__ import annotations

from dataclasses import dataclass

from explorer.engine import GradientCheck, NetworkSpec
from explorer.inspector import layer_name

TOLERANCE = 1e-6


@dataclass(frozen=True)
class LayerVerdict:
    """One layer's weights and bias: ``checked`` of its ``total`` gradients compared."""

    name: str
    checked: int
    total: int
    worst: float
    passed: bool


@dataclass(frozen=True)
class GradientVerdict:
    layers: tuple[LayerVerdict, ...]
    tolerance: float

    @property
    def passed(self) -> bool:
        return all(v.passed for v in self.layers)

    @property
    def summary(self) -> str:
        checked = sum(v.checked for v in self.layers)
        worst = max(v.worst for v in self.layers)
        if self.passed:
            return (
                f"Pass: all {checked:,} gradients checked agree with central finite differences "
                f"within a relative error of {self.tolerance:.0e} (largest {worst:.1e})."
            )
        failed = ", ".join(f"{v.name} (up to {v.worst:.1e})" for v in self.layers if not v.passed)
        return (
            f"Fail: backprop and finite differences differ by more than {self.tolerance:.0e} "
            f"in {failed}. A ReLU whose total input lies within h = 1e-6 of 0 for a sample "
            "can do this without a bug; after a step or on another batch it passes."
        )

    def rows(self) -> list[dict[str, str]]:
        return [
            {
                "layer": v.name,
                "checked": f"{v.checked:,} of {v.total:,}",
                "largest relative error": f"{v.worst:.1e}",
                "verdict": "pass" if v.passed else "FAIL",
            }
            for v in self.layers
        ]


def gradient_verdict(
    spec: NetworkSpec, check: GradientCheck, tolerance: float = TOLERANCE
) -> GradientVerdict:
    """``check``'s layers, weights and bias together, each against ``tolerance``."""
    layers = []
    for layer in range(len(spec.layers)):
        parts = [c for c in check.checks if c.layer == layer]
        worst = max((c.max_rel_error for c in parts), default=0.0)
        name = f"{layer_name(spec, layer)} ({spec.layers[layer].activation})"
        layers.append(
            LayerVerdict(
                name,
                sum(len(c.rel_error) for c in parts),
                spec.sizes[layer] * spec.sizes[layer + 1] + spec.sizes[layer + 1],
                worst,
                worst <= tolerance,
            )
        )
    return GradientVerdict(tuple(layers), tolerance)
