"""The Full training page through AppTest: train on either backend with progress, stop keeping
what was trained, open the result in the Explorer, export the config; and without torch."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import explorer.torch_backend as tb
from explorer.data import DataError
from explorer.state.run_config import from_json, to_json
from explorer.training.full import FullTraining

APP = str(Path(__file__).parents[1] / "app.py")
PAGE = "app_pages/train.py"


@pytest.fixture
def at() -> AppTest:
    app = AppTest.from_file(APP, default_timeout=60).run()
    app.switch_page(PAGE).run()
    assert not app.exception, app.exception
    return app


def job_of(at: AppTest) -> FullTraining:
    job: FullTraining = at.session_state["ft_job"]
    return job


def click(at: AppTest, key: str) -> AppTest:
    at.button(key=key).click().run()
    assert not at.exception, at.exception
    return at


def train_to_the_end(at: AppTest) -> FullTraining:
    click(at, "b_ft_train")
    job = job_of(at)
    for _ in range(50):
        if not job.running:
            break
        at.run()
        assert not at.exception, at.exception
    return job


def test_the_page_offers_a_run_and_no_result_yet(at: AppTest) -> None:
    assert at.title[0].value == "Full training"
    assert at.button(key="b_ft_open").disabled and at.button(key="b_ft_stop").disabled
    assert "ft_job" not in at.session_state
    assert any("press Train" in i.value for i in at.info)


def test_numpy_training_runs_every_epoch_with_progress(at: AppTest) -> None:
    at.number_input(key="w_ft_epochs").set_value(3).run()
    at.number_input(key="w_ft_batch").set_value(16).run()
    job = train_to_the_end(at)
    assert job.finished and job.epoch == 3 and job.config.settings.batch_size == 16
    texts = [p.proto.text for p in at.get("progress")]
    assert "Epoch 3 of 3" in texts and f"Batch {job.n_batches} of {job.n_batches}" in texts
    assert any("Trained 3 epochs" in s.value for s in at.success)
    assert {"Train loss", "Test accuracy"} <= {m.label for m in at.metric}
    assert not at.button(key="b_ft_open").disabled and not at.button(key="b_ft_train").disabled
    # the accuracy curve in % as the tiles write it, not a share from 0 to 1
    accuracy = json.loads(
        next(c for c in at.get("plotly_chart") if c.key == "ft_curve_2").proto.spec
    )
    shown = [y for trace in accuracy["data"] for y in trace["y"]]
    test = job.epochs[-1].test_accuracy
    assert test is not None and max(shown) > 1 and shown[-1] == pytest.approx(100 * test)
    assert accuracy["layout"]["yaxis"]["ticksuffix"] == " %"


def test_stop_keeps_what_was_trained_and_opens_in_the_explorer(at: AppTest) -> None:
    at.number_input(key="w_ft_epochs").set_value(1000).run()
    at.number_input(key="w_ft_batch").set_value(1).run()
    click(at, "b_ft_train")
    job = job_of(at)
    assert job.running and job.step > 0
    click(at, "b_ft_stop")
    assert job.stopped and not job.running
    assert any("Stopped after" in i.value for i in at.info)
    trained = job.params()
    click(at, "b_ft_open")
    run = at.session_state["run"]
    assert at.title[0].value == "Backprop Explorer"
    for mine, shown in zip(trained.weights, run.stepper.state.params.weights, strict=True):
        np.testing.assert_array_equal(mine.astype(np.float64), shown)


def test_torch_training_from_the_page(at: AppTest) -> None:
    pytest.importorskip("torch")
    at.radio(key="w_ft_backend").set_value("torch").run()
    assert at.selectbox(key="w_ft_device").value == "auto"
    at.number_input(key="w_ft_epochs").set_value(2).run()
    job = train_to_the_end(at)
    assert job.finished and job.config.backend == "torch"
    assert "torch on cpu" in job.trainer.describe()


def test_the_exported_config_is_the_run_the_train_button_starts(at: AppTest) -> None:
    at.number_input(key="w_ft_epochs").set_value(4).run()
    assert at.get("download_button")[0].proto.label == "Export config"
    click(at, "b_ft_train")  # the button and the export are built from the same RunConfig
    config = job_of(at).config
    assert config.epochs == 4 and config.settings == at.session_state["run"].settings
    assert from_json(to_json(config), headless=True) == config


def test_without_torch_the_option_is_disabled_and_says_how_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tb, "torch_available", lambda: False)
    app = AppTest.from_file(APP, default_timeout=60).run()
    app.switch_page(PAGE).run()
    assert not app.exception
    assert app.radio(key="w_ft_backend").disabled
    assert app.radio(key="w_ft_backend").value == "numpy"
    assert any("pip install '.[torch]'" in c.value for c in app.caption)


def test_a_failed_mnist_download_says_why(at: AppTest, monkeypatch: pytest.MonkeyPatch) -> None:
    import explorer.ui.full_training_view as view

    def offline() -> None:
        raise DataError("Could not download train-images-idx3-ubyte.gz (offline).")

    if view.mnist_downloaded():
        pytest.skip("full MNIST is already downloaded here: the button is not shown")
    monkeypatch.setattr(view, "download_mnist", offline)
    click(at, "b_ft_mnist")
    assert any("Could not download" in e.value for e in at.error)
    assert at.session_state["w_dataset"] != "mnist"


def test_the_explorer_batch_recomputed_by_torch_agrees(at: AppTest) -> None:
    pytest.importorskip("torch")
    click(at, "b_ft_check")
    rows = at.session_state["ft_check"]
    assert [r["layer"] for r in rows] == [1, 2, 3]
    numbers = [float(v) for r in rows for k, v in r.items() if k != "layer" and v != ""]
    assert len(numbers) == 3 * 6 + 1 and max(numbers) < 1e-12
