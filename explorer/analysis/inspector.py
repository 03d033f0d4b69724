"""One neuron's chain rule, with the engine's own numbers, for the Explorer's inspector panel.

``inspect_neuron`` reads a ``StepState`` and returns a ``NeuronReport``: for the selected unit and
the shown sample (or the whole batch) the forward sum, the error or the backpropagated sum, the
gradients and the update, each as raw floats (taken from the trace, so they equal it exactly),
LaTeX strings for ``st.latex`` and table rows for ``st.dataframe``. A section whose phase has not
run yet says so instead of computing anything: the report never runs ahead of the Stepper.

What "the value of a unit" is, for a sample or the batch, is ``explorer.engine.units``'s, which
the network figure shares.

The batch convention, which the captions explain: every loss is a mean over the batch, so each
row of delta = dL/dz already carries a factor 1/B. The batch gradients are therefore SUMS over
the batch of per-sample contributions (dL/dw_ij = sum_b a_bi delta_bj, dL/db_j = sum_b delta_bj),
and a derivative shown for "the batch" is that sum; z and a shown for the batch are means.

Left out: rendering (no streamlit, no plotly here), and anything the engine does not trace
(dL/dx of the input, optimiser buffers: momentum and Adam steps are shown as the change they made).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from explorer.engine import (
    ACTIVATIONS,
    LOSS_FUNCTIONS,
    NetworkSpec,
    Params,
    Phase,
    StepState,
    TrainConfig,
)
from explorer.engine.types import Array
from explorer.engine.units import shown

Cell = float | int | str | None
Row = dict[str, Cell]


def weights_used(state: StepState) -> Params:
    """The parameters this batch's forward and backward passes used (before its update)."""
    return state.prev_params if state.prev_params is not None else state.params


# -- the report -------------------------------------------------------------------------------
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
    rule: str  # "chain", "softmax" (Jacobian-vector product), "cross_entropy", "bce"
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


# -- formatting -------------------------------------------------------------------------------
def num(v: float) -> str:
    """A number for LaTeX, 4 significant digits, exponents as 10^k."""
    s = f"{v:.4g}"
    if "e" in s:
        mantissa, exp = s.split("e")
        return rf"{mantissa}\times 10^{{{int(exp)}}}"
    return s


def _factor(v: float) -> str:
    # Negative factors in a product get parentheses: 0.5 \cdot (-0.2).
    return f"({num(v)})" if v < 0 or "times" in num(v) else num(v)


def equation(lhs: str, formula: str) -> str:
    """``lhs = formula`` in small type (GELU's is long): ``f(z) = \\sigma(z) = ...``; just the
    formula where it starts with ``lhs`` itself (``f(z) = z``); and for rows aligned on "&="
    (GELU's derivative) ``lhs`` opens the first row."""
    aligned = r"\begin{aligned}"
    if formula.startswith(aligned):
        return rf"\small {aligned} {lhs} {formula.removeprefix(aligned)}"
    if formula.split("=")[0].strip() == lhs:
        return r"\small " + formula
    return rf"\small {lhs} = {formula}"


def _plus(v: float) -> str:
    return rf"- {num(-v)}" if v < 0 else rf"+ {num(v)}"


def layer_name(spec: NetworkSpec, layer: int) -> str:
    """A layer (0-based, -1 = the input) as the graph's column headers name it: "input",
    "layer 1", ..., "output"."""
    if layer == -1:
        return "input"
    return "output" if layer == len(spec.layers) - 1 else f"layer {layer + 1}"


def _batch_note(spec: NetworkSpec, layer: int, batch: int) -> str:
    """What the batch view shows, over how many samples."""
    if layer == -1:
        return f"Batch of {batch}: x is the mean over its {batch} samples."
    target = " and the target" if layer == len(spec.layers) - 1 else ""
    return (
        f"Batch of {batch}: z, a{target} are means over the {batch} samples; dL/da, δ and the "
        f"gradients are sums over them (the loss is their mean, so each sample's δ carries "
        f"1/{batch}). Choose a Shown sample for one sample's numbers."
    )


