"""The Full training page trains the Convolution page's CNN (AppTest): the run is that CNN,
its exported JSON trains it headless, and Open in Convolution puts the trained network on the
Convolution page where training stopped, with the builder unchanged."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from streamlit.testing.v1 import AppTest

from explorer.engine.conv import ConvNetSpec
from explorer.state.run_config import from_json, to_json
from explorer.training.full import FullTraining
from explorer.ui import keys
from explorer.ui.conv_session import ConvRun

APP = str(Path(__file__).parents[1] / "app.py")


def both_pages() -> AppTest:
    """A session that built a CNN on the 8x8 digits, now on the Full training page."""
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page("app_pages/convolution.py").run()
    at.selectbox(key="cw_dataset").set_value("digits-8x8").run()
    at.button(key="cb_step").click().run()
    at.switch_page("app_pages/train.py").run()
    assert not at.exception, at.exception
    return at


def test_the_cnn_trains_there_and_opens_in_convolution() -> None:
    at = both_pages()
    cnn: ConvRun = at.session_state[keys.CONV_RUN]
    at.radio(key="w_ft_network").set_value("cnn").run()
    at.number_input(key="w_ft_epochs").set_value(1).run()
    at.button(key="b_ft_train").click().run()
    job: FullTraining = at.session_state["ft_job"]
    for _ in range(50):
        if not job.running:
            break
        at.run()
        assert not at.exception, at.exception
    assert job.finished and isinstance(job.network, ConvNetSpec)
    assert job.network == cnn.spec
    assert from_json(to_json(job.config)) == job.config  # what Export config writes

    at.button(key="b_ft_open_conv").click().run()  # the callback's run switches the page
    assert not at.exception, at.exception
    assert at.title[0].value == "Convolution explorer"
    opened: ConvRun = at.session_state[keys.CONV_RUN]
    assert opened is not cnn and opened.settings == cnn.settings
    s = opened.stepper.state
    assert s.step == job.step and s.epoch == 1 and s.position == 0 and s.done == 0
    for a, b in zip(s.params.weights, job.params().weights, strict=True):
        assert np.array_equal(a, b.astype(np.float64))
    assert at.selectbox(key="cw_dataset").value == "digits-8x8"
    at.switch_page("app_pages/convolution.py")
    at.button(key="cb_step").click().run()  # it trains on from there, not rebuilt
    assert at.session_state[keys.CONV_RUN].stepper.state.step == job.step + 1


def test_without_a_cnn_the_page_trains_the_mlp_as_before() -> None:
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page("app_pages/train.py").run()
    assert not at.exception and all(r.key != "w_ft_network" for r in at.radio)
