"""The Convolution page's pixel inspector and gradient check.

For the clicked feature-map pixel: its receptive field (boxed on the image by the page), the
filled-in sum z = sum(w * x) + b and a = f(z) with the real numbers, which input of its 2x2
window the max-pool took, and once backward has reached its block the chain rule for its
delta and for one kernel weight's dL/dw = sum over positions of delta * x. The numbers come
from the engine (``explorer.engine.conv.pixel``); nothing is recomputed here but the display.

The gradient check (``explorer.engine.conv.conv_gradient_check``, up to 40 entries of each
parameter array) is reported per block and dense layer as the Explorer reports its own
(``explorer.analysis.gradient_verdict``): entries whose p ± h straddle a ReLU's kink or a max-pool's
switch are counted as not compared, so a fresh CNN, whose zero biases put the ReLUs of every
blank patch at z = 0, passes on its weights and says how many biases it could not check.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from explorer.analysis.gradient_verdict import TOLERANCE, GradientVerdict, layer_verdict
from explorer.engine.activations import ACTIVATIONS
from explorer.engine.conv import BlockGradients, BlockTrace, ConvNetSpec, conv_gradient_check
from explorer.engine.conv.pixel import input_window, kernel_der_terms, receptive_field
from explorer.engine.gradcheck import GradientCheck
from explorer.ui import keys
from explorer.ui.conv_session import ConvRun, Pixel, phase_name
from explorer.ui.inspector_view import Checked, show_check

SHOWN_TERMS = 9  # terms of a sum written out; the rest as "+ ⋯"
WEIGHT_TERMS = 4  # nonzero terms of dL/dw written out
_SCROLL_WIDE = "<style>.katex-display { overflow-x: auto; overflow-y: hidden; }</style>"


def num(v: float, digits: int = 4) -> str:
    """A number for LaTeX, in parentheses when negative (no -0)."""
    text = f"{float(v) + 0.0:.{digits}g}"
    return f"({text})" if text.startswith("-") else text


def lines(head: str, parts: list[str], total: str, per_line: int = 3) -> str:
    """``head = parts... = total`` as aligned lines, ``per_line`` parts to a line, so a long
    sum fits a narrow column."""
    rows = [" + ".join(parts[i : i + per_line]) for i in range(0, len(parts), per_line)]
    body = " \\\\ &\\quad + ".join(rows) or "0"
    return f"\\begin{{aligned}} {head} \\\\ &= {body} \\\\ &= {total} \\end{{aligned}}"


def sum_latex(weights: np.ndarray, inputs: np.ndarray, bias: float, z: float) -> str:
    """z = sum w x + b written out: the first SHOWN_TERMS products, the bias, the total."""
    w, x = weights.ravel(), inputs.ravel()
    pairs = zip(w[:SHOWN_TERMS], x[:SHOWN_TERMS], strict=True)
    terms = [f"{num(a)} \\cdot {num(b)}" for a, b in pairs]
    if len(w) > SHOWN_TERMS:
        terms.append(f"\\cdots_{{\\,{len(w) - SHOWN_TERMS}\\text{{ more}}}}")
    return lines("z &= \\sum w\\,x + b", [*terms, num(bias)], f"{float(z) + 0.0:.6g}")


def pixel_inspector(run: ConvRun, sample: int) -> None:
    st.subheader("Pixel inspector")
    sel = run.selected
    if sel is None:
        st.info("Click a pixel of a feature map to see its sum with the real numbers.")
        return
    s = run.stepper.state
    spec = run.spec
    if sel.block >= len(s.blocks):
        st.info(f"Forward, conv block {sel.block + 1} has not run on this mini-batch yet.")
        return
    st.html(_SCROLL_WIDE)
    rec, block = s.blocks[sel.block], spec.blocks[sel.block]
    params = run.forward_params()
    w = params.weights[sel.block][sel.filter]
    bias = float(params.biases[sel.block][sel.filter])
    z = float(rec.z[sample, sel.filter, sel.y, sel.x])
    a = float(rec.a[sample, sel.filter, sel.y, sel.x])
    window = input_window(spec, sel.block, rec.input[sample], sel.y, sel.x)
    field = receptive_field(spec, sel.block, sel.y, sel.x)
    st.markdown(
        f"**Conv block {sel.block + 1}, filter {sel.filter + 1}, pixel ({sel.y}, {sel.x}), "
        f"sample {sample}**"
    )
    st.caption(
        f"Receptive field: rows {field.top}–{field.bottom}, columns {field.left}–{field.right} "
        f"of the image (the green box). The {block.kernel}×{block.kernel} kernel"
        + (f" over {w.shape[0]} input maps" if w.shape[0] > 1 else "")
        + (" meets zero padding at the edge." if block.pad else " slides without padding.")
    )
    st.latex(sum_latex(w, window, bias, z))
    st.latex(f"a = \\mathrm{{{block.activation}}}({num(z, 6)}) = {a + 0.0:.6g}")
    won = _pool(rec, sel, sample)
    grads = s.layer_gradients(sel.block)
    if isinstance(grads, BlockGradients):
        _backward(run, grads, sel, sample, z, won)
    else:
        st.caption("Backward has not reached this block yet: its δ and dL/dw come then.")


def _pool(rec: BlockTrace, sel: Pixel, sample: int) -> bool | None:
    """The max-pool of the pixel's 2x2 window; True if it won (None without a pool)."""
    if rec.pooled is None or rec.argmax is None:
        return None
    py, px = sel.y // 2, sel.x // 2
    if py >= rec.pooled.shape[2] or px >= rec.pooled.shape[3]:
        st.caption("The max-pool drops this odd last row or column: no gradient reaches it.")
        return False
    place = int(rec.argmax[sample, sel.filter, py, px])
    wy, wx = 2 * py + place // 2, 2 * px + place % 2
    values = rec.a[sample, sel.filter, 2 * py : 2 * py + 2, 2 * px : 2 * px + 2].ravel()
    pooled_value = float(rec.pooled[sample, sel.filter, py, px])
    st.latex(
        f"\\begin{{aligned}} \\text{{pool}}_{{{py},{px}}} "
        f"&= \\max({', '.join(num(v) for v in values)}) \\\\ &= {pooled_value + 0.0:.6g} "
        "\\end{aligned}"
    )
    won = (wy, wx) == (sel.y, sel.x)
    st.caption(
        f"Max-pool: pixel ({wy}, {wx}) won its 2×2 window"
        + (
            " — this one: the pool's gradient flows back to it."
            if won
            else f"; this pixel lost, so the gradient flows only to ({wy}, {wx}) and dL/da "
            "here is 0."
        )
    )
    return won


