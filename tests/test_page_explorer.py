"""The Explorer page driven through AppTest: controls, phases, step back, rebuild rules, the
inspector's numbers, the sidebar across reruns, and a diverging run."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from explorer.analysis.inspector import num
from explorer.ui.explorer_view import PLAY_MOST_PER_TICK, PLAY_RATE
from explorer.ui.session import PlayClock

APP = str(Path(__file__).parents[1] / "app.py")


@pytest.fixture
def at() -> AppTest:
    app = AppTest.from_file(APP, default_timeout=60).run()
    assert not app.exception
    return app


def run_of(at: AppTest):  # type: ignore[no-untyped-def]
    return at.session_state["run"]


def status(at: AppTest) -> str:
    return next(c.value for c in at.caption if c.value.startswith("Epoch"))


def click(at: AppTest, key: str) -> AppTest:
    at.button(key=key).click().run()
    assert not at.exception, at.exception
    return at


def test_phases_come_in_order_and_status_says_where(at: AppTest) -> None:
    n_layers = len(run_of(at).spec.layers)
    seen = []
    for _ in range(2 * n_layers + 2):
        click(at, "b_phase")
        seen.append(status(at).split("done: ")[1].split(" · ")[0])
    assert seen == [
        *(f"forward, layer {i}" for i in range(1, n_layers + 1)),
        "error",
        *(f"backward, layer {i}" for i in range(n_layers, 0, -1)),
        "update",
    ]
    assert status(at).startswith("Epoch 1 · step 1")


def test_every_control_moves_the_stepper(at: AppTest) -> None:
    run = run_of(at)
    click(at, "b_step")
    assert run.stepper.state.step == 1 and run.stepper.state.done == len(run.stepper.phases)
    at.number_input(key="w_run_n").set_value(5).run()
    click(at, "b_run")
    assert run.stepper.state.step == 6
    click(at, "b_epoch")
    state = run.stepper.state
    assert state.position + len(state.batch_index) == run.stepper.n_train
    end = state.step
    assert set(run.metrics) >= {0, 1, 6, end}
    click(at, "b_back")  # back undoes one step of the epoch, not the whole epoch
    assert run.stepper.state.step == end - 1 and max(run.metrics) < end
    at.toggle(key="w_play").set_value(True).run()
    assert run.playing and not at.exception
    at.toggle(key="w_play").set_value(False).run()
    assert not run.playing
    click(at, "b_reset")
    assert run.stepper.state.step == 0 and not run.stepper.can_step_back


def test_step_back_restores_exactly(at: AppTest) -> None:
    run = run_of(at)
    click(at, "b_step")
    before = run.stepper.state
    weights = [w.copy() for w in before.params.weights]
    click(at, "b_phase")
    click(at, "b_step")
    click(at, "b_back")
    click(at, "b_back")
    assert run.stepper.state is before
    assert all(np.array_equal(a, b) for a, b in zip(weights, before.params.weights, strict=True))


def test_architecture_change_rebuilds_learning_rate_change_does_not(at: AppTest) -> None:
    click(at, "b_step")
    stepper = run_of(at).stepper
    at.select_slider(key="w_learning_rate").set_value(0.3).run()
    assert run_of(at).stepper is stepper and stepper.state.step == 1
    assert stepper.config.learning_rate == 0.3
    at.number_input(key="w_size_0").set_value(6).run()
    assert not at.exception
    rebuilt = run_of(at)
    assert rebuilt.stepper is not stepper and rebuilt.stepper.state.step == 0
    assert rebuilt.spec.sizes[1] == 6
    assert any("rebuilt" in t.value for t in at.toast)


def test_sidebar_survives_reruns(at: AppTest) -> None:
    at.number_input(key="w_layers").set_value(3).run()
    at.selectbox(key="w_act_2").set_value("relu").run()
    for _ in range(3):
        click(at, "b_phase")
    keys = {w.key for w in at.sidebar.selectbox} | {w.key for w in at.sidebar.number_input}
    assert {"w_dataset", "w_act_0", "w_act_2", "w_size_2", "w_layers"} <= keys
    assert run_of(at).spec.layers[2].activation == "relu"


def test_inspector_shows_the_traced_numbers(at: AppTest) -> None:
    run = run_of(at)
    for _ in range(2):
        click(at, "b_phase")
    run.selected = (0, 1)
    at.selectbox(key="w_sample").set_value(0).run()
    z = float(run.stepper.state.z[0][0, 1])
    a = float(run.stepper.state.a[0][0, 1])
    shown = " ".join(e.value for e in at.latex)
    assert num(z) in shown and num(a) in shown
    # backward has not reached this neuron yet: its sections say so
    assert any(c.value.startswith("Not computed yet") for c in at.caption)


def test_gradient_check_gives_a_verdict_in_the_graphs_layer_names(at: AppTest) -> None:
    """Pass or fail against a stated tolerance, the output called "output" as in the graph;
    once the network moves on, the old verdict is not shown as the current one."""
    click(at, "b_gradcheck")
    (verdict,) = at.success
    assert (
        verdict.value.startswith("Pass: all")
        and "within a relative error of 1e-06" in verdict.value
    )
    (table,) = [m.value for m in at.markdown if m.value.startswith("| layer |")]
    assert "| output (sigmoid) |" in table and "| layer 1 (tanh) |" in table
    assert "layer 3" not in table and table.count("| pass |") == len(run_of(at).spec.layers)
    click(at, "b_phase")
    assert not at.success and not any(m.value.startswith("| layer |") for m in at.markdown)
    assert any(
        "Gradients checked at step 0; the network has moved on" in c.value for c in at.caption
    )


def expanded(at: AppTest) -> dict[str, bool]:
    """The inspector's sections: open or closed, by title."""
    return {
        e.label: e.proto.expanded
        for e in at.expander
        if e.label not in ("Edit this neuron", "Save, load, export", "Draw a digit")
    }


