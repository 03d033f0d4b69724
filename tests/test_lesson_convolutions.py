"""Lesson 9, "Why convolutions": every step happens on the Convolution page, which the Lessons
page opens with the step's CNN, and the numbers its text quotes are the engine's own
(parameter counts, the receptive field of the step's two blocks, the matched MLP) and its
accuracy claim the comparison's."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from explorer.analysis.conv_compare import compare, matched_width, mlp_params
from explorer.engine.conv import ConvBlockSpec, ConvNetSpec
from explorer.engine.conv.pixel import receptive_field
from explorer.lessons import load_lessons
from explorer.ui.conv_session import ConvSettings, build_conv
from explorer.ui.conv_view import SECOND_BLOCK
from explorer.ui.datasets import dataset_for

APP = str(Path(__file__).parents[1] / "app.py")
LESSON = next(lesson for lesson in load_lessons() if lesson.key == "09_convolutions")
TEXT = " ".join(" ".join(step.text.split()) for step in LESSON.steps)  # lines joined
CNN = ConvNetSpec()  # the Convolution page's default network


def test_every_step_happens_on_the_convolution_page_beside_784_16_16_10() -> None:
    assert LESSON.title == "Why convolutions"
    assert [step.page for step in LESSON.steps] == ["Convolution"] * len(LESSON.steps)
    settings = LESSON.steps[0].settings
    assert settings.network_spec(dataset_for(settings)).describe() == "784-16-16-10"
    assert build_conv(ConvSettings()).spec == CNN and CNN.describe() in TEXT


def test_the_parameter_counts_in_the_text_are_the_networks() -> None:
    settings = LESSON.steps[0].settings
    mlp = settings.network_spec(dataset_for(settings))
    mlp_count = sum((a + 1) * b for a, b in zip(mlp.sizes, mlp.sizes[1:], strict=False))
    weights, biases = CNN.param_shapes
    block = weights[0][0] * weights[0][2] * weights[0][3] + biases[0][0]
    f, h, w = CNN.block_shapes[0].conv
    flat = CNN.flat_size
    assert f"has {mlp_count:,}" in TEXT and f"has {CNN.n_params:,} parameters" in TEXT
    assert 2 * CNN.n_params > mlp_count * 0.9  # "about half"
    assert f"block's {block} parameters make all {f * h * w:,} of its outputs" in TEXT
    assert f"784 × {f * h * w:,} = {784 * f * h * w:,} weights" in TEXT
    assert f"{CNN.n_params - block:,} in its dense output layer" in TEXT
    assert f"= {flat} pooled values" in TEXT
    width = matched_width(CNN.n_params, 784, 10)
    assert f"784-{width}-10 with {mlp_params(784, width, 10):,}" in TEXT


def test_the_receptive_fields_in_the_text_are_the_engines() -> None:
    one = receptive_field(CNN, 0, 5, 5)
    assert one.bottom - one.top + 1 == 3 and "the 3×3 patch" in TEXT
    step = LESSON.steps[1].conv
    assert step is not None and step.blocks == (ConvBlockSpec(), SECOND_BLOCK)
    two = build_conv(step).spec
    field = receptive_field(two, 1, 5, 5)
    side = field.bottom - field.top + 1
    assert f"cover an {side}×{side} patch of the image" in TEXT


def test_the_cnn_comes_out_ahead_after_3_epochs_as_the_text_says() -> None:
    run = build_conv(ConvSettings())
    result = compare(run.spec, run.settings.config(), run.dataset, seed=0, epochs=3)
    assert "the CNN comes out ahead" in TEXT
    assert result.cnn.test_accuracy > result.mlp.test_accuracy


def test_the_lessons_page_opens_the_convolution_page() -> None:
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page("app_pages/lessons.py").run()
    at.selectbox(key="w_lesson").set_value(LESSON.key).run()
    assert not at.exception, at.exception
    assert at.button(key="b_lesson_page").label == "Open the Convolution page"
    at.button(key="b_lesson_page").click().run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Convolution explorer"
    assert at.session_state["conv_run"].settings == LESSON.steps[0].conv == ConvSettings()
