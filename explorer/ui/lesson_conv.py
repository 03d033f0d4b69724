"""A lesson step's way to the Convolution page, with the CNN the step's text is about.

The rule is the Lessons page's for its MLP: the session's CNN gives way unasked only where
there is none yet (and no CNN link to open), it is one an earlier lesson step opened, or it is
the page's untouched default. A CNN the user built or trained is kept: the step says so and
offers to load its own in its place. A step that names no CNN opens the page with the
session's. The step's CNN is built off to the side through ``explorer.ui.guard``, so one that
cannot be built (a kernel too large for its images, a data set not on this machine) leaves the
session's CNN as it was and one message under the button.
"""

from __future__ import annotations

import streamlit as st

from explorer.lessons import Lesson
from explorer.ui import keys
from explorer.ui.conv_files import forget_builder
from explorer.ui.conv_link import is_conv_link
from explorer.ui.conv_session import ConvRun, ConvSettings, build_conv
from explorer.ui.guard import Commit, guard, plain, show_refusal
from explorer.ui.pages import PageEntry


def _opened(lesson: Lesson, index: int) -> bool:
    """Whether the session's CNN is the one this step opened."""
    at = st.session_state.get(keys.LESSON_CONV)
    run = st.session_state.get(keys.CONV_RUN)
    return at is not None and at[:2] == (lesson.key, index) and at[2] is run


def conv_replaceable() -> bool:
    """Whether the session's CNN may give way to a lesson step's without asking."""
    run = st.session_state.get(keys.CONV_RUN)
    if not isinstance(run, ConvRun):
        return not is_conv_link(st.query_params.to_dict())  # a link is the session's CNN
    at = st.session_state.get(keys.LESSON_CONV)
    if at is not None and at[2] is run:
        return True
    return run.settings == ConvSettings() and not run.stepper.state.trail


def _load(lesson: Lesson, index: int, settings: ConvSettings) -> bool:
    """Make the step's CNN the session's; False (and a message) where it cannot be built."""

    def prepare() -> Commit:
        run = build_conv(settings)

        def commit() -> None:
            st.session_state[keys.CONV_RUN] = run
            st.session_state[keys.LESSON_CONV] = (lesson.key, index, run)
            forget_builder()  # the Convolution page's builder shows the step's CNN

        return commit

    return guard(keys.LESSON_CONV_LOAD, prepare)


def _open_button(page: PageEntry) -> bool:
    return st.button(f"Open the {page.title} page", key="b_lesson_page", icon=page.icon)


def conv_page_button(lesson: Lesson, index: int, page: PageEntry) -> None:
    """The button that opens the Convolution page: with the step's CNN where the session's may
    give way, else with the session's, beside an offer to load the step's in its place."""
    settings = lesson.steps[index].conv
    if settings is None or _opened(lesson, index):
        if _open_button(page):
            st.switch_page(page.path)
        return
    own = not conv_replaceable()
    if _open_button(page) and (own or _load(lesson, index, settings)):
        st.switch_page(page.path)
    if own:
        run: ConvRun = st.session_state[keys.CONV_RUN]
        st.info(
            f"The Convolution page's network is your own ({plain(run.spec.describe())}, step "
            f"{run.stepper.state.step:,}), not this step's; the button above keeps it. Loading "
            "the step's replaces it."
        )
        load = st.button(
            "Load this step's CNN", key="b_lesson_conv_load", icon=":material/download:"
        )
        if load and _load(lesson, index, settings):
            st.switch_page(page.path)
    show_refusal(keys.LESSON_CONV_LOAD)
