"""The activation gallery's data: every engine activation's curve and derivative (the engine's
own ``output`` and ``der``, not a re-derivation), and the properties that matter for training.

``FACTS`` is the small table the page shows beside each curve: the output range, which sides
saturate (f' tends to 0, so gradients through the unit fade), whether outputs are centred on
zero (all-positive outputs push every weight of the next layer the same way in one step), and
the dead zone (where f' is exactly 0, so a unit stuck there never learns again). ``bounds``
restates the range as numbers, so a test can hold the text to the curve.

Softmax couples the units of a layer, so on its own it is shown as unit 1 of softmax(z, 0),
with the Jacobian's diagonal as its derivative. Left out: plotting (``explorer.figures.compare``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from explorer.engine import ACTIVATIONS
from explorer.engine.types import Array

INF = math.inf


@dataclass(frozen=True)
class ActivationFacts:
    """``bounds``: (inf, sup) of f; ``saturates``: the sides ("left", "right") where f' fades
    to 0 without being 0; ``dead_zone``: where f' is exactly 0 ("" if nowhere)."""

    range: str
    bounds: tuple[float, float]
    saturates: tuple[str, ...]
    zero_centred: str
    dead_zone: str
    note: str


FACTS: dict[str, ActivationFacts] = {
    "identity": ActivationFacts(
        "(-∞, ∞)",
        (-INF, INF),
        (),
        "yes",
        "",
        "Linear: any stack of identity layers is one linear map, so it learns no curves.",
    ),
    "sigmoid": ActivationFacts(
        "(0, 1)",
        (0.0, 1.0),
        ("left", "right"),
        "no (mean 0.5)",
        "",
        "f' is at most 0.25: each sigmoid layer shrinks the gradient at least fourfold, "
        "so deep sigmoid nets barely train their first layers (vanishing gradients).",
    ),
    "tanh": ActivationFacts(
        "(-1, 1)",
        (-1.0, 1.0),
        ("left", "right"),
        "yes",
        "",
        "A rescaled sigmoid (2σ(2z) − 1) with slope 1 at 0: centred and steeper, but it "
        "saturates beyond |z| ≈ 2.",
    ),
    "relu": ActivationFacts(
        "[0, ∞)",
        (0.0, INF),
        (),
        "no",
        "z ≤ 0",
        "Slope exactly 1 for z > 0: gradients pass undiminished. A unit whose z is negative "
        "for every input outputs 0, gets no gradient and stays dead.",
    ),
    "leaky_relu": ActivationFacts(
        "(-∞, ∞)",
        (-INF, INF),
        (),
        "nearly",
        "",
        "ReLU with slope 0.01 below 0: no unit can die.",
    ),
    "elu": ActivationFacts(
        "(-1, ∞)",
        (-1.0, INF),
        ("left",),
        "nearly",
        "",
        "Smooth below 0 and tending to -1 there: negative outputs pull the mean toward 0.",
    ),
    "gelu": ActivationFacts(
        "[-0.17, ∞)",
        (-0.1701, INF),
        ("left",),
        "nearly",
        "",
        "A smooth ReLU (z times a soft gate) with a small dip below 0, used in transformers.",
    ),
    "softplus": ActivationFacts(
        "(0, ∞)",
        (0.0, INF),
        ("left",),
        "no",
        "",
        "A smooth ReLU; its derivative is the sigmoid.",
    ),
    "silu": ActivationFacts(
        "[-0.28, ∞)",
        (-0.2785, INF),
        ("left",),
        "nearly",
        "",
        "z σ(z), also called swish: like GELU, a smooth ReLU with a small dip.",
    ),
    "softmax": ActivationFacts(
        "(0, 1), summing to 1",
        (0.0, 1.0),
        ("left", "right"),
        "no",
        "",
        "Normalises a whole layer into probabilities: output layer only. Shown: unit 1 of "
        "softmax(z, 0), which is σ(z).",
    ),
}


def curve(name: str, z: Array) -> tuple[Array, Array]:
    """f(z) and f'(z) for activation ``name``, from the engine's own functions."""
    act = ACTIVATIONS[name]
    if act.elementwise:
        return act.output(z), act.der(z)
    pair = np.column_stack([z, np.zeros_like(z)])
    return act.output(pair)[:, 0], act.der(pair)[:, 0]
