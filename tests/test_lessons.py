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


# -- the page: each step stepped in place, beside its network -----------------------------------
def _lessons_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page("app_pages/lessons.py").run()
    assert not at.exception, at.exception
    return at


def _status(at: AppTest) -> str:
    return next(c.value for c in at.caption if c.value.startswith("Epoch "))


def _go_to(at: AppTest, key: str, index: int) -> None:
    if at.selectbox(key="w_lesson").value != key:
        at.selectbox(key="w_lesson").set_value(key).run()
    for _ in range(index):
        at.button(key="b_lesson_next").click().run()
    assert not at.exception, at.exception


def test_a_lesson_shows_its_network_and_is_stepped_in_place() -> None:
    at = _lessons_page()
    lesson = LESSONS[0]
    run = at.session_state["run"]
    # the lesson's own network, in the session and in the sidebar: no hidden layer
    assert run.settings == lesson.steps[0].settings
    assert run.spec.describe() == "2-1"
    assert at.sidebar.number_input(key="w_layers").value == 0
    assert at.sidebar.selectbox(key="w_dataset").value == "gaussian"
    assert "start of a mini-batch" in _status(at)
    at.button(key="b_phase").click().run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Lessons"  # still here, beside the text
    assert "done: forward, layer 1" in _status(at)
    assert at.session_state["run"] is run and run.stepper.state.done == 1
    # the Explorer's other pieces are here too: view options, the tiles
    assert at.selectbox(key="w_color").value == "phase"
    assert {"Train loss", "Test loss"} <= {m.label for m in at.metric}


# (lesson, step, Next phase clicks the step's text asks for, the phase they end in)
CLICKS = [
    ("01_one_neuron", 1, 1, "forward, layer 1"),
    ("01_one_neuron", 3, 2, "backward, layer 1"),
    ("03_digits", 1, 3, "forward, layer 3"),
    ("03_digits", 2, 1, "error"),
    ("03_digits", 3, 3, "backward, layer 1"),
]


@pytest.mark.parametrize(("key", "index", "clicks", "phase"), CLICKS)
def test_a_steps_clicks_end_in_the_phase_its_text_is_about(
    key: str, index: int, clicks: int, phase: str
) -> None:
    at = _lessons_page()
    _go_to(at, key, index)
    lesson = next(lesson for lesson in LESSONS if lesson.key == key)
    words = {1: "once", 2: "twice", 3: "three times"}[clicks]
    assert f"**Next phase** {words}" in lesson.steps[index].do
    for _ in range(clicks):
        at.button(key="b_phase").click().run()
    assert not at.exception, at.exception
    assert f"done: {phase} ·" in _status(at)


def test_the_forward_pass_step_shows_the_prediction_it_promises() -> None:
    at = _lessons_page()
    _go_to(at, "03_digits", 1)
    assert at.selectbox(key="w_sample").value == 0  # the step shows sample 0
    for _ in range(3):
        at.button(key="b_phase").click().run()
    assert any(m.value.startswith("**Prediction**") for m in at.markdown)


def test_the_chosen_lesson_and_step_survive_leaving_and_returning() -> None:
    at = _lessons_page()
    _go_to(at, "03_digits", 1)
    at.button(key="b_phase").click().run()
    run = at.session_state["run"]
    for page in ("app_pages/explorer.py", "app_pages/training.py", "app_pages/lessons.py"):
        at.switch_page(page).run()
        assert not at.exception, (page, at.exception)
    assert at.selectbox(key="w_lesson").value == "03_digits"
    assert at.subheader[0].value == LESSONS[2].steps[1].title
    # the student's network as they left it: same object, one phase in
    assert at.session_state["run"] is run and run.stepper.state.done == 1
    assert "done: forward, layer 1" in _status(at)


def test_a_trained_network_is_not_replaced_unasked() -> None:
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.button(key="b_step").click().run()
    mine = at.session_state["run"]
    at.switch_page("app_pages/lessons.py").run()
    assert at.session_state["run"] is mine
    assert any("not this step's" in i.value for i in at.info)
    at.button(key="b_lesson_load").click().run()
    assert not at.exception, at.exception
    run = at.session_state["run"]
    assert run is not mine and run.settings == LESSONS[0].steps[0].settings
    assert at.sidebar.number_input(key="w_layers").value == 0


def test_a_lesson_sample_outside_the_batch_is_refused(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(
        "title: x\ngoal: y\nsettings: {batch_size: 4}\nsteps: [{title: a, text: b, sample: 4}]\n"
    )
    with pytest.raises(LessonError, match=r"bad\.yaml step 1: sample 4"):
        load_lessons.__wrapped__(tmp_path)
