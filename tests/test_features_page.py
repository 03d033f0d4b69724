"""The Features page (AppTest): three pipelines' accuracies, computed and shown; a feature
family switched off moves the hand-made number and its feature count; the MLP column is a
network of the sidebar's shape."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from explorer.analysis.features import (
    FAMILIES,
    HAND,
    MLP,
    MLP_EPOCHS,
    PIXELS,
    hand_made,
    mlp,
    raw_pixels,
)
from explorer.data import load_digits_8x8

APP = str(Path(__file__).parents[1] / "app.py")
PAGE = "app_pages/features.py"
DIGITS = load_digits_8x8()
EPOCHS = MLP_EPOCHS["digits-8x8"]


def features_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def scores(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def caption_starting(at: AppTest, words: str) -> str:
    return next(c.value for c in at.caption if c.value.startswith(words))


def test_the_page_shows_each_pipelines_test_accuracy_as_computed() -> None:
    at = features_page()
    assert at.title[0].value == "Features: hand-made vs learned"
    assert at.radio(key="w_ft_data").value == "digits-8x8"
    run = at.session_state["run"]
    s = run.settings  # the sidebar's network: its hidden layers, init and seed
    net = mlp(DIGITS, s.hidden_sizes, s.hidden_activations, init=s.init, seed=s.seed, epochs=EPOCHS)
    expected = {
        HAND: f"{hand_made(DIGITS, list(FAMILIES), seed=s.seed).accuracy:.1%}",
        PIXELS: f"{raw_pixels(DIGITS, seed=s.seed).accuracy:.1%}",
        f"{MLP} (64-4-2-10)": f"{net.accuracy:.1%}",
    }
    assert scores(at) == expected
    assert caption_starting(at, "56 hand-made features per digit")
    assert "trained here, not taken from the Explorer" in caption_starting(at, "Each number")
    assert len(at.get("plotly_chart")) >= 3  # the confusion matrices, then the feature images


def test_switching_a_family_off_moves_the_hand_made_accuracy_and_its_feature_count() -> None:
    at = features_page()
    before = scores(at)
    at.toggle(key="w_ft_strokes").set_value(False).run()
    assert not at.exception, at.exception
    after = scores(at)
    without = hand_made(DIGITS, ["grid", "profiles", "shape"], seed=0)
    assert after[HAND] == f"{without.accuracy:.1%}" != before[HAND]
    assert caption_starting(at, "40 hand-made features per digit")
    assert {k: v for k, v in after.items() if k != HAND} == {
        k: v for k, v in before.items() if k != HAND
    }  # the pixel pipelines do not use the families
    for name in ("grid", "profiles", "shape"):
        at.toggle(key=f"w_ft_{name}").set_value(False).run()
    assert not at.exception, at.exception
    assert scores(at)[HAND] == "—"
    assert caption_starting(at, "No family is on")


def test_the_mlp_column_is_a_network_of_the_sidebars_shape() -> None:
    at = features_page()
    assert at.info  # the default 4-2 network is said to be narrow
    at.sidebar.number_input(key="w_layers").set_value(1).run()
    at.sidebar.number_input(key="w_size_0").set_value(16).run()
    assert not at.exception, at.exception
    s = at.session_state["run"].settings
    assert s.hidden_sizes == (16,)
    net = mlp(DIGITS, (16,), s.hidden_activations, init=s.init, seed=s.seed, epochs=EPOCHS)
    assert scores(at)[f"{MLP} (64-16-10)"] == f"{net.accuracy:.1%}"
    assert not at.info


def test_the_mnist_sample_has_its_own_numbers() -> None:
    at = features_page()
    at.radio(key="w_ft_data").set_value("mnist-sample").run()
    assert not at.exception, at.exception
    assert caption_starting(at, "96 hand-made features per digit")
    assert caption_starting(at, "784 pixels per digit")
    assert f"{MLP} (784-4-2-10)" in scores(at)


def test_the_lessons_network_is_the_one_the_features_page_trains() -> None:
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page("app_pages/lessons.py").run()
    at.selectbox(key="w_lesson").set_value("06_features").run()
    at.button(key="b_lesson_next").click().run()
    assert "Open the **Features** page" in at.info[0].value  # what the step asks
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    assert f"{MLP} (64-16-10)" in scores(at)  # the lesson's sidebar, as its text says
    assert not at.info


def test_only_the_open_tab_draws_its_figures() -> None:
    at = features_page()
    assert len(at.get("plotly_chart")) == 3  # the three confusion matrices
    assert not any("first-layer weights" in m.value for m in at.markdown)
    at.session_state["w_ft_tab"] = "Features as images"
    at.run()
    assert not at.exception, at.exception
    assert len(at.get("plotly_chart")) == 3  # the maps, the MLP's weights, the templates
    assert any("first-layer weights" in m.value for m in at.markdown)