def _a_sym(layer: int, index: str) -> str:
    """a_i of ``layer`` (0-based, -1 = input) in LaTeX; display layers count the input as 0."""
    return f"x_{{{index}}}" if layer == -1 else f"a^{{({layer + 1})}}_{{{index}}}"


LINE_CHARS = 32  # characters of numbers on one line of a filled-in sum: fits the inspector


def _sum_latex(terms: tuple[Term, ...], rest: float, n_rest: int, end: str) -> str:
    """``= w_1 a_1 + w_2 a_2 + ... + (the rest) {end}`` with the numbers, broken into lines of
    at most LINE_CHARS shown characters (one long line would be cut off at the column's edge)."""
    parts = [f"{_factor(t.weight)}\\cdot{_factor(t.value)}" for t in terms] or ["0"]
    if n_rest:
        parts.append(rf"\underbrace{{{_factor(rest)}}}_{{{n_rest}\text{{ more}}}}")
    lines: list[list[str]] = [[]]
    for part in parts:
        width = sum(_shown_chars(p) + 3 for p in lines[-1]) + _shown_chars(part)
        if lines[-1] and width > LINE_CHARS:
            lines.append([])
        lines[-1].append(part)
    body = r" \\ &\quad + ".join(" + ".join(line) for line in lines)
    return rf"\begin{{aligned}} &= {body} \\ &\quad {end} \end{{aligned}}"


def _shown_chars(latex: str) -> int:
    """About how many characters ``latex`` shows: commands, braces and what sits under an
    underbrace do not count."""
    latex = re.sub(r"_\{[^{}]*\{[^{}]*\}[^{}]*\}", "", latex)  # an underbrace's label
    return len(re.sub(r"\\[a-z]+|[{}]", "", latex)) + latex.count(r"\cdot")


def _top(values: Array, k: int) -> Array:
    """Indices of the k largest |values|, largest first (stable among ties)."""
    return np.argsort(-np.abs(values), kind="stable")[:k]


def _terms(weights: Array, values: Array, top: int) -> tuple[tuple[Term, ...], float, int]:
    """The ``top`` largest products w_i v_i, plus the sum and count of the others."""
    products = weights * values
    order = _top(products, top)
    terms = tuple(
        Term(int(i), float(weights[i]), float(values[i]), float(products[i])) for i in order
    )
    others = np.ones(len(products), dtype=bool)
    others[order] = False
    return terms, float(products[others].sum()), int(others.sum())


def _pending(key: str, title: str, phase: Phase) -> Section:
    caption = f"Not computed yet: comes with the phase '{phase}'."
    return Section(key, title, False, caption=caption, phase=phase)


# -- the sections -----------------------------------------------------------------------------
def _where(sample: int | None) -> str:
    return f"sample {sample}" if sample is not None else "the batch"


def _input(
    spec: NetworkSpec, state: StepState, unit: int, sample: int | None, top: int
) -> tuple[InputNumbers, tuple[Section, ...]]:
    x = float(shown(state.x, "a", sample)[unit])
    w = state.params.weights[0][unit]
    order = _top(w, top)
    grads = state.layer_gradients(0, len(spec.layers))
    g = grads.weight_der[unit] if grads is not None else None
    numbers = InputNumbers(
        x,
        tuple(int(k) for k in order),
        tuple(float(w[k]) for k in order),
        None if g is None else tuple(float(g[k]) for k in order),
    )
    mean = "" if sample is not None else r"\bar "
    value = Section(
        "input",
        "Input value",
        True,
        (f"{mean}x_{{{unit}}} = {num(x)}",),
        f"Input {unit} of {_where(sample)}"
        + ("" if sample is not None else " (mean over the batch)")
        + ". It feeds every unit of layer 1 through its weights.",
    )
    rows: list[Row] = []
    for i, k in enumerate(numbers.targets):
        row: Row = {"to unit": k, "w": numbers.weights[i]}
        if numbers.grads is not None:
            row["dL/dw (batch)"] = numbers.grads[i]
        rows.append(row)
    outgoing = Section(
        "outgoing",
        "Strongest outgoing weights",
        True,
        caption="The current weights from this input with the largest |w|"
        + ("." if g is not None else "; their gradients come with 'backward, layer 1'."),
        rows=rows,
    )
    return numbers, (value, outgoing)


