"""A lesson step names its CNN (``conv`` in the YAML) and the Lessons page opens the
Convolution page with it, never replacing a CNN the user built or trained unasked; a
malformed CNN in a lesson file is refused with the file, the step and the field."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from explorer.engine.conv import ConvBlockSpec
from explorer.lessons import LessonError, load_lessons
from explorer.ui import keys
from explorer.ui.conv_session import ConvRun, ConvSettings
from explorer.ui.conv_view import SECOND_BLOCK

APP = str(Path(__file__).parents[1] / "app.py")
LESSON = next(lesson for lesson in load_lessons() if lesson.key == "09_convolutions")
TWO_BLOCKS = ConvSettings(blocks=(ConvBlockSpec(), SECOND_BLOCK))


def lessons_at(step: int, at: AppTest | None = None) -> AppTest:
    at = at or AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page("app_pages/lessons.py").run()
    at.selectbox(key="w_lesson").set_value(LESSON.key).run()
    for _ in range(step):
        at.button(key="b_lesson_next").click().run()
    assert not at.exception, at.exception
    return at


def conv_run(at: AppTest) -> ConvRun:
    run = at.session_state[keys.CONV_RUN]
    assert isinstance(run, ConvRun)
    return run


def test_every_step_of_lesson_9_names_its_cnn() -> None:
    assert [step.conv for step in LESSON.steps] == [
        ConvSettings(),
        TWO_BLOCKS,
        ConvSettings(),
        ConvSettings(),
    ]


def test_a_step_opens_the_convolution_page_with_its_own_cnn() -> None:
    at = lessons_at(1)  # "What one pixel sees": a CNN of two blocks

    at.button(key="b_lesson_page").click().run()

    assert not at.exception, at.exception
    assert at.title[0].value == "Convolution explorer"
    run = conv_run(at)
    assert run.settings == TWO_BLOCKS and run.spec.n_blocks == 2
    assert at.sidebar.radio(key="cw_blocks").value == 2  # the builder shows it too
    assert run.stepper.state.step == 0 and not run.stepper.state.trail


def test_a_cnn_the_user_trained_is_not_replaced_unasked() -> None:
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page("app_pages/convolution.py").run()
    at.button(key="cb_step").click().run()
    mine = conv_run(at)
    lessons_at(1, at)
    assert any("your own" in i.value and "not this step's" in i.value for i in at.info)

    at.button(key="b_lesson_page").click().run()  # keeps it
    assert at.title[0].value == "Convolution explorer" and conv_run(at) is mine

    at.switch_page("app_pages/lessons.py").run()  # back at step 2, which it was left at
    at.button(key="b_lesson_conv_load").click().run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Convolution explorer"
    assert conv_run(at) is not mine and conv_run(at).settings == TWO_BLOCKS


def test_a_step_cnn_that_does_not_fit_its_images_is_refused_in_place(tmp_path: Path) -> None:
    """Found when built: the CNN the session has stays, and one message says why."""
    (tmp_path / "fit.yaml").write_text(
        "title: x\ngoal: y\nsteps:\n  - title: a\n    text: b\n    page: Convolution\n"
        "    conv:\n      dataset: digits-8x8\n      blocks:\n"
        "        - {kernel: 5}\n        - {kernel: 5}\n"
    )
    [lesson] = load_lessons.__wrapped__(tmp_path)
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page("app_pages/lessons.py").run()
    at.session_state["lesson_key"] = "fit"
    import explorer.ui.lessons_view as view

    view.load_lessons = lambda: (*load_lessons(), lesson)  # type: ignore[assignment]
    try:
        at.run()
        at.button(key="b_lesson_page").click().run()
    finally:
        view.load_lessons = load_lessons
    assert not at.exception, at.exception
    assert [e.value for e in at.error if "does not fit" in e.value]
    assert keys.CONV_RUN not in at.session_state


@pytest.mark.parametrize(
    ("conv", "message"),
    [
        ("{wings: 2}", r"bad\.yaml step 1: unknown CNN settings \{'wings'\}"),
        ("{blocks: {filters: 4}}", r"bad\.yaml step 1: conv blocks must be a list"),
        ("{blocks: [{filters: 40}]}", r"bad\.yaml step 1 conv blocks 1: .*between 1 and 16"),
        ("{blocks: [{size: 3}]}", r"bad\.yaml step 1 conv blocks 1: expected a mapping of"),
        ("{hidden: [{size: 0, activation: relu}]}", r"bad\.yaml step 1 conv hidden 1"),
        ("{learning_rate: 0.123}", r"bad\.yaml step 1: the CNN: .*learning_rate"),
        ("{batch_size: lots}", r"bad\.yaml step 1: the CNN: .*batch_size"),
        ("{dataset: iris}", r"bad\.yaml step 1: the CNN: .*dataset"),
        ("[1, 2]", r"bad\.yaml step 1: unknown CNN settings"),
    ],
)
def test_a_malformed_cnn_in_a_lesson_is_refused_with_the_step_and_field(
    tmp_path: Path, conv: str, message: str
) -> None:
    (tmp_path / "bad.yaml").write_text(
        f"title: x\ngoal: y\nsteps:\n  - {{title: a, text: b, page: Convolution, conv: {conv}}}\n"
    )
    with pytest.raises(LessonError, match=message):
        load_lessons.__wrapped__(tmp_path)


def test_a_cnn_on_a_step_of_another_page_is_refused(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(
        "title: x\ngoal: y\nsteps:\n  - {title: a, text: b, page: Explorer, conv: {seed: 1}}\n"
    )
    with pytest.raises(LessonError, match=r"step 1: a CNN opens on the Convolution page"):
        load_lessons.__wrapped__(tmp_path)
