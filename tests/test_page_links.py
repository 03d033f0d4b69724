"""A link copied from one session rebuilds the same network at the same point in another,
bit for bit; a malformed link warns and falls back without an exception."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from streamlit.testing.v1 import AppTest

from tests.conftest import shown

APP = str(Path(__file__).parents[1] / "app.py")


def app(query: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    if query:
        at.query_params.update(query)
    at.run()
    assert not at.exception, at.exception
    return at


def params_of(at: AppTest) -> list[np.ndarray]:
    p = at.session_state["run"].stepper.state.params
    return [*p.weights, *p.biases]


def test_a_teachers_link_reproduces_the_network_bit_for_bit() -> None:
    teacher = app()
    teacher.number_input(key="w_seed").set_value(5).run()
    teacher.button(key="b_step").click().run()
    teacher.select_slider(key="w_learning_rate").set_value(0.3).run()
    teacher.number_input(key="w_run_n").set_value(7).run()
    teacher.button(key="b_run").click().run()
    for _ in range(3):
        teacher.button(key="b_phase").click().run()
    query = {k: v if isinstance(v, str) else v[-1] for k, v in teacher.query_params.items()}
    assert "trail" in query

    student = app(query)
    t, s = teacher.session_state["run"].stepper.state, student.session_state["run"].stepper.state
    assert (s.epoch, s.step, s.position, s.done) == (t.epoch, t.step, t.position, t.done)
    assert all(
        np.array_equal(a, b) for a, b in zip(params_of(teacher), params_of(student), strict=True)
    )
    assert np.array_equal(s.a[0], t.a[0])  # the half-done batch too
    assert student.session_state["run"].settings == teacher.session_state["run"].settings
    assert student.select_slider(key="w_learning_rate").value == 0.3
    assert not student.warning


def test_a_malformed_link_warns_and_falls_back() -> None:
    at = app({"learning_rate": "huge", "hidden_sizes": "9" * 10_000, "activation": "swish"})
    texts = " ".join(shown(w.value) for w in at.warning)
    assert "learning_rate" in texts and "hidden_sizes" in texts and "activation" in texts
    assert at.session_state["run"].settings.learning_rate == 0.03
    at.button(key="b_step").click().run()
    assert not at.exception


def test_a_link_at_a_fields_limits_fits_the_sidebars_widgets() -> None:
    """The sidebar's ranges are Settings' own: a momentum of 0.999 or 128 units, which a link
    may carry, open in widgets that hold them."""
    link = {"hidden_sizes": "128", "hidden_activations": "relu", "noise": "0.5"}
    at = app({**link, "optimizer": "momentum", "momentum": "0.999"})
    assert not at.warning, [w.value for w in at.warning]
    assert at.session_state["run"].settings.momentum == 0.999
    assert at.slider(key="w_momentum").value == 0.999
    assert at.number_input(key="w_size_0").value == 128


def test_a_link_between_the_sliders_stops_keeps_its_values() -> None:
    """A learning rate or L2 a link may carry that the sliders do not list is offered, not
    moved to the first stop (which rebuilt the network with a rate of 1e-5)."""
    at = app({"learning_rate": "0.05", "l2": "0.002"})
    assert not at.warning
    settings = at.session_state["run"].settings
    assert (settings.learning_rate, settings.l2) == (0.05, 0.002)
    assert at.select_slider(key="w_learning_rate").value == 0.05
    at.button(key="b_step").click().run()
    assert at.session_state["run"].settings.learning_rate == 0.05
    at.select_slider(key="w_learning_rate").set_value(0.1).run()
    assert at.session_state["run"].settings.learning_rate == 0.1