def _forward(
    spec: NetworkSpec, state: StepState, layer: int, unit: int, sample: int | None, top: int
) -> tuple[ForwardNumbers, Section]:
    params = weights_used(state)
    a_prev = state.x if layer == 0 else state.a[layer - 1]
    w = params.weights[layer][:, unit]
    bias = float(params.biases[layer][unit])
    z = float(shown(state.z[layer], "z", sample)[unit])
    a = float(shown(state.a[layer], "a", sample)[unit])
    terms, rest, n_rest = _terms(w, shown(a_prev, "a", sample), top)
    numbers = ForwardNumbers(z, a, bias, terms, rest, n_rest)

    act = ACTIVATIONS[spec.layers[layer].activation]
    d, j = layer + 1, unit
    bar = "" if sample is not None else r"\bar "
    symbolic = (
        rf"{bar}z^{{({d})}}_{{{j}}} = \sum_i w^{{({d})}}_{{i,{j}}}\,{bar}{_a_sym(layer - 1, 'i')}"
        rf" + b^{{({d})}}_{{{j}}}"
    )
    numeric = _sum_latex(terms, rest, n_rest, end=f"{_plus(bias)} = {num(z)}")
    if sample is not None:
        arg = "z" if act.elementwise else r"z_1, \dots, z_n"
        activation = rf"a^{{({d})}}_{{{j}}} = f({arg}) = {num(a)}"
        caption = f"Sample {sample}: the largest terms w_i·a_i first."
    else:
        activation = rf"\bar a^{{({d})}}_{{{j}}} = \frac{{1}}{{B}}\sum_b f(z_b) = {num(a)}"
        caption = (
            "Batch mean: z is linear, so its mean is the sum of weights times mean inputs; "
            "the mean of a = f(z) is not f(mean z)."
        )
    rows: list[Row] = [
        {"input i": t.unit, "w_i": t.weight, "a_i": t.value, "w_i·a_i": t.product} for t in terms
    ]
    if n_rest:
        rows.append({"input i": f"{n_rest} others", "w_i·a_i": rest})
    rows.append({"input i": "bias b", "w_i·a_i": bias})
    rows.append({"input i": "z", "w_i·a_i": z})
    return numbers, Section(
        "forward",
        "Forward: total input and activation",
        True,
        (symbolic, numeric, activation, equation("f(z)", act.formula)),
        caption,
        rows,
        Phase("forward", layer),
    )


