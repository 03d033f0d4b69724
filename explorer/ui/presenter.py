"""Presenter mode: larger type and controls for a projector, fewer knobs on screen.

The switch lives in the sidebar; once on, the sidebar is hidden (a 1280x720 projector needs
the width) and one compact bar takes its place: a link to every page (the sidebar's navigation
is hidden with it) and "Exit presenter mode". Tooltips are not shown: one above Next phase
covered that bar, and a class reads the status line instead. Pages ask ``presenting()`` to
leave out what a class does not need (gradient check, files, bulk training buttons) and keep
the step controls; the graph fits itself to the screen (``explorer.ui.graph_view``).
"""

from __future__ import annotations

import streamlit as st

from explorer.ui import keys
from explorer.ui.pages import PAGES

# Sized for a 1280x720 projector: bigger text and buttons, less padding, so the step controls,
# the graph and the inspector fit one screen.
_CSS = """
<style>
html { font-size: 19px; }
[data-testid="stMainBlockContainer"] { padding-top: 0.6rem; padding-bottom: 1rem; max-width: 100%; }
[data-testid="stMainBlockContainer"] [data-testid="stVerticalBlock"] { gap: 0.5rem; }
h1 { font-size: 1.7rem !important; padding: 0 !important; }
.stButton button { font-size: 1.05rem; min-height: 2.5rem; }
[data-baseweb="tooltip"], [data-testid="stTooltipContent"] { display: none !important; }
.st-key-presenter_bar { gap: 0.3rem !important; }
.st-key-presenter_bar [data-testid="stPageLink"] a { padding: 0.1rem 0.35rem; }
[data-testid="stCaptionContainer"] { font-size: 1rem; }
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"] { display: none; }
header[data-testid="stHeader"] { display: none; }
.katex { font-size: 1.25em; }
</style>
"""


GRAPH_HEIGHT = 360  # px: the least the graph gets; it grows to the screen's height


# The truth is a plain session key: Streamlit can drop a widget's value on a page switch (seen
# after a fragment run, and in the presenter bar's browser test on a loaded machine, where
# presenter mode went off on the way to Lessons).


def presenting() -> bool:
    return bool(st.session_state.get(keys.PRESENTER, False))


def _toggled() -> None:
    st.session_state[keys.PRESENTER] = st.session_state[keys.W_PRESENTER]


def _leave() -> None:
    st.session_state[keys.PRESENTER] = False


def presenter_switch() -> None:
    """The switch, and the styles and the way out when it is on."""
    # Each page's toggle is a new widget to Streamlit: hand it the mode on every run.
    st.session_state[keys.W_PRESENTER] = presenting()
    st.sidebar.toggle(
        "Presenter mode",
        key=keys.W_PRESENTER,
        on_change=_toggled,
        help="Large type for a projector; hides the sidebar and what a class does not need.",
    )
    if presenting():
        st.html(_CSS)
        with st.container(horizontal=True, key="presenter_bar", vertical_alignment="center"):
            for page in PAGES:
                st.page_link(page.path)
            st.button(
                "Exit presenter mode", key="b_presenter_exit", on_click=_leave, type="tertiary"
            )
