"""Save, load and export on the Explorer page (AppTest): a saved session continues in another
session bit for bit; a corrupt upload is refused and the current network stays."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).parents[1] / "app.py")


def app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    return at


def uploader(at: AppTest):  # type: ignore[no-untyped-def]
    return next(u for u in at.file_uploader if u.key == "w_session_file")


def test_a_saved_session_continues_elsewhere_bit_for_bit() -> None:
    teacher = app()
    teacher.selectbox(key="w_optimizer").set_value("adam").run()
    teacher.button(key="b_run").click().run()
    for _ in range(2):
        teacher.button(key="b_phase").click().run()
    teacher.button(key="b_prepare_files").click().run()
    files = teacher.session_state["prepared_files"]
    assert {"backprop-session.npz", "predict.py"} <= set(files)

    student = app()
    uploader(student).set_value(
        ("s.npz", files["backprop-session.npz"], "application/octet-stream")
    ).run()
    assert not student.exception, student.exception
    t, s = teacher.session_state["run"], student.session_state["run"]
    assert s.settings == t.settings and s.settings.optimizer == "adam"
    assert student.selectbox(key="w_optimizer").value == "adam"
    for run in (teacher, student):
        run.button(key="b_run").click().run()
    ts, ss = t.stepper.state, student.session_state["run"].stepper.state
    assert (ts.step, ts.done, ts.position) == (ss.step, ss.done, ss.position)
    for a, b in zip(ts.params.weights, ss.params.weights, strict=True):
        assert np.array_equal(a, b)
    assert set(student.session_state["run"].metrics) >= {0, 10}


def test_a_corrupt_upload_is_refused_and_the_network_stays() -> None:
    at = app()
    at.button(key="b_step").click().run()
    before = at.session_state["run"]
    state = before.stepper.state
    uploader(at).set_value(("bad.npz", b"\x00garbage" * 50, "application/octet-stream")).run()
    assert not at.exception
    assert any("not a Backprop Explorer session file" in e.value for e in at.error)
    assert at.session_state["run"] is before and before.stepper.state is state
