"""Editing a weight or a bias by hand, as in the Playground: the forward pass and the graph
follow at once, and step back undoes the edit (it is part of the history and of the link)."""

from __future__ import annotations

import streamlit as st

from explorer.engine import SpecError
from explorer.ui.session import Run


def _apply(run: Run, layer: int, unit: int) -> None:
    s = st.session_state
    row = None if s.w_edit_what == "bias" else int(s.w_edit_source)
    try:
        run.stepper.edit(layer, row, unit, float(s.w_edit_value))
    except SpecError as exc:
        run.failure = str(exc)
        return
    run.failure = None
    run.record()


def edit_panel(run: Run, layer: int, unit: int) -> None:
    """Set one incoming weight or the bias of unit ``unit`` of ``layer``."""
    params = run.stepper.state.params
    fan_in = run.spec.sizes[layer]
    with st.expander("Edit this neuron", icon=":material/edit:"):
        what = st.radio("Parameter", ("weight", "bias"), horizontal=True, key="w_edit_what")
        if what == "weight":
            source = st.number_input(
                f"From unit (0-{fan_in - 1} of the layer below)", 0, fan_in - 1, key="w_edit_source"
            )
            current = float(params.weights[layer][int(source), unit])
        else:
            current = float(params.biases[layer][unit])
        st.number_input(
            f"New value (now {current:.6g})", value=current, format="%.6f", key="w_edit_value"
        )
        st.button(
            "Set",
            key="b_edit",
            on_click=_apply,
            args=(run, layer, unit),
            help="The current mini-batch restarts from its forward pass; Back undoes this.",
        )
