"""The inspector's sections: each phase's numbers (``numbers.py``) written out as LaTeX, a
caption and table rows, for ``st.latex`` and ``st.dataframe``. Nothing here reads a trace."""

from __future__ import annotations

import re

import numpy as np

from explorer.analysis.inspector.report import (
    BackwardNumbers,
    ErrorNumbers,
    ForwardNumbers,
    GradientNumbers,
    InputNumbers,
    Row,
    Section,
    Term,
    UpdateNumbers,
)
from explorer.engine import ACTIVATIONS, LOSS_FUNCTIONS, NetworkSpec, Phase, TrainConfig
from explorer.engine.activations import Activation
from explorer.engine.types import Array


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


def equation(lhs: str, formula: str, where: tuple[tuple[str, str], ...] = ()) -> str:
    """``lhs = formula`` in small type (GELU's is long), and under it, aligned on their "=", the
    ``where`` rows that define the symbols it uses."""
    if not where:
        return rf"\small {lhs} = {formula}"
    rows = [f"{lhs} &= {formula}", *(f"{symbol} &= {value}" for symbol, value in where)]
    body = ",\\\\ ".join(rows)
    return rf"\small \begin{{aligned}} {body} \end{{aligned}}"


def der_equation(act: Activation) -> str:
    """f'(z) of ``act`` with the symbols it uses."""
    return equation("f'(z)", act.der_formula, act.der_where)


def _plus(v: float) -> str:
    return rf"- {num(-v)}" if v < 0 else rf"+ {num(v)}"


def layer_name(spec: NetworkSpec, layer: int) -> str:
    """A layer (0-based, -1 = the input) as the graph's column headers name it: "input",
    "layer 1", ..., "output"."""
    if layer == -1:
        return "input"
    return "output" if layer == len(spec.layers) - 1 else f"layer {layer + 1}"


def batch_note(spec: NetworkSpec, layer: int, batch: int) -> str:
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


def pending(key: str, title: str, phase: Phase) -> Section:
    caption = f"Not computed yet: comes with the phase '{phase}'."
    return Section(key, title, False, caption=caption, phase=phase)


# -- the sections -----------------------------------------------------------------------------
def _where(sample: int | None) -> str:
    return f"sample {sample}" if sample is not None else "the batch"


def input_sections(unit: int, sample: int | None, numbers: InputNumbers) -> tuple[Section, ...]:
    mean = "" if sample is not None else r"\bar "
    value = Section(
        "input",
        "Input value",
        True,
        (f"{mean}x_{{{unit}}} = {num(numbers.value)}",),
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
        + (
            "." if numbers.grads is not None else "; their gradients come with 'backward, layer 1'."
        ),
        rows=rows,
    )
    return value, outgoing


def forward_section(
    spec: NetworkSpec, layer: int, unit: int, sample: int | None, numbers: ForwardNumbers
) -> Section:
    z, a, bias = numbers.z, numbers.a, numbers.bias
    terms, rest, n_rest = numbers.terms, numbers.rest, numbers.n_rest
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
    return Section(
        "forward",
        "Forward: total input and activation",
        True,
        (symbolic, numeric, activation, equation("f(z)", act.formula)),
        caption,
        rows,
        Phase("forward", layer),
    )


def error_section(
    spec: NetworkSpec, unit: int, sample: int | None, e: ErrorNumbers, output: Array
) -> Section:
    """``output``: the output layer's activations (B, n), for the sample's loss and the sizes."""
    batch = len(output)
    act = ACTIVATIONS[spec.layers[-1].activation]
    loss = _loss_latex(spec, e, output, sample)
    lines, why = _error_latex(e, unit, sample, output.shape, act)
    if spec.loss == "cross_entropy":
        why += " " + _why_output_der(e, unit, sample, batch)
    if sample is not None:
        row: Row = {"a": e.a, "target": e.target, "dL/da": e.output_der, "δ = dL/dz": e.input_der}
        if e.f_der is not None:
            row["f'(z)"] = e.f_der
    else:
        row = {
            f"a (mean of {batch})": e.a,
            f"target (mean of {batch})": e.target,
            f"dL/da (sum over {batch})": e.output_der,
            f"δ = dL/dz (sum over {batch})": e.input_der,
        }
    return Section("error", "Error at the output", True, loss + lines, why, [row], Phase("error"))


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
    e: ErrorNumbers, j: int, sample: int | None, shape: tuple[int, ...], act: Activation
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
            lines.append(der_equation(act))
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


def backward_section(
    spec: NetworkSpec, layer: int, unit: int, sample: int | None, numbers: BackwardNumbers
) -> Section:
    out_der, delta, f_der = numbers.output_der, numbers.input_der, numbers.f_der
    terms, rest, n_rest = numbers.terms, numbers.rest, numbers.n_rest
    act = ACTIVATIONS[spec.layers[layer].activation]
    d, j = layer + 1, unit
    lines = [
        rf"\frac{{\partial L}}{{\partial a^{{({d})}}_{{{j}}}}} = \sum_k w^{{({d + 1})}}_{{{j},k}}"
        rf"\,\delta^{{({d + 1})}}_k",
        _sum_latex(terms, rest, n_rest, end=f"= {num(out_der)}"),
        rf"\delta^{{({d})}}_{{{j}}} = \frac{{\partial L}}{{\partial a^{{({d})}}_{{{j}}}}}"
        rf"\,f'(z^{{({d})}}_{{{j}}})",
        der_equation(act),
    ]
    if f_der is not None:
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
    return Section(
        "backward",
        "Backward: the error sent back to this unit",
        True,
        tuple(lines),
        caption,
        rows,
        Phase("backward", layer),
    )


def gradient_section(
    layer: int, unit: int, sample: int | None, numbers: GradientNumbers
) -> Section:
    delta, weights = numbers.delta, numbers.weights
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
    return Section("gradient", "Gradients", True, tuple(lines), caption, rows, phase)


def update_section(
    layer: int, unit: int, numbers: UpdateNumbers, config: TrainConfig | None
) -> Section:
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
    return Section("update", "Update", True, lines, caption, rows, Phase("update"))