def test_the_inspector_opens_the_section_of_the_newest_phase(at: AppTest) -> None:
    """The output neuron of 2-4-2-1 through one step: the section each phase computed is open,
    the earlier ones closed, so the chain rule just computed is on screen."""
    run = run_of(at)
    run.selected = (2, 0)
    at.run()
    opened = []
    for _ in range(len(run.stepper.phases)):
        click(at, "b_phase")
        opened.append([title.split(":")[0] for title, is_open in expanded(at).items() if is_open])
    assert opened == [
        ["Forward"],  # forward, layer 1: not yet this neuron's; the next to come is open
        ["Forward"],
        ["Forward"],
        ["Error at the output"],
        ["Gradients"],
        ["Gradients"],
        ["Gradients"],
        ["Update"],
    ]
    run.selected = (1, 1)  # a hidden neuron after the update
    at.run()
    assert [t.split(":")[0] for t, is_open in expanded(at).items() if is_open] == ["Update"]


def test_the_batch_inspector_says_what_is_averaged_over_what(at: AppTest) -> None:
    for _ in range(4):
        click(at, "b_phase")
    run_of(at).selected = (2, 0)
    at.run()
    b = len(run_of(at).stepper.state.x)
    assert any(
        c.value.startswith(f"Batch of {b}: z, a and the target are means") for c in at.caption
    )
    (table,) = [m.value for m in at.markdown if m.value.startswith("| a (mean of")]
    assert f"target (mean of {b})" in table and f"dL/da (sum over {b})" in table
    err = run_of(at).stepper.state.err
    assert any(f"= {num(err.loss)}" in e.value for e in at.latex)  # the batch's loss, shown
    at.selectbox(key="w_sample").set_value(0).run()
    assert not any(c.value.startswith("Batch of") for c in at.caption)


def test_the_loss_chart_ticks_whole_steps(at: AppTest) -> None:
    click(at, "b_step")
    (chart,) = [c for c in at.get("bidi_component") if c.proto.id.endswith("-curves")]
    xaxis = json.loads(json.loads(chart.proto.json)["figure"])["layout"]["xaxis"]
    assert xaxis["tickmode"] == "linear" and xaxis["dtick"] == 1 and xaxis["tickformat"] == "d"


def test_mnist_sample_builds_a_784_input_network(at: AppTest) -> None:
    at.selectbox(key="w_dataset").set_value("mnist-sample").run()
    at.number_input(key="w_size_0").set_value(16).run()
    at.number_input(key="w_size_1").set_value(16).run()
    assert not at.exception
    assert run_of(at).spec.describe() == "784-16-16-10"
    click(at, "b_step")
    assert run_of(at).stepper.state.step == 1


