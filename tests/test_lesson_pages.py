"""A lesson step that happens on another page names it (``page``, a page's title) and the
Lessons page opens it; a page that does not exist is refused with the file's name. Lesson 7
("It generalises") opens the Generalisation page with its own network."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from explorer.lessons import LessonError, load_lessons

APP = str(Path(__file__).parents[1] / "app.py")
LESSON = next(lesson for lesson in load_lessons() if lesson.key == "07_generalise")


def test_every_step_of_the_generalisation_lesson_happens_on_its_page() -> None:
    assert [step.page for step in LESSON.steps] == ["Generalisation"] * len(LESSON.steps)
    spec = LESSON.steps[0].settings
    assert (spec.dataset, spec.hidden_sizes) == ("mnist-sample", (16, 16))


def test_a_step_naming_a_page_that_does_not_exist_is_refused(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(
        "title: x\ngoal: y\nsteps:\n  - {title: a, text: b, page: Nowhere}\n"
    )
    with pytest.raises(LessonError, match=r"bad\.yaml step 1: no page is called 'Nowhere'"):
        load_lessons.__wrapped__(tmp_path)


def test_the_lessons_page_opens_the_steps_page_with_the_lessons_network() -> None:
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page("app_pages/lessons.py").run()
    at.selectbox(key="w_lesson").set_value(LESSON.key).run()
    assert not at.exception, at.exception
    at.button(key="b_lesson_page").click().run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Generalisation: digits it never saw"
    assert any("The sidebar's network, 784-16-16-10" in c.value for c in at.caption)
    assert at.session_state["run"].settings == LESSON.steps[0].settings


def test_a_step_without_a_page_offers_none() -> None:
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page("app_pages/lessons.py").run()
    assert load_lessons()[0].steps[0].page is None
    assert not [b for b in at.button if b.key == "b_lesson_page"]
