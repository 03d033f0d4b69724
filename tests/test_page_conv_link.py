"""CNN links through the Convolution page: the address bar holds the network's link, opening
it in another session gives the same network at the same phase bit for bit, and a malformed,
hostile or over-budget link gets one clear message with the default network on screen."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from streamlit.testing.v1 import AppTest

from explorer.ui import keys
from explorer.ui.conv_session import ConvRun, ConvSettings
from tests.conftest import shown

APP = str(Path(__file__).parents[1] / "app.py")
PAGE = "app_pages/convolution.py"


def page(query: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    if query:
        at.query_params.update(query)
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def run_of(at: AppTest) -> ConvRun:
    run = at.session_state[keys.CONV_RUN]
    assert isinstance(run, ConvRun)
    return run


def link_of(at: AppTest) -> dict[str, str]:
    return {k: v if isinstance(v, str) else v[-1] for k, v in at.query_params.items()}


def same_params(a: ConvRun, b: ConvRun) -> bool:
    pa, pb = a.stepper.state.params, b.stepper.state.params
    pairs = zip((*pa.weights, *pa.biases), (*pb.weights, *pb.biases), strict=True)
    return all(np.array_equal(x, y) for x, y in pairs)


def test_a_shared_cnn_link_reopens_the_same_network_at_the_same_phase() -> None:
    teacher = page()
    teacher.number_input(key="cw_seed").set_value(3).run()
    teacher.number_input(key="cw_batch").set_value(8).run()
    teacher.button(key="cb_step").click().run()
    teacher.number_input(key="cw_run_n").set_value(4).run()
    teacher.button(key="cb_run").click().run()
    for _ in range(3):
        teacher.button(key="cb_phase").click().run()
    query = link_of(teacher)
    assert query["net"] == "cnn" and "trail" in query

    student = page(query)
    t, s = run_of(teacher), run_of(student)
    assert s.settings == t.settings
    ts, ss = t.stepper.state, s.stepper.state
    assert (ss.epoch, ss.step, ss.position, ss.done) == (ts.epoch, ts.step, ts.position, ts.done)
    assert same_params(t, s)
    assert np.array_equal(ss.blocks[0].pooled, ts.blocks[0].pooled)  # the half-done batch
    assert student.number_input(key="cw_seed").value == 3
    assert not student.warning and not student.error
    assert link_of(student) == query


def test_a_malformed_link_warns_once_and_keeps_the_defaults() -> None:
    at = page({"net": "cnn", "blocks": "99:9:odd", "learning_rate": "huge", "trail": "F;x;;"})
    assert len(at.warning) == 1
    text = shown(at.warning[0].value)
    assert "blocks" in text and "learning_rate" in text and "trail" in text
    assert run_of(at).settings == ConvSettings() and run_of(at).stepper.state.step == 0
    at.button(key="cb_step").click().run()
    assert not at.exception and run_of(at).stepper.state.step == 1


def test_a_link_whose_kernels_do_not_fit_is_refused_with_one_message() -> None:
    # 8x8 digits: 5x5 valid leaves 4x4, pooled 2x2, and a second 5x5 cannot fit
    at = page({"net": "cnn", "dataset": "digits-8x8", "blocks": "4:5:valid:relu:1,4:5"})
    assert len(at.error) == 1 and "does not fit" in shown(at.error[0].value)
    assert run_of(at).settings == ConvSettings()


def test_an_over_budget_link_is_refused_before_any_work() -> None:
    at = page({"net": "cnn", "batch_size": "512", "trail": "F;" * 400})
    assert len(at.warning) == 1 and "would take about" in shown(at.warning[0].value)
    run = run_of(at)
    assert run.stepper.state.step == 0 and not run.stepper.can_step_back


def test_hostile_text_in_a_link_is_shown_as_text() -> None:
    at = page({"net": "cnn", "dataset": "[Sign in](http://127.0.0.1/x)", "seed": "**9**"})
    assert len(at.warning) == 1
    raw = at.warning[0].value
    assert "](" not in raw.replace("\\](", "") and "**9**" not in raw
    assert run_of(at).settings == ConvSettings()


def test_an_mlp_link_on_this_page_is_not_read_as_a_cnn() -> None:
    at = page({"hidden_sizes": "4,2", "learning_rate": "0.3"})
    assert not at.warning and run_of(at).settings == ConvSettings()
    assert link_of(at)["net"] == "cnn"  # the address bar now links this page's network
