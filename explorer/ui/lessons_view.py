"""The Lessons page: pick a lesson, read it step by step, open any step in the Explorer.

Each step's "Open in Explorer" builds the step's network and trains it to the point the text
talks about (replaying its trail), so a class can start any step with one click.
"""

from __future__ import annotations

import streamlit as st

from explorer.lessons import Lesson, load_lessons
from explorer.ui.datasets import dataset_for
from explorer.ui.page import open_in_explorer


def _move(key: str, delta: int, n: int) -> None:
    st.session_state[key] = min(max(st.session_state.get(key, 0) + delta, 0), n - 1)


def _open(lesson: Lesson, index: int) -> None:
    settings, trail = lesson.start(index)
    note = f"{lesson.title}: step {index + 1}. {lesson.steps[index].title}"
    open_in_explorer(settings, dataset_for(settings), trail=trail, note=note)


def lessons_page() -> None:
    st.title("Lessons")
    lessons = {lesson.key: lesson for lesson in load_lessons()}
    key = st.selectbox(
        "Lesson",
        list(lessons),
        format_func=lambda k: f"{list(lessons).index(k) + 1}. {lessons[k].title}",
        key="w_lesson",
    )
    lesson = lessons[key]
    step_key = f"lesson_step_{key}"
    index = st.session_state.setdefault(step_key, 0)
    step = lesson.steps[index]
    st.caption(lesson.goal)
    st.progress((index + 1) / len(lesson.steps), text=f"Step {index + 1} of {len(lesson.steps)}")
    st.subheader(step.title)
    st.markdown(step.text)
    if step.do:
        st.info(step.do, icon=":material/touch_app:")
    back, forward, open_col = st.columns([1, 1, 2])
    back.button(
        "Back",
        key="b_lesson_back",
        icon=":material/arrow_back:",
        on_click=_move,
        args=(step_key, -1, len(lesson.steps)),
        disabled=index == 0,
    )
    forward.button(
        "Next",
        key="b_lesson_next",
        icon=":material/arrow_forward:",
        on_click=_move,
        args=(step_key, 1, len(lesson.steps)),
        disabled=index == len(lesson.steps) - 1,
    )
    open_col.button(
        "Open in Explorer",
        key="b_lesson_open",
        icon=":material/open_in_new:",
        type="primary",
        on_click=_open,
        args=(lesson, index),
        help="Build this step's network, train it to this point, and go to the Explorer.",
    )
