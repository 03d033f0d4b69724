"""The neuron inspector beside the graph (the chain rule of the clicked neuron with the real
numbers, and the weight editor under it) and the gradient check against finite differences.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import streamlit as st

from explorer.engine import gradient_check
from explorer.inspector import inspect_neuron
from explorer.ui.edit_view import edit_panel
from explorer.ui.session import Run

# Wide equations and tables scroll sideways instead of being cut off at the column's edge,
# where a clipped "= 0.09102" would read as "= 0" (presenter mode's larger type most of all).
_SCROLL_WIDE = (
    "<style>.katex-display { overflow-x: auto; overflow-y: hidden; padding: 0.25em 0; }"
    " [data-testid='stMarkdownContainer'] table { display: block; overflow-x: auto; }</style>"
)


def _check_gradients(run: Run) -> None:
    s = run.stepper.state
    check = gradient_check(
        run.spec, s.params, s.x, s.target, max_per_layer=40, rng=np.random.default_rng(0)
    )
    st.session_state.gradient_check = [
        {"layer": layer + 1, "largest relative error": f"{err:.2e}"}
        for layer, err in check.max_rel_error_per_layer().items()
    ]


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
    for section in report.sections:
        with st.expander(section.title, expanded=section.computed):
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
    table = st.session_state.get("gradient_check")
    if table:
        st.dataframe(table, hide_index=True)
        st.caption("Relative error |backprop − numeric| / max(|backprop|, |numeric|, 1e-6).")
