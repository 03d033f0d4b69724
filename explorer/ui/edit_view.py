"""Editing a weight or a bias by hand, as in the Playground: the forward pass and the graph
follow at once, and step back undoes the edit (it is part of the history and of the link)."""

from __future__ import annotations

import streamlit as st

from explorer.engine import NonFiniteError, SpecError
from explorer.ui import keys
from explorer.ui.guard import Commit, guard, show_refusal
from explorer.ui.session import Run

MAX_VALUE = 1e6  # far beyond any weight training makes; larger ones only overflow


def _apply(run: Run, layer: int, unit: int) -> None:
    guard(keys.WEIGHT_EDIT, lambda: _prepare_edit(run, layer, unit))


def _prepare_edit(run: Run, layer: int, unit: int) -> Commit:
    """The edit, made and evaluated; undone again if the network cannot evaluate it."""
    s = st.session_state
    row = None if s.w_edit_what == "bias" else int(s.w_edit_source)
    value = float(s.w_edit_value)
    if not abs(value) <= MAX_VALUE:
        raise SpecError(f"Choose a value between {-MAX_VALUE:g} and {MAX_VALUE:g}.")
    run.stepper.edit(layer, row, unit, value)  # checks the position before changing anything
    try:
        run.record()
    except NonFiniteError:
        run.stepper.step_back()
        raise
    run.failure = None
    return lambda: None


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
            f"New value (now {current:.6g})",
            -MAX_VALUE,
            MAX_VALUE,
            value=min(max(current, -MAX_VALUE), MAX_VALUE),
            format="%.6f",
            key="w_edit_value",
        )
        st.button(
            "Set",
            key="b_edit",
            on_click=_apply,
            args=(run, layer, unit),
            help="The current mini-batch restarts from its forward pass; Back undoes this.",
        )
        show_refusal(keys.WEIGHT_EDIT)