def _error(
    spec: NetworkSpec, state: StepState, unit: int, sample: int | None
) -> tuple[ErrorNumbers, Section]:
    err = state.err
    assert err is not None
    layer = len(spec.layers) - 1
    act = ACTIVATIONS[spec.layers[layer].activation]
    rule: str
    if spec.loss in ("cross_entropy", "binary_cross_entropy"):
        rule = "bce" if spec.loss == "binary_cross_entropy" else spec.loss
    else:
        rule = "chain" if act.elementwise else "softmax"
    # f'(z) on the whole (B, n) array, as the engine computed it, so delta = dL/da f'(z) exactly.
    f_der = sample_loss = None
    label = None
    if sample is not None:
        if rule == "chain":
            f_der = float(act.der(state.z[layer])[sample, unit])
        one = slice(sample, sample + 1)
        z, a, t = state.z[layer][one], state.a[layer][one], err.target[one]
        sample_loss = float(LOSS_FUNCTIONS[spec.loss].value(z, a, t))
        if spec.loss == "cross_entropy":
            label = int(err.target[sample])
    e = ErrorNumbers(
        float(shown(err.output_der, "output_der", sample)[unit]),
        float(shown(err.input_der, "input_der", sample)[unit]),
        float(shown(state.a[layer], "a", sample)[unit]),
        _target(spec, err.target, unit, sample),
        f_der,
        rule,
        float(err.loss),
        sample_loss,
        label,
    )
    batch = len(state.x)
    loss = _loss_latex(spec, e, state.a[layer], sample)
    lines, why = _error_latex(e, unit, sample, state.a[layer].shape, act.der_formula)
    if spec.loss == "cross_entropy":
        why += " " + _why_output_der(e, unit, sample, batch)
    if sample is not None:
        row: Row = {"a": e.a, "target": e.target, "dL/da": e.output_der, "δ = dL/dz": e.input_der}
        if f_der is not None:
            row["f'(z)"] = f_der
    else:
        row = {
            f"a (mean of {batch})": e.a,
            f"target (mean of {batch})": e.target,
            f"dL/da (sum over {batch})": e.output_der,
            f"δ = dL/dz (sum over {batch})": e.input_der,
        }
    return e, Section(
        "error", "Error at the output", True, loss + lines, why, [row], Phase("error")
    )


def _loss_latex(
    spec: NetworkSpec, e: ErrorNumbers, a: Array, sample: int | None
) -> tuple[str, ...]:
    """The batch's loss as the engine computed it; for a sample, first that sample's share."""
    formula = LOSS_FUNCTIONS[spec.loss].formula
    if sample is None or e.sample_loss is None:
        return (rf"{formula} = {num(e.loss)}",)
    n = a.shape[1]
    if e.label is not None:
        a_label = float(a[sample, e.label])
        share = _rows(
            rf"\ell_{{{sample}}} &= -\log a_{{{e.label}}}\quad(\text{{label {e.label}}})",
            rf"&= -\log {_factor(a_label)} = {num(e.sample_loss)}",
        )
    elif spec.loss == "mse":
        share = rf"\ell_{{{sample}}} = \frac{{1}}{{{n}}}\sum_k (a_k - t_k)^2 = {num(e.sample_loss)}"
    else:
        share = (
            rf"\ell_{{{sample}}} = -\frac{{1}}{{{n}}}\sum_k \left[t_k \log a_k + (1 - t_k)"
            rf"\log(1 - a_k)\right] = {num(e.sample_loss)}"
        )
    batch = rf"L = \frac{{1}}{{B}}\sum_b \ell_b = {num(e.loss)}\quad(B = {len(a)})"
    return share, batch


def _why_output_der(e: ErrorNumbers, j: int, sample: int | None, batch: int) -> str:
    """Why cross-entropy's dL/da_j is 0 where it is, and why delta is not 0 there."""
    coupled = "δ is not 0: the softmax makes the label's output depend on every z."
    if sample is not None:
        if e.label == j:
            return f"dL/da_{j} = −1/(B·a_{j}): this sample is labelled {j}."
        return (
            f"dL/da_{j} = 0: this sample is labelled {e.label}, and L = −log a_{e.label} holds "
            f"no a_{j}; {coupled}"
        )
    labelled = round(e.target * batch)
    if labelled == 0:
        return (
            f"dL/da_{j} sums to 0: it is −1/(B·a_{j}) for a sample labelled {j} and 0 for the "
            f"others, and none of these {batch} is labelled {j}; {coupled}"
        )
    return (
        f"dL/da_{j} is −1/(B·a_{j}) for the {labelled} of {batch} samples labelled {j}, "
        f"0 for the other {batch - labelled}."
    )


def _rows(*rows: str) -> str:
    """Rows aligned on their "&=", one under the other (one line would be cut off)."""
    return r"\begin{aligned} " + r" \\ ".join(rows) + r" \end{aligned}"


