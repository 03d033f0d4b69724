"""The Lessons page: a lesson's text beside its live network, stepped in place.

Choosing a lesson or a step (Back / Next) builds the step's network and trains it to where the
step's text begins (its trail replayed), and makes it the session's network: the sidebar shows
it, and every page uses it from then on. Beside the text are the Explorer's own step controls,
view options, status, graph, inspector and tiles (imported from ``explorer_view`` and
``inspector_view``), so the student does what the step says right here. A network the user built
or trained elsewhere is never replaced unasked: the page offers to load the step instead.
"Open in Explorer" goes on with the same network on the Explorer page. A step on another page
has a button that opens it; on the Convolution page with the step's own CNN, by the same rule
(``explorer.ui.lesson_conv``).

The chosen lesson is kept under its own key: Streamlit drops a widget's value once a page
without the widget has run, which reset the selector to lesson 1 on every return.
"""

from __future__ import annotations

import streamlit as st

from explorer.lessons import CONV_PAGE_TITLE, Lesson, load_lessons
from explorer.ui import keys
from explorer.ui.datasets import dataset_for
from explorer.ui.explorer_view import (
    PLAY_INTERVAL,
    controls,
    graph,
    metrics,
    play_tick,
    prediction,
    status,
    view_options,
)
from explorer.ui.guard import Commit, guard, show_refusal
from explorer.ui.inspector_view import inspector
from explorer.ui.lesson_conv import conv_page_button
from explorer.ui.page import (
    EXPLORER_PAGE,
    commit_run,
    open_in_explorer,
    prepare_run,
    setup,
    write_link,
)
from explorer.ui.pages import PAGES
from explorer.ui.presenter import presenting
from explorer.ui.session import Run
from explorer.ui.sidebar import DEFAULTS


def _step_key(lesson: Lesson) -> str:
    return f"lesson_step_{lesson.key}"


def _current(lesson: Lesson, index: int) -> Run | None:
    """The session's network, if it is the one this step built."""
    at = st.session_state.get(keys.LESSON_RUN)
    run = st.session_state.get(keys.RUN)
    if at is not None and at[:2] == (lesson.key, index) and at[2] is run:
        return run
    return None


def _replaceable() -> bool:
    """Whether the session's network may give way to a lesson's without asking: there is none
    yet (and no link to open), it is an earlier lesson step's, or the untouched default."""
    run = st.session_state.get(keys.RUN)
    if run is None:
        return not st.query_params  # a link is the session's network: setup opens it
    at = st.session_state.get(keys.LESSON_RUN)
    if at is not None and at[2] is run:
        return True
    return run.settings == DEFAULTS and not run.stepper.state.trail


def _load(lesson: Lesson, index: int) -> None:
    """Make step ``index``'s network the session's (before the sidebar is drawn, or from a
    callback); a refusal leaves the network as it was and is shown on the page."""
    settings, trail = lesson.start(index)
    step = lesson.steps[index]

    def prepare() -> Commit:
        run = prepare_run(settings, dataset_for(settings), trail=trail)

        def commit() -> None:
            commit_run(run)
            st.session_state[keys.LESSON_RUN] = (lesson.key, index, run)
            if step.sample is not None:
                st.session_state[keys.W_SAMPLE] = step.sample

        return commit

    guard(keys.LESSON_LOAD, prepare)


def _move(lesson: Lesson, index: int) -> None:
    """Back / Next: the new step's text, and its network where the old one may give way."""
    st.session_state[_step_key(lesson)] = index
    if _replaceable():
        _load(lesson, index)
        st.session_state[keys.LESSON_MOVED] = True


def _load_here(lesson: Lesson, index: int) -> None:
    """The user asked for the step's network in place of their own."""
    _load(lesson, index)
    st.session_state[keys.LESSON_MOVED] = True


def _pick(lessons: dict[str, Lesson]) -> None:
    """The selector changed: that lesson, at the step it was left at."""
    lesson = lessons[st.session_state[keys.W_LESSON]]
    st.session_state[keys.LESSON] = lesson.key
    if _replaceable():
        _load(lesson, st.session_state.get(_step_key(lesson), 0))


def _open(lesson: Lesson, index: int) -> None:
    settings, trail = lesson.start(index)
    note = f"{lesson.title}: step {index + 1}. {lesson.steps[index].title}"
    open_in_explorer(settings, dataset_for(settings), trail=trail, note=note)


