"""The neuron inspector beside the graph (the chain rule of the clicked neuron with the real
numbers, and the weight editor under it) and the gradient check against finite differences.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import streamlit as st

from explorer.analysis.gradient_verdict import GradientVerdict, gradient_verdict
from explorer.analysis.inspector import inspect_neuron
from explorer.engine import gradient_check
from explorer.ui import keys
from explorer.ui.edit_view import edit_panel
from explorer.ui.session import Run

# Wide equations and tables scroll sideways instead of being cut off at the column's edge,
# where a clipped "= 0.09102" would read as "= 0" (presenter mode's larger type most of all).
_SCROLL_WIDE = (
    "<style>.katex-display { overflow-x: auto; overflow-y: hidden; padding: 0.25em 0; }"
    " [data-testid='stMarkdownContainer'] table { display: block; overflow-x: auto; }</style>"
)


@dataclass(frozen=True)
class Checked:
    """A gradient check's verdict and the state it was made on (a step makes it stale); the
    Explorer's and the Convolution page's."""

    verdict: GradientVerdict
    state: object  # the stepper's state when checked
    where: str  # "step 3, after backward, layer 2"


def _check_gradients(run: Run) -> None:
    s = run.stepper.state
    check = gradient_check(
        run.spec, s.params, s.x, s.target, max_per_layer=40, rng=np.random.default_rng(0)
    )
    phase = run.stepper.last_phase
    where = f"step {s.step}" + (f", after {phase}" if phase is not None else "")
    st.session_state[keys.GRADIENT_CHECK] = Checked(gradient_verdict(run.spec, check), s, where)


def inspector(run: Run, sample: int | None) -> None:
    st.subheader("Neuron inspector")
    if run.selected is None:
        st.info("Click a neuron in the graph to see its chain rule with the real numbers.")
        return
    layer, unit = run.selected
    if layer >= len(run.spec.layers) or unit >= run.spec.sizes[layer + 1]:
        run.selected = None
        return
    st.html(_SCROLL_WIDE)
    report = inspect_neuron(
        run.spec, run.stepper.state, layer, unit, sample=sample, config=run.stepper.config
    )
    st.markdown(f"**{report.title}**")
    if report.note:
        st.caption(report.note)
    # The newest phase's sections open, the others closed: the chain rule the last click
    # computed is on screen, not below the forward pass. The browser keeps an expander's own
    # open state across reruns, so one that must change state is a new expander (a new key);
    # one the user opened or closed stays so while its phase state does not change.
    newest = report.newest
    for section in report.sections:
        expanded = section.key in newest
        key = f"inspector_{section.key}_{'open' if expanded else 'shut'}"
        with st.expander(section.title, expanded=expanded, key=key):
            if not section.computed:
                st.caption(section.caption)
                continue
            for line in section.latex:
                st.latex(line)
            if section.caption:
                st.caption(section.caption)
            if section.rows:
                st.markdown(_table(section.rows))
    if layer >= 0:
        edit_panel(run, layer, unit)


def _table(rows: list[dict[str, Any]]) -> str:
    """Rows as a Markdown table: far cheaper to send than a dataframe, and columns may mix
    numbers with labels such as "bias"."""

    def cell(v: Any) -> str:
        return "" if v is None else f"{v + 0.0:.6g}" if isinstance(v, float) else str(v)  # no -0

    head = list(rows[0])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(cell(r.get(k)) for k in head) + " |" for r in rows]
    return "\n".join(lines)


def gradient_panel(run: Run) -> None:
    st.button(
        "Check gradients",
        key="b_gradcheck",
        on_click=_check_gradients,
        args=(run,),
        help="Compare backprop with central finite differences on this mini-batch.",
    )
    checked = st.session_state.get(keys.GRADIENT_CHECK)
    if isinstance(checked, Checked):
        show_check(checked, run.stepper.state, "weights")


def show_check(checked: Checked, state: object, sampled: str) -> None:
    """A check's verdict, or, once the network ``state`` has moved on, where it was made;
    ``sampled`` names what was drawn of each layer beside its biases ("weights")."""
    if checked.state is not state:
        st.caption(
            f"Gradients checked at {checked.where}; the network has moved on since: "
            "press Check gradients again for these weights."
        )
        return
    verdict = checked.verdict
    (st.success if verdict.passed else st.error)(verdict.summary)
    st.markdown(_table(verdict.rows()))
    st.caption(
        "On this mini-batch at the current weights. Relative error: |backprop − numeric| / "
        f"max(|backprop|, |numeric|, 1e-6). At most 40 {sampled} and 40 biases of each layer, "
        "drawn at random."
    )
