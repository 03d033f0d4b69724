"""The Training page driven through AppTest: every view opens for a 2-D set, a regression set,
the 8x8 digits and 784-16-16-10 on the MNIST sample; Train N epochs runs in chunks with a
progress bar, Stop ends it, step back undoes it; the controls change what is shown; the network
is the Explorer's, across a page switch; and the decision boundary tab beside the Explorer's
graph."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import explorer.ui.job_fragment as job_fragment
from explorer.engine import NonFiniteError
from explorer.ui import keys

APP = str(Path(__file__).parents[1] / "app.py")
PAGE = "app_pages/training.py"


@pytest.fixture
def at() -> AppTest:
    app = AppTest.from_file(APP, default_timeout=60)
    app.switch_page(PAGE).run()
    assert not app.exception, app.exception
    return app


@pytest.fixture
def one_epoch_a_tick(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each run of the page trains one epoch, so a test sees the job part-way."""
    monkeypatch.setattr(job_fragment, "CHUNK_SECONDS", 0.0)


def run_of(at: AppTest) -> Any:
    return at.session_state["run"]


def charts(at: AppTest) -> dict[str, Any]:
    """The page's plotly figures as JSON, by key, the network graph's among them."""
    figures = {c.key: json.loads(c.proto.spec) for c in at.get("plotly_chart")}
    for c in at.get("bidi_component"):
        if c.proto.component_name.endswith("network_graph"):
            key = c.proto.id.rsplit("-", 1)[-1]
            figures[key] = json.loads(json.loads(c.proto.json)["figure"])
    return figures


def open_tab(at: AppTest, label: str) -> dict[str, Any]:
    at.session_state["w_tr_tab"] = label
    at.run()
    assert not at.exception, at.exception
    return charts(at)


def click(at: AppTest, key: str) -> AppTest:
    at.button(key=key).click().run()
    assert not at.exception, at.exception
    return at


def job(at: AppTest) -> Any:
    return at.session_state.get(keys.TRAIN_JOB)


def array(value: Any) -> np.ndarray:
    """A figure's array from its JSON: plotly sends numpy arrays as base64 typed arrays."""
    if isinstance(value, dict):
        flat = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
        shape = [int(n) for n in str(value.get("shape", len(flat))).split(",")]
        return flat.reshape(shape)
    return np.asarray(value)


def test_a_2d_set_opens_every_view(at: AppTest) -> None:
    assert [t.label for t in at.tabs] == [
        "Decision boundary",
        "Neurons",
        "Curves",
        "Gradients & distributions",
    ]
    assert set(charts(at)) == {"boundary"}
    assert any("test points misclassified" in c.value for c in at.caption)
    neurons = open_tab(at, "Neurons")["neurons"]
    assert sum(t["type"] == "heatmap" for t in neurons["data"]) == 2 + 4 + 2 + 1
    assert set(open_tab(at, "Curves")) == {"loss_curves", "accuracy_curves"}
    health = open_tab(at, "Gradients & distributions")
    assert set(health) == {"grad_norms", "activation_hist", "weight_hist"}
    assert sum("units dead" in c.value for c in at.caption) == 2  # one line per hidden layer


def test_a_regression_set_shows_a_surface_on_request(at: AppTest) -> None:
    at.selectbox(key="w_dataset").set_value("plane").run()
    assert run_of(at).dataset.task == "regression"
    assert charts(at)["boundary"]["data"][0]["type"] == "heatmap"
    at.toggle(key="w_surface").set_value(True).run()
    assert not at.exception
    assert charts(at)["boundary"]["data"][0]["type"] == "surface"
    assert set(open_tab(at, "Curves")) == {"loss_curves"}  # no accuracy for regression


def test_digits_8x8_open_the_image_views(at: AppTest) -> None:
    at.selectbox(key="w_dataset").set_value("digits-8x8").run()
    assert not at.exception
    assert [t.label for t in at.tabs][:2] == ["Weights", "Test set"]
    assert set(charts(at)) == {"weights", "contribution", "probabilities"}
    assert set(open_tab(at, "Test set")) == {"confusion", "class_accuracy", "gallery"}


def test_mnist_sample_784_16_16_10(at: AppTest) -> None:
    at.selectbox(key="w_dataset").set_value("mnist-sample").run()
    at.number_input(key="w_size_0").set_value(16).run()
    at.number_input(key="w_size_1").set_value(16).run()
    assert not at.exception
    run = run_of(at)
    assert run.spec.describe() == "784-16-16-10"
    weights = charts(at)["weights"]
    assert sum(t["type"] == "heatmap" for t in weights["data"]) == 16
    at.selectbox(key="w_tr_unit").set_value(5).run()
    assert run.selected == (0, 5)
    at.number_input(key="w_tr_sample").set_value(7).run()
    assert any(m.value.startswith("**Test sample 7**") for m in at.markdown)
    test = open_tab(at, "Test set")
    assert array(test["confusion"]["data"][0]["z"]).sum() == 2000
    assert any("on 2,000 test samples" in c.value for c in at.caption)
    click(at, "b_tr_step")
    assert run.stepper.state.step == 1