def lessons_page() -> None:
    lessons = {lesson.key: lesson for lesson in load_lessons()}
    if st.session_state.get(keys.LESSON) not in lessons:
        st.session_state[keys.LESSON] = next(iter(lessons))
    lesson = lessons[st.session_state[keys.LESSON]]
    index = min(st.session_state.get(_step_key(lesson), 0), len(lesson.steps) - 1)
    if _current(lesson, index) is None and _replaceable():
        _load(lesson, index)  # before the sidebar is drawn, so that it shows the lesson's network
    setup()
    if not presenting():
        st.title("Lessons")
    st.session_state[keys.W_LESSON] = lesson.key
    st.selectbox(
        "Lesson",
        list(lessons),
        format_func=lambda k: f"{list(lessons).index(k) + 1}. {lessons[k].title}",
        key=keys.W_LESSON,
        on_change=_pick,
        label_visibility="collapsed" if presenting() else "visible",
        args=(lessons,),
    )
    show_refusal(keys.LESSON_LOAD)
    _body(lesson)


def _body(lesson: Lesson) -> None:
    """The step's text and its live network, in one fragment: a click reruns this, not the
    sidebar; Play gives it a timer, as on the Explorer page."""
    run = st.session_state.get(keys.RUN)
    ticking = run is not None and run.playing

    @st.fragment(run_every=PLAY_INTERVAL if ticking else None)
    def live() -> None:
        if st.session_state.pop(keys.LESSON_MOVED, False):
            st.rerun(scope="app")  # a new network: the sidebar must show it
        index = min(st.session_state.get(_step_key(lesson), 0), len(lesson.steps) - 1)
        run = _current(lesson, index)
        if run is not None:
            if run.play is not None and ticking:
                play_tick(run, run.play)
            if run.playing != ticking:
                st.rerun(scope="app")
            if not run.playing:
                st.session_state[keys.W_PLAY] = False
        if run is not None:  # the step buttons across the page, as on the Explorer
            controls(run)
            if run.failure:
                st.error(run.failure)
            st.caption(status(run))
        text, network = st.columns([1, 1.9])
        with text:
            _step_text(lesson, index, run)
        if run is None:
            with network:
                _offer(lesson, index)
            return
        with network:
            sample = _live_network(run)
        with text:
            inspector(run, sample)
            prediction(run, sample)
        write_link(run)

    live()


def _step_text(lesson: Lesson, index: int, run: Run | None) -> None:
    """Where the lesson is, the way between its steps (above the text: in presenter mode's large
    type the text runs long), and the step's text and what to do."""
    step = lesson.steps[index]
    n = len(lesson.steps)
    if not presenting():
        st.caption(lesson.goal)
    st.progress((index + 1) / n, text=f"Step {index + 1} of {n}")
    # Not "Back" / "Next": the Explorer's keys press the first button whose label ends so.
    back, forward = st.columns(2)
    back.button(
        "Previous step",
        key="b_lesson_back",
        icon=":material/arrow_back:",
        on_click=_move,
        args=(lesson, index - 1),
        disabled=index == 0,
        width="stretch",
    )
    forward.button(
        "Next step",
        key="b_lesson_next",
        icon=":material/arrow_forward:",
        on_click=_move,
        args=(lesson, index + 1),
        disabled=index == n - 1,
        width="stretch",
    )
    st.subheader(step.title)
    st.markdown(step.text)
    if step.do:
        st.info(step.do, icon=":material/touch_app:")
    if step.page == CONV_PAGE_TITLE:
        conv_page_button(lesson, index, next(p for p in PAGES if p.title == step.page))
    elif step.page is not None:
        page = next(p for p in PAGES if p.title == step.page)
        if st.button(f"Open the {page.title} page", key="b_lesson_page", icon=page.icon):
            st.switch_page(page.path)  # with the session's network: this step's, once loaded
    if run is not None:
        if st.button("Open in Explorer", key="b_lesson_open", icon=":material/open_in_new:"):
            st.switch_page(EXPLORER_PAGE)  # the same network, as it is now
    else:
        st.button(
            "Open in Explorer",
            key="b_lesson_open",
            icon=":material/open_in_new:",
            on_click=_open,
            args=(lesson, index),
        )


def _offer(lesson: Lesson, index: int) -> None:
    """The session's network is the user's own: say so, and load the step on request."""
    run: Run | None = st.session_state.get(keys.RUN)
    if run is not None:
        s = run.stepper.state
        st.info(
            f"The session's network is your own ({run.spec.describe()}, step {s.step}), not "
            "this step's. Loading the step replaces it on every page."
        )
    st.button(
        "Load this step's network",
        key="b_lesson_load",
        icon=":material/download:",
        type="primary",
        on_click=_load_here,
        args=(lesson, index),
    )


def _live_network(run: Run) -> int | None:
    """The Explorer's view options, graph and tiles; returns the shown sample."""
    if presenting():
        with st.expander("View options"):
            color_by, edge_by, sample, top_k = view_options(run)
    else:
        color_by, edge_by, sample, top_k = view_options(run)
    shown = None if sample is None else min(sample, len(run.stepper.state.x) - 1)
    graph(run, color_by, edge_by, shown, top_k)
    metrics(run)
    return shown
