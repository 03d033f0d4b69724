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
