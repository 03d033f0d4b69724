"""Lesson 8, "Why GPUs": every step happens on the Why GPUs page, which the Lessons page opens,
and the numbers its text quotes are the race's own."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from explorer.analysis.race import DEFAULT_BATCH, flops_per_sample, race_spec
from explorer.lessons import load_lessons
from explorer.ui.datasets import dataset_for

APP = str(Path(__file__).parents[1] / "app.py")
LESSON = next(lesson for lesson in load_lessons() if lesson.key == "08_gpus")


def test_every_step_happens_on_the_why_gpus_page_with_the_race_network_at_w_16() -> None:
    assert LESSON.title == "Why GPUs"
    assert [step.page for step in LESSON.steps] == ["Why GPUs"] * len(LESSON.steps)
    settings = LESSON.steps[0].settings
    spec = settings.network_spec(dataset_for(settings))
    assert spec.describe() == race_spec(16).describe() == "784-16-16-10"
    assert settings.batch_size == DEFAULT_BATCH


def test_the_numbers_in_the_text_are_the_races() -> None:
    text = " ".join(step.text for step in LESSON.steps)
    per_step = flops_per_sample(race_spec(16)) * 64
    assert f"{per_step / 1e6:.1f} million floating-point operations" in text
    assert "6W² + 3,196W" in text
    growth = flops_per_sample(race_spec(4096)) / flops_per_sample(race_spec(16))
    assert growth > 2000 and "over 2,000 times as much work" in text


def test_the_lessons_page_opens_the_why_gpus_page() -> None:
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page("app_pages/lessons.py").run()
    at.selectbox(key="w_lesson").set_value(LESSON.key).run()
    assert not at.exception, at.exception
    assert at.button(key="b_lesson_page").label == "Open the Why GPUs page"
    at.button(key="b_lesson_page").click().run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Why GPUs"
