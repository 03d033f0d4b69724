"""Lessons: the files parse, every step's network builds, and the page walks and opens every
step (AppTest)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from explorer.engine import Phases
from explorer.lessons import LessonError, load_lessons
from explorer.ui.datasets import dataset_for

APP = str(Path(__file__).parents[1] / "app.py")
LESSONS = load_lessons()
STEPS = [(lesson.key, i) for lesson in LESSONS for i in range(len(lesson.steps))]


def test_at_least_the_five_lessons_of_the_course() -> None:
    titles = [lesson.title for lesson in LESSONS]
    assert len(titles) >= 5
    for words in ("One neuron", "XOR", "784-16-16-10", "Vanishing", "dead ReLU"):
        assert any(words in t for t in titles), words
    assert (
        LESSONS[2]
        .steps[0]
        .settings.network_spec(dataset_for(LESSONS[2].steps[0].settings))
        .describe()
        == "784-16-16-10"
    )


def test_a_malformed_lesson_file_is_refused_with_its_name(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("title: x\ngoal: y\nsettings: {wings: 2}\nsteps: []\n")
    with pytest.raises(LessonError, match=r"bad\.yaml"):
        load_lessons.__wrapped__(tmp_path)


@pytest.mark.parametrize(("key", "index"), STEPS)
def test_every_step_reads_and_opens_in_the_explorer(key: str, index: int) -> None:
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page("app_pages/lessons.py").run()
    at.selectbox(key="w_lesson").set_value(key).run()
    for _ in range(index):
        at.button(key="b_lesson_next").click().run()
    lesson = next(lesson for lesson in LESSONS if lesson.key == key)
    step = lesson.steps[index]
    assert at.subheader[0].value == step.title
    assert not at.exception
    at.button(key="b_lesson_open").click().run()
    assert not at.exception, at.exception
    run = at.session_state["run"]
    assert run.settings == step.settings
    _, trail = lesson.start(index)
    phases = sum(e.n for e in trail if isinstance(e, Phases))
    per_step = len(run.stepper.phases)
    assert run.stepper.state.step * per_step + run.stepper.state.done % per_step == phases
    assert at.title[0].value == "Backprop Explorer"  # we are on the Explorer now
    assert np.isfinite(run.metrics[run.stepper.state.step].train_loss)
