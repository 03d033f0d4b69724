"""Classroom controls on the Explorer (AppTest): editing a weight by hand, and presenter mode."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from streamlit.testing.v1 import AppTest

from explorer.engine import Edit
from tests.conftest import assert_same_state

APP = str(Path(__file__).parents[1] / "app.py")


def app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    return at


def test_editing_a_weight_updates_the_forward_pass_and_steps_back() -> None:
    at = app()
    at.button(key="b_step").click().run()
    run = at.session_state["run"]
    before = run.stepper.state
    run.selected = (1, 0)
    at.run()
    at.radio(key="w_edit_what").set_value("weight").run()
    at.number_input(key="w_edit_source").set_value(3).run()
    at.number_input(key="w_edit_value").set_value(2.5).run()
    at.button(key="b_edit").click().run()
    assert not at.exception
    state = run.stepper.state
    assert state.params.weights[1][3, 0] == 2.5 and state.trail[-1] == Edit(1, 3, 0, 2.5)
    at.button(key="b_phase").click().run()
    at.button(key="b_phase").click().run()
    z = run.stepper.state.z[1]
    a_prev = run.stepper.state.a[0]
    expected = a_prev @ run.stepper.state.params.weights[1] + run.stepper.state.params.biases[1]
    assert np.array_equal(z, expected)  # the forward pass uses the edited weight
    for _ in range(3):
        at.button(key="b_back").click().run()
    assert_same_state(run.stepper.state, before)


def test_editing_the_bias() -> None:
    at = app()
    at.session_state["run"].selected = (2, 0)
    at.run()
    at.radio(key="w_edit_what").set_value("bias").run()
    at.number_input(key="w_edit_value").set_value(-1.25).run()
    at.button(key="b_edit").click().run()
    assert at.session_state["run"].stepper.state.params.biases[2][0] == -1.25


def test_presenter_mode_keeps_the_step_controls_and_hides_the_rest() -> None:
    at = app()
    assert at.button(key="b_gradcheck")
    at.toggle(key="w_presenter").set_value(True).run()
    assert not at.exception
    keys = {b.key for b in at.button}
    assert {"b_phase", "b_step", "b_back", "b_reset"} <= keys and at.toggle(key="w_play")
    assert "b_gradcheck" not in keys and "b_prepare_files" not in keys
    at.button(key="b_step").click().run()
    assert at.session_state["run"].stepper.state.step == 1