def _backward(
    run: ConvRun, g: BlockGradients, sel: Pixel, sample: int, z: float, won: bool | None
) -> None:
    spec = run.spec
    block = spec.blocks[sel.block]
    at = (sample, sel.filter, sel.y, sel.x)
    out_der, delta = float(g.output_der[at]), float(g.input_der[at])
    slope = float(ACTIVATIONS[block.activation].der(np.array(z)))
    where = "the pool" if won else "nothing (it lost the max)" if won is False else "above"
    st.markdown("**Backward**")
    st.latex(
        lines(
            "\\delta &= \\frac{\\partial L}{\\partial a}\\, f'(z)",
            [f"{num(out_der, 6)} \\cdot {num(slope, 6)}"],
            f"{delta + 0.0:.6g}",
        )
    )
    st.caption(f"dL/da comes from {where}; δ = dL/dz for this sample.")
    c_count, k = g.kernel_der.shape[1], block.kernel
    options = [(c, i, j) for c in range(c_count) for i in range(k) for j in range(k)]
    if st.session_state.get(keys.CW_WEIGHT) not in options:
        st.session_state[keys.CW_WEIGHT] = (0, k // 2, k // 2)
    c, i, j = st.selectbox(
        "Kernel weight",
        options,
        key=keys.CW_WEIGHT,
        format_func=lambda o: f"w[channel {o[0] + 1}, row {o[1]}, column {o[2]}]",
    )
    rec = run.stepper.state.blocks[sel.block]
    deltas, met = kernel_der_terms(spec, sel.block, rec.input, g.input_der, (sel.filter, c, i, j))
    nonzero = np.flatnonzero(deltas)
    shown = [f"{num(deltas[n])} \\cdot {num(met[n])}" for n in nonzero[:WEIGHT_TERMS]]
    if len(nonzero) > WEIGHT_TERMS:
        shown.append(f"\\cdots_{{\\,{len(nonzero) - WEIGHT_TERMS}\\text{{ more}}}}")
    total = float(g.kernel_der[sel.filter, c, i, j])
    head = f"\\frac{{\\partial L}}{{\\partial w_{{{c + 1},{i},{j}}}}} &= \\sum \\delta\\,x"
    st.latex(lines(head, shown, f"{total + 0.0:.6g}", per_line=2))
    st.caption(
        f"Over every sample and position of the batch: {len(deltas):,} terms, {len(nonzero):,} "
        "with δ ≠ 0; x is the input this weight met at each position."
    )


def conv_verdict(spec: ConvNetSpec, check: GradientCheck) -> GradientVerdict:
    """The check per layer (blocks, then dense layers), weights and bias together, as the
    Explorer's ``gradient_verdict``: kinks counted, not compared."""
    weights, biases = spec.param_shapes
    layers = []
    for layer in range(spec.n_layers):
        parts = [c for c in check.checks if c.layer == layer]
        activation = (
            spec.blocks[layer].activation
            if layer < spec.n_blocks
            else spec.dense[layer - spec.n_blocks].activation
        )
        total = int(np.prod(weights[layer])) + int(np.prod(biases[layer]))
        name = f"{spec.layer_name(layer)} ({activation})"
        layers.append(layer_verdict(name, parts, total, TOLERANCE))
    return GradientVerdict(tuple(layers), TOLERANCE)


def _check(run: ConvRun) -> None:
    s = run.stepper.state
    check = conv_gradient_check(
        run.spec, s.params, s.x, s.target, max_per_layer=40, rng=np.random.default_rng(0)
    )
    last = run.stepper.last_phase
    where = f"step {s.step}" + (f", after {phase_name(run.spec, last)}" if last else "")
    run.checked = Checked(conv_verdict(run.spec, check), s, where)


def gradient_panel(run: ConvRun) -> None:
    st.button(
        "Check gradients",
        key="cb_gradcheck",
        on_click=_check,
        args=(run,),
        help="Compare backprop with central finite differences on this mini-batch.",
    )
    if run.checked is not None:
        show_check(run.checked, run.stepper.state, "kernel entries or weights")