def _error_latex(
    e: ErrorNumbers, j: int, sample: int | None, shape: tuple[int, ...], der_formula: str
) -> tuple[tuple[str, ...], str]:
    """The output delta's rule for this loss and activation, with numbers for one sample or
    the batch's sums."""
    batch, n = shape[0], shape[0] * shape[1]  # mse and bce average over all B * n_out values
    a, t = num(e.a), num(e.target)
    dz = rf"\frac{{\partial L}}{{\partial z_{{{j}}}}}"
    da = rf"\frac{{\partial L}}{{\partial a_{{{j}}}}}"
    one = sample is not None
    sums = rf"\sum_b \delta_{{b,{j}}}"
    if e.rule == "cross_entropy":
        lines = [rf"{dz} = \frac{{a_{{{j}}} - t_{{{j}}}}}{{B}}"]
        lines += [rf"= \frac{{{a} - {t}}}{{{batch}}} = {num(e.input_der)}"] if one else []
        why = (
            "Softmax with cross-entropy: the softmax Jacobian and the log cancel, so delta is "
            "(a − one-hot target) / B, exact even where dL/da overflows."
        )
        batch_sum = _rows(
            rf"{sums} &= \bar a_{{{j}}} - \bar t_{{{j}}}", rf"&= {a} - {t} = {num(e.input_der)}"
        )
    elif e.rule == "bce":
        lines = [rf"{dz} = \frac{{\sigma(z_{{{j}}}) - t_{{{j}}}}}{{N}}"]
        lines += [rf"= \frac{{{a} - {t}}}{{{n}}} = {num(e.input_der)}"] if one else []
        why = "Sigmoid with binary cross-entropy: delta = (a − t) / N, N = B × outputs."
        outputs = shape[1]
        batch_sum = _rows(
            rf"{sums} &= \frac{{\bar a_{{{j}}} - \bar t_{{{j}}}}}{{{outputs}}}",
            rf"&= \frac{{{a} - {t}}}{{{outputs}}} = {num(e.input_der)}",
        )
    else:
        lines = [rf"{da} = \frac{{2\,(a_{{{j}}} - t_{{{j}}})}}{{N}}"]
        lines += [rf"= \frac{{2\,({a} - {t})}}{{{n}}} = {num(e.output_der)}"] if one else []
        why = "Mean squared error over N = B × outputs values, then the chain rule through f."
        batch_sum = rf"{sums} = {num(e.input_der)}"
        if e.rule == "chain":
            lines.append(rf"\delta_{{{j}}} = {da}\,f'(z_{{{j}}})")
            lines.append(equation("f'(z)", der_formula))
            if e.f_der is not None:
                lines.append(
                    rf"\delta_{{{j}}} = {_factor(e.output_der)}\cdot{_factor(e.f_der)}"
                    rf" = {num(e.input_der)}"
                )
        else:  # softmax under mse: the Jacobian-vector product couples the outputs
            lines.append(
                rf"\delta_{{{j}}} = a_{{{j}}}\Big({da} - \sum_k "
                r"\frac{\partial L}{\partial a_k}\,a_k\Big)"
                + (rf" = {num(e.input_der)}" if one else "")
            )
    if not one:
        lines.append(batch_sum)
        why += (
            f" For the batch of {batch}: ā and t̄ are means over its samples, dL/da "
            f"(= {e.output_der:.4g}) and δ sums over them; each sample's row already carries "
            "the 1/B of the mean loss."
        )
    return tuple(lines), why


def _target(spec: NetworkSpec, target: Array, unit: int, sample: int | None) -> float:
    """The target of this output unit (one-hot for class indices); the batch mean if no sample."""
    col = (target == unit).astype(float) if spec.loss == "cross_entropy" else target[:, unit]
    return float(col[sample]) if sample is not None else float(col.mean())


