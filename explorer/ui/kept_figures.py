"""A page's figures kept from one rerun to the next, per session: a figure is built again only
when what it is built from has changed. Between two phases most of the Convolution page's
figures are unchanged (a block's maps do not change at the error or the output layer's
phases), and building one (a block's 28 traces on 32 axes) was a fifth of a click's rerun.

What a figure is built from is given as a tuple: the engine's frozen records, compared by
identity (a new phase makes new ones), and plain values (numbers, strings, tuples of them, None)
compared by value. Left out: sharing between sessions (a figure shows one user's network).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import plotly.graph_objects as go
import streamlit as st

from explorer.ui import keys

_PLAIN = (bool, int, float, str, tuple, type(None))


def _same(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    return len(a) == len(b) and all(
        x is y or (isinstance(x, _PLAIN) and type(x) is type(y) and x == y)
        for x, y in zip(a, b, strict=True)
    )


def kept_figure(key: str, inputs: tuple[Any, ...], build: Callable[[], go.Figure]) -> go.Figure:
    """The figure ``build`` made last under ``key`` if it was made from the same ``inputs``,
    else a new one, kept for the next rerun."""
    kept: dict[str, tuple[tuple[Any, ...], go.Figure]] = st.session_state.setdefault(
        keys.KEPT_FIGURES, {}
    )
    old = kept.get(key)
    if old is not None and _same(old[0], inputs):
        return old[1]
    fig = build()
    kept[key] = (inputs, fig)
    return fig