def test_train_n_epochs_in_chunks_then_step_back_undoes_it(
    at: AppTest, one_epoch_a_tick: None
) -> None:
    run = run_of(at)
    click(at, "b_tr_step")
    at.number_input(key="w_tr_epochs").set_value(3).run()
    click(at, "b_train")
    assert job(at).done == 1 and at.button(key="b_train").disabled
    assert at.get("progress")  # the bar shows while it trains
    at.run()
    assert job(at).done == 2
    at.run()  # the last epoch: the job ends and the page redraws without it
    assert job(at) is None and not at.get("progress")
    state = run.stepper.state
    per_epoch = len(run.dataset.x_train) // run.settings.batch_size
    assert (state.epoch, state.position, state.step) == (3, 0, 3 * per_epoch)
    assert {m.epochs for m in run.metrics.values()} >= {1.0, 2.0, 3.0}
    assert all(len(m.grad_norms) == len(run.spec.layers) for m in run.metrics.values())
    click(at, "b_tr_back")  # the whole run at once, back to the step before it
    assert run.stepper.state.step == 1 and set(run.metrics) == {0, 1}


def test_stop_ends_the_job_and_keeps_what_it_trained(at: AppTest, one_epoch_a_tick: None) -> None:
    run = run_of(at)
    click(at, "b_train")
    step = run.stepper.state.step
    assert step > 0 and job(at) is not None
    click(at, "b_stop")
    assert job(at) is None and not at.button(key="b_train").disabled
    at.run()
    assert run.stepper.state.step == step


def test_a_job_stops_when_something_else_moves_the_network(
    at: AppTest, one_epoch_a_tick: None
) -> None:
    run = run_of(at)
    click(at, "b_train")
    run.stepper.finish_step()  # as a step on the Explorer would
    step = run.stepper.state.step
    at.run()
    assert job(at) is None and run.stepper.state.step == step


def test_an_overflow_stops_training_and_keeps_the_network(at: AppTest) -> None:
    at.selectbox(key="w_dataset").set_value("plane").run()
    at.selectbox(key="w_head").set_value("identity + mean squared error").run()
    at.selectbox(key="w_act_0").set_value("sigmoid").run()
    at.select_slider(key="w_learning_rate").set_value(10.0).run()
    at.number_input(key="w_tr_epochs").set_value(200).run()
    click(at, "b_train")
    for _ in range(20):
        if job(at) is None:
            break
        at.run()
    run = run_of(at)
    assert job(at) is None and run.failure and "Lower the learning rate" in run.failure
    assert any("overflowed" in e.value for e in at.error)
    assert run.stepper.state.params.is_finite()


def test_a_diverged_network_says_why_it_cannot_be_drawn(at: AppTest) -> None:
    at.selectbox(key="w_dataset").set_value("plane").run()
    at.selectbox(key="w_head").set_value("identity + mean squared error").run()
    at.selectbox(key="w_act_0").set_value("sigmoid").run()
    at.select_slider(key="w_learning_rate").set_value(10.0).run()
    stepper = run_of(at).stepper
    with pytest.raises(NonFiniteError):
        stepper.run_steps(1000)  # weights far beyond float32's range before float64 overflows
    for tab in ("Decision boundary", "Neurons", "Gradients & distributions"):
        open_tab(at, tab)
        assert any("cannot be drawn" in w.value for w in at.warning)
    assert "loss_curves" in open_tab(at, "Curves")  # the recorded numbers still draw


def test_view_controls_change_what_is_shown(at: AppTest) -> None:
    at.toggle(key="w_discretize").set_value(True).run()
    assert '"P(blue)' not in at.get("plotly_chart")[0].proto.spec
    assert "predicted class" in at.get("plotly_chart")[0].proto.spec
    click(at, "b_tr_step")
    open_tab(at, "Curves")
    at.toggle(key="w_tr_log").set_value(True).run()
    at.radio(key="w_tr_along").set_value("epochs").run()
    loss = charts(at)["loss_curves"]["layout"]
    assert loss["yaxis"]["type"] == "log" and loss["xaxis"]["title"]["text"] == "epoch"


def test_the_network_is_the_explorers_across_a_page_switch() -> None:
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.number_input(key="w_size_0").set_value(5).run()
    at.button(key="b_step").click().run()
    stepper = run_of(at).stepper
    at.switch_page(PAGE).run()
    assert not at.exception
    assert run_of(at).stepper is stepper and stepper.state.step == 1
    assert run_of(at).settings.hidden_sizes == (5, 2)


def test_the_explorer_has_a_decision_boundary_tab_for_2d_data() -> None:
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert [t.label for t in at.tabs] == ["Network", "Decision boundary"]
    assert "graph" in charts(at) and "boundary" not in charts(at)
    at.session_state["w_ex_tab"] = "Decision boundary"
    at.run()
    assert not at.exception
    assert "boundary" in charts(at) and "graph" not in charts(at)
