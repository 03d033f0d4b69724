"""What every page does first: draw the sidebar, sync the user's run, follow a pending
"open in Explorer", and the call other pages use to hand a network to the Explorer.

Handing over happens in a button's ``on_click`` callback (``open_in_explorer``): callbacks run
before any widget of the next run exists, so the sidebar's widgets can still be set to the new
settings; the page switch itself happens at the top of the next run (``setup``).
"""

from __future__ import annotations

import streamlit as st

from explorer.data import Dataset
from explorer.engine import Params
from explorer.settings import Settings
from explorer.ui.session import KEY, Run, build, sync
from explorer.ui.sidebar import apply, settings_sidebar

EXPLORER_PAGE = "pages/explorer.py"
_GOTO = "goto_page"


def setup() -> Run:
    """Sidebar + the user's run; switches to the Explorer if a callback asked for it."""
    goto = st.session_state.pop(_GOTO, None)
    if goto is not None:
        st.switch_page(goto)
    settings, dataset = settings_sidebar()
    return sync(settings, dataset)


def open_in_explorer(
    settings: Settings, dataset: Dataset, params: Params | None = None, *, note: str = ""
) -> None:
    """Make (settings, dataset[, params]) the user's network and go to the Explorer.
    Call it from an ``on_click`` callback only."""
    apply(settings)
    run = build(settings, dataset, params)
    run.notice = note or "Opened in the Explorer."
    st.session_state[KEY] = run
    st.session_state[_GOTO] = EXPLORER_PAGE