def _backward(
    spec: NetworkSpec, state: StepState, layer: int, unit: int, sample: int | None, top: int
) -> tuple[BackwardNumbers, Section]:
    n_layers = len(spec.layers)
    own = state.layer_gradients(layer, n_layers)
    above = state.layer_gradients(layer + 1, n_layers)
    assert own is not None and above is not None
    w = weights_used(state).weights[layer + 1][unit]  # w_jk to every unit k above
    terms, rest, n_rest = _terms(w, shown(above.input_der, "input_der", sample), top)
    out_der = float(shown(own.output_der, "output_der", sample)[unit])
    delta = float(shown(own.input_der, "input_der", sample)[unit])
    act = ACTIVATIONS[spec.layers[layer].activation]
    d, j = layer + 1, unit
    lines = [
        rf"\frac{{\partial L}}{{\partial a^{{({d})}}_{{{j}}}}} = \sum_k w^{{({d + 1})}}_{{{j},k}}"
        rf"\,\delta^{{({d + 1})}}_k",
        _sum_latex(terms, rest, n_rest, end=f"= {num(out_der)}"),
        rf"\delta^{{({d})}}_{{{j}}} = \frac{{\partial L}}{{\partial a^{{({d})}}_{{{j}}}}}"
        rf"\,f'(z^{{({d})}}_{{{j}}})",
        equation("f'(z)", act.der_formula),
    ]
    f_der: float | None = None
    if sample is not None:
        f_der = float(act.der(state.z[layer])[sample, unit])
        lines.append(
            rf"\delta^{{({d})}}_{{{j}}} = {_factor(out_der)}\cdot{_factor(f_der)} = {num(delta)}"
        )
        caption = (
            f"Sample {sample}: each unit k above sends back its delta through the weight w_jk; "
            "largest terms first."
        )
    else:
        lines.append(rf"\sum_b \delta^{{({d})}}_{{b,{j}}} = {num(delta)}")
        caption = (
            "Batch: the sum over the batch of each sample's dL/da and delta (each row already "
            "carries 1/B); the product rule holds per sample, not for the sums, so pick a "
            "sample to see f'(z)."
        )
    rows: list[Row] = [
        {"k (above)": t.unit, "w_jk": t.weight, "δ_k": t.value, "w_jk·δ_k": t.product}
        for t in terms
    ]
    if n_rest:
        rows.append({"k (above)": f"{n_rest} others", "w_jk·δ_k": rest})
    rows.append({"k (above)": "dL/da_j", "w_jk·δ_k": out_der})
    numbers = BackwardNumbers(out_der, delta, f_der, terms, rest, n_rest)
    return numbers, Section(
        "backward",
        "Backward: the error sent back to this unit",
        True,
        tuple(lines),
        caption,
        rows,
        Phase("backward", layer),
    )


