"""What the inspector reports for one unit: the numbers of each phase as the engine traced them,
and the same content formatted as the page's sections."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from explorer.engine import Phase

ErrorRule = Literal["chain", "softmax", "cross_entropy", "bce"]
"""How the output's delta came: dL/da times f'(z), softmax's Jacobian-vector product, or a
loss's shortcut (softmax with cross-entropy, sigmoid with binary cross-entropy)."""
Cell = float | int | str | None
Row = dict[str, Cell]


@dataclass(frozen=True)
class Term:
    """One term ``weight * value`` of a weighted sum; ``unit`` is the other end of the weight."""

    unit: int
    weight: float
    value: float
    product: float


@dataclass(frozen=True)
class InputNumbers:
    """An input unit: its value and its strongest outgoing weights (with gradients once known)."""

    value: float
    targets: tuple[int, ...]
    weights: tuple[float, ...]
    grads: tuple[float, ...] | None


@dataclass(frozen=True)
class ForwardNumbers:
    """z = sum_i w_i a_i + b: the ``terms`` with the largest |w_i a_i| and the ``rest`` summed."""

    z: float
    a: float
    bias: float
    terms: tuple[Term, ...]
    rest: float
    n_rest: int


@dataclass(frozen=True)
class ErrorNumbers:
    """The output unit's dL/da and delta = dL/dz; ``f_der`` is f'(z) where delta = dL/da f'(z)
    is how the engine got delta (None for the loss shortcuts and for the batch view)."""

    output_der: float
    input_der: float
    a: float
    target: float
    f_der: float | None
    rule: ErrorRule
    loss: float  # the batch's loss, as the engine computed it
    sample_loss: float | None  # the shown sample's share (the batch loss is their mean)
    label: int | None  # the shown sample's class, for cross-entropy


@dataclass(frozen=True)
class BackwardNumbers:
    """dL/da_j = sum_k w_jk delta_k over the layer above, then delta_j = dL/da_j f'(z_j)."""

    output_der: float
    input_der: float
    f_der: float | None
    terms: tuple[Term, ...]
    rest: float
    n_rest: int


@dataclass(frozen=True)
class WeightGradient:
    """dL/dw_ij for one incoming weight: the batch gradient ``grad`` and, for a shown sample,
    that sample's share ``a_source * delta`` (``share``; None for the batch view)."""

    source: int
    a_source: float
    share: float | None
    grad: float


@dataclass(frozen=True)
class GradientNumbers:
    """The bias gradient and the incoming weights with the largest |dL/dw|."""

    delta: float
    bias_grad: float
    weights: tuple[WeightGradient, ...]


@dataclass(frozen=True)
class Change:
    """One parameter through the update: ``after = before + step`` (``source`` -1: the bias)."""

    source: int
    grad: float
    before: float
    step: float
    after: float


@dataclass(frozen=True)
class UpdateNumbers:
    bias: Change
    weights: tuple[Change, ...]


@dataclass(frozen=True)
class Section:
    """One part of the report as the page shows it; ``computed`` False means "not yet".
    ``phase`` is the phase that computes it (None for the input's, which need none)."""

    key: str
    title: str
    computed: bool
    latex: tuple[str, ...] = ()
    caption: str = ""
    rows: list[Row] = field(default_factory=list)
    phase: Phase | None = None


@dataclass(frozen=True)
class NeuronReport:
    """Everything the inspector shows for unit ``unit`` of ``layer`` (-1: the input).

    The numbers are in the typed fields (None where the phase has not run or the section does
    not apply to this layer); ``sections`` is the same content, formatted, in reading order.
    """

    layer: int
    unit: int
    sample: int | None
    title: str
    input: InputNumbers | None = None
    forward: ForwardNumbers | None = None
    error: ErrorNumbers | None = None
    backward: BackwardNumbers | None = None
    gradient: GradientNumbers | None = None
    update: UpdateNumbers | None = None
    sections: tuple[Section, ...] = ()
    note: str = ""  # for the batch: what is averaged and what is summed, over how many samples

    @property
    def newest(self) -> tuple[str, ...]:
        """The keys of the sections the newest phase so far computed (backward and gradients
        come with the same one), which the page opens; the first section's if none has run
        (it says which phase brings it), every section for the input, which needs none."""
        done = [sec for sec in self.sections if sec.computed]
        if not done:
            return (self.sections[0].key,) if self.sections else ()
        last = done[-1].phase
        return tuple(sec.key for sec in done if sec.phase == last)
