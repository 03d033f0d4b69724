"""The Convolution page's gradient check on a fresh default CNN, in AppTest: after forward and
backward on the first mini-batch (zero biases, most ReLUs of the blank patches exactly at
their kink) it passes, and says how many gradients sat at a kink and were not compared."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).parents[1] / "app.py")


def test_a_fresh_default_cnn_passes_its_gradient_check_with_its_kinks_counted() -> None:
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("app_pages/convolution.py").run()
    for _ in range(4):  # forward conv block 1, forward output, error, backward output
        at.button(key="cb_phase").click().run()
    at.button(key="cb_phase").click().run()  # backward, conv block 1
    at.button(key="cb_gradcheck").click().run()

    assert not at.exception
    assert not at.error, [e.value for e in at.error]
    [verdict] = at.success
    assert verdict.value.startswith("Pass:")
    assert "4 more" in verdict.value and "kink" in verdict.value
    table = " ".join(m.value for m in at.markdown)
    assert "| conv block 1 (relu) | 36 of 40 | 4 |" in table