def _gradient(
    spec: NetworkSpec, state: StepState, layer: int, unit: int, sample: int | None, top: int
) -> tuple[GradientNumbers, Section]:
    grads = state.layer_gradients(layer, len(spec.layers))
    assert grads is not None
    a_prev = state.x if layer == 0 else state.a[layer - 1]
    g = grads.weight_der[:, unit]
    delta = float(shown(grads.input_der, "input_der", sample)[unit])
    a_shown = shown(a_prev, "a", sample)
    weights = tuple(
        WeightGradient(
            int(i),
            float(a_shown[i]),
            None if sample is None else float(a_prev[sample, i] * grads.input_der[sample, unit]),
            float(g[i]),
        )
        for i in _top(g, top)
    )
    numbers = GradientNumbers(delta, float(grads.bias_der[unit]), weights)
    d, j = layer + 1, unit
    a_i = _a_sym(layer - 1, "b,i")
    lines = [
        rf"\frac{{\partial L}}{{\partial w^{{({d})}}_{{i,{j}}}}} = \sum_b {a_i}\,"
        rf"\delta^{{({d})}}_{{b,{j}}}",
        rf"\frac{{\partial L}}{{\partial b^{{({d})}}_{{{j}}}}}"
        rf" = \sum_b \delta^{{({d})}}_{{b,{j}}} = {num(numbers.bias_grad)}",
    ]
    if weights:
        w0 = weights[0]
        if w0.share is not None:
            lines.append(
                rf"\underbrace{{{_a_sym(layer - 1, str(w0.source))}\,\delta_{{{j}}}}}"
                rf"_{{\text{{sample {sample}}}}}"
                rf" = {_factor(w0.a_source)}\cdot{_factor(delta)} = {num(w0.share)}"
            )
        lines.append(
            rf"\frac{{\partial L}}{{\partial w^{{({d})}}_{{{w0.source},{j}}}}} = {num(w0.grad)}"
            r"\quad\text{(whole batch)}"
        )
    caption = (
        "The loss is a mean over the batch, so every delta already carries 1/B and the batch "
        "gradient is the SUM of the samples' shares a_i·delta_j; that sum is what the "
        "optimizer uses. Incoming weights with the largest |dL/dw| first."
    )
    rows: list[Row] = []
    for wg in weights:
        row: Row = {"i": wg.source, "a_i": wg.a_source}
        if wg.share is not None:
            row["δ_j"] = delta
            row["a_i·δ_j (sample)"] = wg.share
        row["dL/dw_ij (batch)"] = wg.grad
        rows.append(row)
    rows.append({"i": "bias", "dL/dw_ij (batch)": numbers.bias_grad})
    phase = Phase("backward", layer)
    return numbers, Section("gradient", "Gradients", True, tuple(lines), caption, rows, phase)


def _update(
    state: StepState, layer: int, unit: int, gradient: GradientNumbers, config: TrainConfig | None
) -> tuple[UpdateNumbers, Section]:
    before, after = state.prev_params, state.params
    assert before is not None

    def change(source: int, grad: float) -> Change:
        if source == -1:
            b, a = before.biases[layer][unit], after.biases[layer][unit]
        else:
            b, a = before.weights[layer][source, unit], after.weights[layer][source, unit]
        # The step is the change the optimizer made, read back from the two parameter sets.
        return Change(source, grad, float(b), float(a - b), float(a))

    numbers = UpdateNumbers(
        change(-1, gradient.bias_grad),
        tuple(change(wg.source, wg.grad) for wg in gradient.weights),
    )
    rows: list[Row] = [
        {
            "parameter": "bias" if c.source == -1 else f"w from unit {c.source}",
            "before": c.before,
            "gradient (batch)": c.grad,
            "step": c.step,
            "after": c.after,
        }
        for c in (numbers.bias, *numbers.weights)
    ]
    lines, caption = _update_rule(numbers, layer, unit, config)
    return numbers, Section("update", "Update", True, lines, caption, rows, Phase("update"))


def _update_rule(
    numbers: UpdateNumbers, layer: int, unit: int, config: TrainConfig | None
) -> tuple[tuple[str, ...], str]:
    """The update of the weight with the largest gradient (the bias if there is none)."""
    c = numbers.weights[0] if numbers.weights else numbers.bias
    d = layer + 1
    name = f"b^{{({d})}}_{{{unit}}}" if c.source == -1 else f"w^{{({d})}}_{{{c.source},{unit}}}"
    if config is None or config.optimizer != "sgd":
        how = "the optimizer" if config is None else config.optimizer
        line = (
            rf"{name} \leftarrow {name} + \Delta = {num(c.before)} {_plus(c.step)} = {num(c.after)}"
        )
        caption = f"The step is the change {how} made" + (
            "; momentum and Adam scale the gradient with their running averages, so the "
            "step is not simply −η·gradient."
            if config is not None
            else "."
        )
        return (line,), caption
    lr = config.learning_rate
    reg = ""
    if c.source != -1 and config.l1:
        reg += rf" + {num(config.l1)}\,\mathrm{{sign}}({name})"
    if c.source != -1 and config.l2:
        reg += rf" + {num(config.l2)}\,{name}"
    grad = rf"\frac{{\partial L}}{{\partial {name}}}"
    line = (
        rf"{name} \leftarrow {name} - \eta\,\Big({grad}{reg}\Big)"
        if reg
        else rf"{name} \leftarrow {name} - \eta\,{grad}"
    )
    g = c.grad
    if c.source != -1:
        # torch's order: l1 * sign(w) first, then l2 * w, both on the weight before the step.
        g = g + config.l1 * float(np.sign(c.before)) + config.l2 * c.before
    numeric = rf"= {num(c.before)} - {num(lr)}\cdot{_factor(g)} = {num(c.after)}"
    caption = (
        f"Plain SGD with learning rate η = {lr:.4g}: the step is −η times the batch gradient"
        + (" plus the L1/L2 terms (weights only, not biases)." if reg else ".")
    )
    return (line, numeric), caption


