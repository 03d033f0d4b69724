"""The app runs and a Step click trains."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).parents[1] / "app.py")


def test_step_button_trains() -> None:
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert not at.exception
    for _ in range(3):
        at.button(key="step").click().run()
    assert not at.exception
    losses = at.session_state["xor_losses"]
    assert len(losses) == 3 and losses[-1] < losses[0]
