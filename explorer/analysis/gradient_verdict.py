"""The gradient check as the Explorer reports it: per layer, named as the graph names it, how
many gradients were compared with central finite differences, the largest relative error, and
pass or fail against a stated tolerance, how many were not compared because they sit at a
kink; one sentence for the whole network.

The tolerance: the engine's float64 backprop against extended-precision difference quotients
agrees to about 1e-9 on the lesson networks, so 1e-6 leaves room to spare and still catches
any real mistake (a wrong derivative is off by far more). A gradient whose p - h and p + h lie
across a kink (a ReLU switched on or off, a max-pool's winner changed) has a difference
quotient that is no derivative: the check flags it (``ParamCheck.at_kink``) and it is counted
here as not compared, never as a pass or a fail.

Left out: rendering (no streamlit here) and running the check (``explorer.engine.gradient_check``).
"""

from __future__ import annotations

from dataclasses import dataclass

from explorer.analysis.inspector import layer_name
from explorer.engine import GradientCheck, NetworkSpec
from explorer.engine.gradcheck import ParamCheck

TOLERANCE = 1e-6


@dataclass(frozen=True)
class LayerVerdict:
    """One layer's weights and bias: ``checked`` of its ``total`` gradients compared, and
    ``at_kink`` more drawn but not compared."""

    name: str
    checked: int
    total: int
    worst: float
    passed: bool
    at_kink: int = 0


def layer_verdict(name: str, parts: list[ParamCheck], total: int, tolerance: float) -> LayerVerdict:
    """The verdict on one layer's checked arrays ``parts`` (of ``total`` gradients)."""
    worst = max((c.max_rel_error for c in parts), default=0.0)
    at_kink = sum(int(c.at_kink.sum()) for c in parts)
    checked = sum(len(c.rel_error) for c in parts) - at_kink
    return LayerVerdict(name, checked, total, worst, worst <= tolerance, at_kink)


@dataclass(frozen=True)
class GradientVerdict:
    layers: tuple[LayerVerdict, ...]
    tolerance: float

    @property
    def passed(self) -> bool:
        return all(v.passed for v in self.layers)

    @property
    def at_kink(self) -> int:
        return sum(v.at_kink for v in self.layers)

    @property
    def summary(self) -> str:
        checked = sum(v.checked for v in self.layers)
        worst = max(v.worst for v in self.layers)
        kinks = (
            f" {self.at_kink:,} more were not compared: between p − h and p + h a ReLU switched "
            "on or off or a max-pool changed its winner, and across such a kink the difference "
            "quotient is no derivative."
            if self.at_kink
            else ""
        )
        if self.passed:
            return (
                f"Pass: all {checked:,} gradients checked agree with central finite differences "
                f"within a relative error of {self.tolerance:.0e} (largest {worst:.1e}).{kinks}"
            )
        failed = ", ".join(f"{v.name} (up to {v.worst:.1e})" for v in self.layers if not v.passed)
        return (
            f"Fail: backprop and finite differences differ by more than {self.tolerance:.0e} "
            f"in {failed}.{kinks}"
        )

    def rows(self) -> list[dict[str, str]]:
        return [
            {
                "layer": v.name,
                "checked": f"{v.checked:,} of {v.total:,}",
                **({"at a kink, not compared": f"{v.at_kink:,}"} if self.at_kink else {}),
                "largest relative error": f"{v.worst:.1e}",
                "verdict": "FAIL" if not v.passed else "pass" if v.checked else "not compared",
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
        name = f"{layer_name(spec, layer)} ({spec.layers[layer].activation})"
        total = spec.sizes[layer] * spec.sizes[layer + 1] + spec.sizes[layer + 1]
        layers.append(layer_verdict(name, parts, total, tolerance))
    return GradientVerdict(tuple(layers), tolerance)
