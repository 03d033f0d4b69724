"""The Compare page driven through AppTest: the editor starts from the sidebar, presets load and
run, results appear, the gallery plots the engine's derivative, and "open in the Explorer"
hands the variant over."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from explorer.analysis.compare import PRESETS, Comparison, run_comparison, variants_of, vary
from explorer.engine import ACTIVATIONS

APP = str(Path(__file__).parents[1] / "app.py")
RESULT_CHARTS = ("cmp_loss", "cmp_accuracy", "cmp_grads", "cmp_units", "cmp_hist")


@pytest.fixture
def at() -> AppTest:
    app = AppTest.from_file(APP, default_timeout=120).run()
    app.switch_page("app_pages/compare.py").run()
    assert not app.exception, app.exception
    return app


def charts(at: AppTest) -> dict[str, Any]:
    """Plotly charts by key, each as its figure's JSON."""
    return {c.proto.id.rsplit("-", 1)[-1]: json.loads(c.proto.spec) for c in at.get("plotly_chart")}


def values(v: Any) -> np.ndarray:
    """A trace's array from figure JSON: a list, or plotly's base64 typed array."""
    if isinstance(v, dict):
        return np.frombuffer(base64.b64decode(v["bdata"]), dtype=v["dtype"]).astype(float)
    return np.asarray(v, dtype=float)


def run_it(at: AppTest) -> Comparison:
    at.button(key="cmp_run").click().run()
    assert not at.exception, at.exception
    result: Comparison = at.session_state["cmp_result"]
    return result


def test_the_editor_starts_from_the_sidebar(at: AppTest) -> None:
    assert at.title[0].value == "Compare"
    sidebar = at.session_state["run"].settings
    assert at.number_input(key="cmp_n").value == 2
    assert at.selectbox(key="cmp_0_all").value == sidebar.hidden_activations[0]
    assert at.selectbox(key="cmp_1_all").value == "relu"
    assert at.select_slider(key="cmp_1_learning_rate").value == sidebar.learning_rate


def test_the_gallery_plots_the_engine_derivative(at: AppTest) -> None:
    found = charts(at)
    for name in ACTIVATIONS:
        traces = {t["name"]: t for t in found[f"gal_{name}"]["data"]}
        z, f = values(traces["f(z)"]["x"]), values(traces["f(z)"]["y"])
        der = values(traces["f'(z)"]["y"])
        smooth = np.abs(z) > 0.1
        numeric = np.gradient(f, z)
        np.testing.assert_allclose(der[smooth], numeric[smooth], atol=5e-3, err_msg=name)
    assert len(at.latex) >= 2 * len(ACTIVATIONS)


def test_a_preset_loads_runs_and_shows_its_effect(at: AppTest) -> None:
    at.selectbox(key="cmp_preset").set_value("dead-relu").run()
    preset = PRESETS["dead-relu"]
    assert at.number_input(key="cmp_n").value == len(preset.variants)
    assert at.number_input(key="cmp_steps").value == preset.steps
    assert [at.select_slider(key=f"cmp_{i}_learning_rate").value for i in range(3)] == [
        0.03,
        0.3,
        3.0,
    ]
    assert at.info[0].value == preset.explanation
    result = run_it(at)
    assert result.finished and [r.variant for r in result.runs] == list(preset.variants)
    table = at.dataframe[0].value
    assert list(table["variant"]) == [v.label for v in preset.variants]
    dead = [float(v.rstrip("%")) / 100 for v in table["dead ReLU"]]
    assert dead[0] < 0.05 and dead[2] > 0.35
    shown = charts(at)
    assert set(RESULT_CHARTS) | {"cmp_boundaries"} <= set(shown)
    assert not any("Stopped" in w.value for w in at.warning)


def test_setting_all_layers_sets_each_layer_and_runs_that(at: AppTest) -> None:
    at.selectbox(key="cmp_1_all").set_value("gelu").run()
    depth = at.number_input(key="cmp_1_depth").value
    assert all(at.selectbox(key=f"cmp_1_act_{i}").value == "gelu" for i in range(depth))
    at.selectbox(key="cmp_0_act_0").set_value("sigmoid").run()
    at.number_input(key="cmp_steps").set_value(20).run()
    result = run_it(at)
    acts = [r.variant.settings.hidden_activations for r in result.runs]
    assert acts[1] == ("gelu",) * depth and acts[0][0] == "sigmoid"
    assert result.runs[0].initial_params is result.runs[1].initial_params
    assert result.step == 20


@pytest.mark.parametrize("trained", [False, True])
def test_open_in_explorer_hands_the_variant_over(at: AppTest, trained: bool) -> None:
    at.number_input(key="cmp_steps").set_value(15).run()
    result = run_it(at)
    variant = result.runs[1]
    at.button(key=f"cmp_open_{'trained_' if trained else ''}1").click().run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Backprop Explorer"
    run = at.session_state["run"]
    assert run.settings == variant.variant.settings
    expected = variant.params if trained else variant.initial_params
    for got, want in zip(run.stepper.state.params.weights, expected.weights, strict=True):
        np.testing.assert_array_equal(got, want)
    # the browser now shows the Explorer: its reruns keep the handed-over network
    at.switch_page("app_pages/explorer.py").run()
    at.button(key="b_step").click().run()
    assert at.session_state["run"] is run and run.stepper.state.step == 1
    assert at.sidebar.selectbox(key="w_act_0").value == "relu"


def test_a_stopped_comparison_says_where_it_stopped(at: AppTest) -> None:
    run = at.session_state["run"]
    s = run.settings
    partial = run_comparison(
        variants_of([s, vary(s, activation="relu")]),
        run.dataset,
        100,
        on_progress=lambda c: c.step < 10,
        record_every=10,
    )
    at.session_state["cmp_result"] = partial
    at.run()
    assert any("Stopped at step 10 of 100" in w.value for w in at.warning)
    assert at.dataframe[0].value["step"].tolist() == ["10", "10"]


def test_the_editor_survives_a_visit_to_another_page(at: AppTest) -> None:
    at.selectbox(key="cmp_preset").set_value("dead-relu").run()
    at.select_slider(key="cmp_2_learning_rate").set_value(1.0).run()
    at.switch_page("app_pages/explorer.py").run()
    at.switch_page("app_pages/compare.py").run()
    assert not at.exception, at.exception
    assert at.selectbox(key="cmp_preset").value == "dead-relu"
    assert at.number_input(key="cmp_n").value == 3
    assert at.select_slider(key="cmp_2_learning_rate").value == 1.0
