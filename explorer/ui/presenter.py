"""Presenter mode: larger type and controls for a projector, fewer knobs on screen.

The switch lives in the sidebar; once on, the sidebar is hidden (a 1280x720 projector needs
the width) and an "Exit presenter mode" button takes its place. Pages ask ``presenting()`` to
leave out what a class does not need (gradient check, files, bulk training buttons) and keep
the step controls.
"""

from __future__ import annotations

import streamlit as st

# Sized for a 1280x720 projector: bigger text and buttons, less padding, so the step controls,
# the graph and the inspector fit one screen.
_CSS = """
<style>
html { font-size: 19px; }
[data-testid="stMainBlockContainer"] { padding-top: 1.2rem; max-width: 100%; }
h1 { font-size: 1.7rem !important; padding: 0 !important; }
.stButton button { font-size: 1.05rem; min-height: 2.8rem; }
[data-testid="stCaptionContainer"] { font-size: 1rem; }
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"] { display: none; }
header[data-testid="stHeader"] { display: none; }
.katex { font-size: 1.25em; }
</style>
"""


GRAPH_HEIGHT = 360  # px: controls, status and graph within 720


def presenting() -> bool:
    return bool(st.session_state.get("w_presenter", False))


def _leave() -> None:
    st.session_state.w_presenter = False


def presenter_switch() -> None:
    """The switch, and the styles and the way out when it is on."""
    st.sidebar.toggle(
        "Presenter mode",
        key="w_presenter",
        help="Large type for a projector; hides the sidebar and what a class does not need.",
    )
    if presenting():
        st.html(_CSS)
        st.button("Exit presenter mode", key="b_presenter_exit", on_click=_leave, type="tertiary")