# -- the entry point --------------------------------------------------------------------------
def inspect_neuron(
    spec: NetworkSpec,
    state: StepState,
    layer: int,
    unit: int,
    *,
    sample: int | None = None,
    config: TrainConfig | None = None,
    top: int = 5,
) -> NeuronReport:
    """The chain rule at unit ``unit`` of ``layer`` (0-based; -1 = the input) for row ``sample``
    of the batch, or for the batch as a whole (``sample=None``), as far as ``state`` has got.

    ``top`` bounds the terms listed per sum; ``config`` (the step's optimizer settings) lets the
    update section write out the SGD rule with its numbers.
    """
    n_layers = len(spec.layers)
    if not -1 <= layer < n_layers:
        raise ValueError(f"Layer {layer} does not exist (use -1 for the input, 0..{n_layers - 1}).")
    if not 0 <= unit < spec.sizes[layer + 1]:
        raise ValueError(f"Unit {unit} does not exist in a layer of {spec.sizes[layer + 1]}.")
    if sample is not None and not 0 <= sample < len(state.x):
        raise ValueError(f"Sample {sample} is not in this batch of {len(state.x)}.")
    where = f"sample {sample}" if sample is not None else "batch"
    activation = "" if layer == -1 else f" ({spec.layers[layer].activation})"
    title = f"{layer_name(spec, layer)}{activation}, unit {unit} ({where})"
    note = "" if sample is not None else _batch_note(spec, layer, len(state.x))
    if layer == -1:
        numbers, sections = _input(spec, state, unit, sample, top)
        return NeuronReport(layer, unit, sample, title, input=numbers, sections=sections, note=note)

    forward = error = backward = gradient = update = None
    parts: list[Section] = []
    if layer < len(state.z):
        forward, part = _forward(spec, state, layer, unit, sample, top)
        parts.append(part)
    else:
        parts.append(_pending("forward", "Forward", Phase("forward", layer)))
    own = state.layer_gradients(layer, n_layers)
    if layer == n_layers - 1:
        if state.err is not None:
            error, part = _error(spec, state, unit, sample)
            parts.append(part)
        else:
            parts.append(_pending("error", "Error at the output", Phase("error")))
    elif own is not None:
        backward, part = _backward(spec, state, layer, unit, sample, top)
        parts.append(part)
    else:
        parts.append(_pending("backward", "Backward", Phase("backward", layer)))
    if own is not None:
        gradient, part = _gradient(spec, state, layer, unit, sample, top)
        parts.append(part)
    else:
        parts.append(_pending("gradient", "Gradients", Phase("backward", layer)))
    if gradient is not None and state.prev_params is not None:
        update, part = _update(state, layer, unit, gradient, config)
        parts.append(part)
    else:
        parts.append(_pending("update", "Update", Phase("update")))
    return NeuronReport(
        layer,
        unit,
        sample,
        title,
        None,
        forward,
        error,
        backward,
        gradient,
        update,
        tuple(parts),
        note,
    )
