"""Widget values that follow the user across pages.

Streamlit drops a widget's value at the end of a run that does not draw it, so every page
switch loses the values of the widgets the new page lacks, and a switch after a run of only a
fragment (the browser then reports no widgets) loses them all. ``keep_widgets`` is called
before such widgets are drawn: it hands each value still there back to session state (a value
set there, not filed under a widget, survives the next switch) and sets each missing one from
what the caller knows to be true (the sidebar: the user's network's Settings; the Compare
editor: the copy it keeps under a plain key). A value the user just changed is there, so it is
never overwritten.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import streamlit as st


def keep_widgets(values: Mapping[str, Any], others: Iterable[str] = ()) -> None:
    """``values``: what each widget shows if Streamlit dropped it, by key; ``others``: more
    widget keys to hand back when there (a hidden layer's size, kept for when the layer comes
    back)."""
    state = st.session_state
    for key, value in values.items():
        state[key] = state.get(key, value)
    for key in others:
        if key in state:
            state[key] = state[key]