def test_a_diverging_run_stops_keeps_the_network_and_says_where(at: AppTest) -> None:
    at.selectbox(key="w_dataset").set_value("plane").run()
    at.selectbox(key="w_head").set_value("identity + mean squared error").run()
    at.selectbox(key="w_act_0").set_value("sigmoid").run()
    at.select_slider(key="w_learning_rate").set_value(10.0).run()
    at.number_input(key="w_run_n").set_value(1000).run()
    click(at, "b_run")
    run = run_of(at)
    assert run.failure and "Lower the learning rate" in run.failure
    assert any("overflowed" in e.value for e in at.error)
    assert run.stepper.state.params.is_finite()
    step = run.stepper.state.step
    click(at, "b_back")
    assert run.stepper.state.step <= step


def test_prediction_for_the_shown_sample(at: AppTest) -> None:
    """After the forward pass the shown sample's prediction is the argmax of the output, with
    its label, marked right or wrong; the batch mean shows none."""

    def predictions() -> list[str]:
        return [m.value for m in at.markdown if m.value.startswith("**Prediction**")]

    at.selectbox(key="w_dataset").set_value("mnist-sample").run()
    click(at, "b_step")
    assert predictions() == []  # the batch mean is shown
    for sample in (0, 1, 2):
        at.selectbox(key="w_sample").set_value(sample).run()
        run = run_of(at)
        s = run.stepper.state
        predicted = int(np.argmax(s.a[-1][sample]))
        label = int(run.dataset.y_train[s.batch_index[sample]])
        mark = "check_circle" if predicted == label else "cancel"
        assert predictions() == [
            f"**Prediction** :{'green' if predicted == label else 'red'}[:material/{mark}:] "
            f"{predicted} (label {label})"
        ]


def test_play_clock_keeps_its_rate_whatever_the_ticks_and_drops_a_stall() -> None:
    clock = PlayClock(rate=5.0, started=100.0)
    assert clock.due(100.1, most=4) == 0
    # ticks late and irregular (a slow browser): 5 steps a second all the same
    taken = [clock.due(t, most=4) for t in (100.3, 100.75, 101.0, 101.35, 102.0)]
    assert taken == [1, 2, 2, 1, 4] and sum(taken) == 10
    assert clock.due(104.0, most=4) == 4  # a stall: 10 due, 4 taken, the rest dropped
    assert clock.due(104.2, most=4) == 1


def test_a_play_tick_takes_the_steps_due(at: AppTest) -> None:
    at.toggle(key="w_play").set_value(True).run()
    run = run_of(at)
    assert run.playing and not at.exception
    before = run.stepper.state.step  # 0, or 1 on a machine slow enough for one to fall due
    run.play = PlayClock(PLAY_RATE, started=time.monotonic() - 100)  # a long stall
    at.run()
    # at most PLAY_MOST_PER_TICK steps in one tick, the rest dropped; each recorded
    assert run.stepper.state.step == before + PLAY_MOST_PER_TICK and not at.exception
    assert set(range(before + 1, before + PLAY_MOST_PER_TICK + 1)) <= set(run.metrics)
    at.toggle(key="w_play").set_value(False).run()
    click(at, "b_back")  # and each is a state of its own
    assert run.stepper.state.step == before + PLAY_MOST_PER_TICK - 1


def test_the_graph_caption_says_when_hover_is_limited_to_the_strongest_edges(at: AppTest) -> None:
    def caption() -> str:
        return next(c.value for c in at.caption if c.value.startswith("Click a neuron"))

    assert "neurons and edges" in caption()
    at.number_input(key="w_size_0").set_value(50).run()
    at.number_input(key="w_size_1").set_value(40).run()
    assert "the 1,000 strongest edges of each layer" in caption()


@pytest.mark.parametrize("page", ["app_pages/compare.py", "app_pages/features.py"])
def test_a_rebuild_on_another_page_is_said_there_and_once(at: AppTest, page: str) -> None:
    at.switch_page(page).run()
    at.number_input(key="w_size_0").set_value(6).run()
    assert not at.exception
    assert any("rebuilt" in t.value for t in at.toast)
    at.switch_page("app_pages/explorer.py").run()
    assert not any("rebuilt" in t.value for t in at.toast)


def test_a_wide_network_says_its_dense_layers_draw_their_strongest_edges(at: AppTest) -> None:
    def caption() -> str:
        return next(c.value for c in at.caption if c.value.startswith("Click a neuron"))

    assert "draws its strongest" not in caption()
    at.number_input(key="w_size_0").set_value(128).run()
    at.number_input(key="w_size_1").set_value(64).run()  # 8,192 edges between them
    assert not at.exception
    assert "A layer of more than 4,096 edges draws its strongest 4,096." in caption()
