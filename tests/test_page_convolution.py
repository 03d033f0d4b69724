"""The Convolution page in AppTest: it loads, one mini-batch walks every phase in order, Back
restores the parameters bit for bit, a clicked pixel's sum carries the engine's numbers, the
gradient check passes, a network that cannot be built is refused with one message, the
network survives a visit to another page; presenter mode keeps the step controls and sizes the
maps for a projector; Play takes the steps due, each one a state Back returns to."""

from __future__ import annotations

import json
import re
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from streamlit.testing.v1 import AppTest

from explorer.engine import LayerSpec, Params
from explorer.ui import keys
from explorer.ui.conv_inspector import num
from explorer.ui.conv_link import conv_from_query, conv_to_query
from explorer.ui.conv_session import ConvRun, ConvSettings, image_datasets
from explorer.ui.conv_view import PRESENTER_IMAGE_HEIGHT, PRESENTER_ROW_HEIGHT, select
from explorer.ui.explorer_view import PLAY_MOST_PER_TICK, PLAY_RATE
from explorer.ui.session import PlayClock
from explorer.ui.sidebar import RATES

APP = str(Path(__file__).parents[1] / "app.py")
PAGE = "app_pages/convolution.py"
STATUS = re.compile(r"^Epoch \d+ · step \d+")


def page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def status(at: AppTest) -> str:
    lines = [c.value for c in at.caption if STATUS.match(c.value)]
    assert len(lines) == 1, lines
    return str(lines[0])


def result(latex: str) -> str:
    """The number an aligned equation of the inspector ends in (``&= total``)."""
    found = re.search(r"&= (\S+) \\end\{aligned\}\s*\$*\s*$", latex)
    assert found, latex
    return found[1]


def run_of(at: AppTest) -> ConvRun:
    run = at.session_state[keys.CONV_RUN]
    assert isinstance(run, ConvRun)
    return run


def test_the_page_loads_with_the_default_cnn() -> None:
    at = page()
    assert at.title[0].value == "Convolution explorer"
    assert "start of a mini-batch · next: forward, conv block 1" in status(at)
    assert run_of(at).spec.describe() == "28x28 -> conv 3x3 x4 -> relu -> max-pool 2x2 -> dense 10"
    assert at.info[0].value.startswith("Click a pixel of a feature map")


def test_one_mini_batch_walks_every_phase_in_order() -> None:
    at = page()
    done = []
    for _ in range(6):
        at.button(key="cb_phase").click().run()
        assert not at.exception
        done.append(status(at).split("done: ")[1].split(" · ")[0])
    assert done == [
        "forward, conv block 1",
        "forward, output layer",
        "error",
        "backward, output layer",
        "backward, conv block 1",
        "update",
    ]
    assert status(at).startswith("Epoch 1 · step 1 · batch of 32")
    assert "next: forward, conv block 1" in status(at)


def test_back_restores_the_previous_state_exactly() -> None:
    at = page()
    at.button(key="cb_step").click().run()
    before = run_of(at).stepper.state.params
    kept = [w.copy() for w in (*before.weights, *before.biases)]
    at.button(key="cb_step").click().run()
    moved = run_of(at).stepper.state.params
    assert not np.array_equal(moved.weights[0], kept[0])
    at.button(key="cb_back").click().run()
    assert not at.exception
    back = run_of(at).stepper.state.params
    for got, want in zip((*back.weights, *back.biases), kept, strict=True):
        assert got.dtype == want.dtype and np.array_equal(got, want)
    assert status(at).startswith("Epoch 1 · step 1 ·") and "done: update" in status(at)


def test_a_clicked_pixel_shows_its_sum_with_the_engines_numbers() -> None:
    at = page()
    for _ in range(2):
        at.button(key="cb_phase").click().run()
    run = run_of(at)
    s = run.stepper.state
    ink = np.unravel_index(np.argmax(s.x[0, 0]), (28, 28))  # a pixel whose window holds ink
    y, x0 = (int(min(max(v - 1, 0), 25)) for v in ink)
    # a click on filter 3's z map at (y, x0): (row 0 = z, filter, y, x) as the chart sends it
    select(run, 0, [0, 2, y, x0], sample=0)
    at.run()
    assert not at.exception
    z = float(s.blocks[0].z[0, 2, y, x0])
    w = s.params.weights[0][2, 0]
    x = s.x[0, 0, y : y + 3, x0 : x0 + 3]
    assert x.any()  # the sum is not all zeros
    latex = [v.value for v in at.latex]
    [total] = [line for line in latex if "z &= \\sum w" in line]
    assert result(total) == f"{z:.6g}"
    # the nine products in order, then the bias
    terms = [f"{num(a)} \\cdot {num(b)}" for a, b in zip(w.ravel(), x.ravel(), strict=True)]
    pos = 0
    for term in [*terms, f"+ {num(float(s.params.biases[0][2]))} \\\\"]:
        pos = total.index(term, pos) + len(term)  # each after the one before (ValueError if not)
    assert np.isclose((w * x).sum() + s.params.biases[0][2], z, rtol=0, atol=1e-12)
    captions = " ".join(c.value for c in at.caption)
    assert f"Receptive field: rows {y}–{y + 2}, columns {x0}–{x0 + 2} of the image" in captions


def test_a_click_on_the_pool_selects_its_winner_and_backward_shows_dL_dw() -> None:
    at = page()
    at.button(key="cb_step").click().run()
    run = run_of(at)
    rec = run.stepper.state.blocks[0]
    assert rec.argmax is not None
    place = int(rec.argmax[1, 0, 6, 5])
    # row 2: the pooled map
    select(run, 0, [2, 0, 6, 5], sample=1)
    assert (run.selected.y, run.selected.x) == (12 + place // 2, 10 + place % 2)
    at.selectbox(key="cw_sample").set_value(1).run()
    assert not at.exception
    g = run.stepper.state.layer_gradients(0)
    total = float(g.kernel_der[0, 0, 1, 1])  # the centre weight, chosen by default
    latex = [v.value for v in at.latex]
    [dw] = [line for line in latex if "\\partial w_{1,1,1}" in line]
    assert result(dw) == f"{total:.6g}"
    assert any("won its 2×2 window — this one" in c.value for c in at.caption)


def test_a_forged_pick_selects_nothing() -> None:
    at = page()
    at.button(key="cb_step").click().run()
    run = run_of(at)
    before = run.selected
    forged = [None, "0,0,0,0", {"0": 0}, [0, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 26], [3, 0, 0, 0]]
    forged += [[0, 4, 0, 0], [0, 0, -1, 0], ["z", 0, 0, 0], [2, 0, 13, 0], [0, 0, 1e300, 0]]
    for pick in forged:
        select(run, 0, pick, sample=0)
        select(run, 1, [0, 0, 0, 0], sample=0)  # no second block
        assert run.selected == before, pick
    at.run()
    assert not at.exception


def test_the_gradient_check_passes() -> None:
    at = page()
    # after one step the biases are off 0, so no ReLU of a blank patch sits on its kink
    at.button(key="cb_step").click().run()
    at.button(key="cb_gradcheck").click().run()
    assert not at.exception
    assert at.success and at.success[0].value.startswith("Pass:")
    assert not at.error


def test_a_kernel_too_large_for_its_input_is_refused_and_the_network_stays() -> None:
    at = page()
    at.radio(key="cw_blocks").set_value(2).run()
    assert run_of(at).spec.n_blocks == 2
    at.button(key="cb_step").click().run()
    # 8x8 digits: 5x5 valid -> 4x4, pooled to 2x2, where a second 5x5 does not fit
    at.selectbox(key="cw_dataset").set_value("digits-8x8")
    at.selectbox(key="cw_kernel_0").set_value(5)
    at.selectbox(key="cw_kernel_1").set_value(5).run()
    assert not at.exception
    assert len(at.error) == 1 and "does not fit" in at.error[0].value
    assert run_of(at).dataset.name.startswith("MNIST") and "step 1" in status(at)


def test_the_network_survives_a_visit_to_another_page() -> None:
    at = page()
    at.number_input(key="cw_filters_0").set_value(6).run()
    at.button(key="cb_step").click().run()
    at.switch_page("app_pages/explorer.py").run()
    at.switch_page(PAGE).run()
    assert not at.exception
    assert "step 1" in status(at) and run_of(at).spec.blocks[0].filters == 6


def test_presenter_mode_keeps_the_step_controls_and_hides_the_rest() -> None:
    at = page()
    assert at.button(key="cb_gradcheck") and at.button(key="cb_run")
    at.toggle(key="w_presenter").set_value(True).run()
    assert not at.exception
    assert not at.title  # the projector's height goes to the maps
    keys = {b.key for b in at.button}
    assert {"cb_back", "cb_phase", "cb_step", "cb_reset"} <= keys and at.toggle(key="cw_play")
    assert not keys & {"cb_run", "cb_epoch", "cb_gradcheck"}
    assert at.expander[0].label == "View options" and at.selectbox(key="cw_sample")
    heights = block_heights(at)
    assert heights == [110 + PRESENTER_ROW_HEIGHT]  # the kernels only, before forward
    assert image_chart(at)["layout"]["height"] == PRESENTER_IMAGE_HEIGHT
    at.button(key="cb_phase").click().run()
    assert "done: forward, conv block 1" in status(at)
    heights = block_heights(at)
    assert heights == [110 + 4 * PRESENTER_ROW_HEIGHT] and heights[0] <= 500  # fits under 720


def kept_figures(at: AppTest) -> dict[str, dict[str, Any]]:
    """The kept charts' figures as this run sent them, by chart key."""
    out = {}
    for chart in at.get("bidi_component"):
        data = json.loads(chart.proto.json)
        out[data["chart"]] = json.loads(data["figure"])
    return out


def block_heights(at: AppTest) -> list[int]:
    """The heights of the conv blocks' charts, in order."""
    figures = kept_figures(at)
    return [figures[k]["layout"]["height"] for k in sorted(figures) if k.startswith("conv_block_")]


def image_chart(at: AppTest) -> dict[str, Any]:
    """The image's figure as the kept chart sends it; fails unless that chart binds the keys."""
    (chart,) = [c for c in at.get("bidi_component") if c.proto.id.endswith("-conv_image")]
    data = json.loads(chart.proto.json)
    assert data["keys"] is True
    figure: dict[str, Any] = json.loads(data["figure"])
    return figure


def test_the_image_chart_binds_the_explorers_keys() -> None:
    at = page()
    assert image_chart(at)["layout"]["title"]["text"].startswith("Sample 0: label")


def test_play_takes_the_steps_due_each_its_own_state_and_records_the_network() -> None:
    at = page()
    at.toggle(key="cw_play").set_value(True).run()
    run = run_of(at)
    assert run.playing and not at.exception
    before = run.stepper.state.step  # 0, or more on a machine slow enough for one to fall due
    run.play = PlayClock(PLAY_RATE, started=time.monotonic() - 100)  # a long stall
    at.run()
    # at most PLAY_MOST_PER_TICK steps in one tick, the rest dropped; the last one recorded
    assert run.stepper.state.step == before + PLAY_MOST_PER_TICK and not at.exception
    assert before + PLAY_MOST_PER_TICK in run.metrics
    at.toggle(key="cw_play").set_value(False).run()
    assert not run.playing
    at.button(key="cb_back").click().run()  # each played step is a state of its own
    assert run.stepper.state.step == before + PLAY_MOST_PER_TICK - 1
    assert max(run.metrics) < before + PLAY_MOST_PER_TICK  # what was recorded later is gone


def test_an_overflow_stops_play_and_keeps_the_last_finite_network() -> None:
    at = page()
    at.select_slider(key="cw_lr").set_value(RATES[-1]).run()
    run = run_of(at)
    run.stepper.set_params(  # weights so large that the next step overflows
        Params(
            tuple(w * 1e200 for w in run.stepper.state.params.weights),
            run.stepper.state.params.biases,
        )
    )
    kept = run.stepper.state.params
    at.toggle(key="cw_play").set_value(True).run()
    run.play = PlayClock(PLAY_RATE, started=time.monotonic() - 1)
    at.run()
    assert not at.exception and not run.playing
    assert at.error and "overflow" in at.error[0].value.lower()
    assert run.stepper.state.params is kept
    assert at.toggle(key="cw_play").value is False


def test_a_hidden_dense_layer_and_adam_with_l2_build_step_and_check() -> None:
    at = page()
    at.radio(key="cw_hidden").set_value(1).run()
    at.number_input(key="cw_hsize_0").set_value(20)
    at.selectbox(key="cw_hact_0").set_value("tanh")
    at.selectbox(key="cw_optimizer").set_value("adam")
    at.select_slider(key="cw_lr").set_value(1e-3)
    at.number_input(key="cw_l2").set_value(1e-3).run()
    assert not at.exception
    run = run_of(at)
    assert run.spec.describe().endswith("max-pool 2x2 -> dense 20 -> dense 10")
    assert run.spec.n_params == 4 * 9 + 4 + 4 * 13 * 13 * 20 + 20 + 20 * 10 + 10
    config = run.stepper.config
    assert (config.optimizer, config.learning_rate, config.l2) == ("adam", 1e-3, 1e-3)
    before = [w.copy() for w in run.stepper.state.params.weights]
    phases = []
    for _ in range(8):  # conv block 1, dense layer 1, output, error, back x3, update
        at.button(key="cb_phase").click().run()
        phases.append(status(at).split("done: ")[1].split(" · ")[0])
    assert phases[1] == "forward, dense layer 1" and phases[5] == "backward, dense layer 1"
    assert status(at).startswith("Epoch 1 · step 1") and "done: update" in status(at)
    after = run_of(at).stepper.state.params.weights
    # Adam's first step moves every weight with a gradient by about the learning rate
    assert all(not np.array_equal(a, b) for a, b in zip(after, before, strict=True))
    assert np.isclose(np.abs(after[1] - before[1]).max(), 1e-3, rtol=0.05)
    at.button(key="cb_gradcheck").click().run()
    assert at.success and at.success[0].value.startswith("Pass:")
    assert "dense layer 1 (tanh)" in " ".join(m.value for m in at.markdown)


def test_a_new_optimizer_retunes_the_network_on_screen() -> None:
    at = page()
    at.button(key="cb_step").click().run()
    at.selectbox(key="cw_optimizer").set_value("momentum").run()
    at.number_input(key="cw_momentum").set_value(0.5).run()
    assert not at.exception
    run = run_of(at)
    assert "step 1" in status(at)  # the same network, trained on
    assert (run.stepper.config.optimizer, run.stepper.config.momentum) == ("momentum", 0.5)


def test_a_link_and_a_rebuild_carry_the_hidden_layers_and_the_optimizer() -> None:
    settings = ConvSettings(
        hidden=(LayerSpec(24, "tanh"), LayerSpec(12, "relu")),
        optimizer="momentum",
        momentum=0.8,
        l2=0.003,
    )
    link = conv_from_query(conv_to_query(settings), image_datasets())
    assert link.settings == settings and not link.warnings
    assert not settings.same_network(replace(settings, hidden=settings.hidden[:1]))
    assert settings.same_network(replace(settings, optimizer="adam", l2=0.0, learning_rate=1.0))


def dense_chart(at: AppTest) -> dict[str, Any]:
    """The dense part's graph as its kept chart sends it."""
    (chart,) = [c for c in at.get("bidi_component") if c.proto.id.endswith("-conv_dense")]
    figure: dict[str, Any] = json.loads(json.loads(chart.proto.json)["figure"])
    return figure


def test_the_dense_part_is_drawn_as_the_explorers_graph() -> None:
    at = page()
    assert [m.value for m in at.markdown if m.value.startswith("**Dense part**")] == [
        "**Dense part**"
    ]
    for _ in range(2):  # conv block 1, then the output layer
        at.button(key="cb_phase").click().run()
    assert not at.exception
    heads = [m.value for m in at.markdown if m.value.startswith("**Dense part**")]
    assert heads == ["**Dense part** · just computed: forward, output layer"]
    fig = dense_chart(at)
    s = run_of(at).stepper.state
    # traces the browser holds already come as null; the neurons changed with the phase
    (nodes,) = [t for t in fig["data"] if t is not None and t["name"] == "neurons"]
    assert nodes["marker"]["color"] == [float(f"{v:.4g}") for v in s.a[-1][0]]
    # the graph's words: annotations, or a text trace (sent, as the prediction is new)
    notes = " ".join(n["text"] for n in fig["layout"].get("annotations", []))
    notes += " ".join(w for t in fig["data"] if t and t.get("mode") == "text" for w in t["text"])
    assert f"<b>{int(np.argmax(s.a[-1][0]))}</b> ◂ predicted" in notes
    assert "input<br>676 (26×26)" in notes  # the 4 pooled 13x13 maps in a 2x2 grid
    assert any(sh.get("name") == "phase" for sh in fig["layout"]["shapes"])
    assert any("2×2 grid, filter 1 top left" in c.value for c in at.caption)


def training_tab(at: AppTest) -> tuple[set[str], list[str]]:
    """The Training views tab's buttons on screen, and its kernel strip's row titles."""
    buttons = {str(b.key) for b in at.button} & {"cb_compare"}
    layouts = [json.loads(c.proto.spec)["layout"] for c in at.get("plotly_chart")]
    strips = [x for x in layouts if x.get("title", {}).get("text", "").startswith("Block 1's")]
    titles = (v.get("title", {}).get("text") for s in strips for k, v in s.items() if "yaxis" in k)
    rows = [str(t) for t in titles if t]
    return buttons, rows


def test_a_play_tick_draws_only_the_step_through_tab() -> None:
    at = page()
    at.toggle(key="cw_play").set_value(True).run()
    run = run_of(at)
    for _ in range(2):  # two ticks, each with steps due
        run.play = PlayClock(PLAY_RATE, started=time.monotonic() - 1)
        at.run()
    assert not at.exception and run.stepper.state.step >= 2
    assert training_tab(at) == (set(), [])  # not drawn while the Step-through tab is open
    at.session_state["cw_tab"] = "Training views"
    at.toggle(key="cw_play").set_value(False).run()
    step = run.stepper.state.step
    buttons, rows = training_tab(at)
    assert buttons == {"cb_compare"} and rows[0] == "step 0" and rows[-1] == f"step {step}"
    at.button(key="cb_step").click().run()  # the open tab follows a step
    assert training_tab(at)[1][-1] == f"step {step + 1}"
    assert at.number_input(key="cw_compare_epochs").value == 3


def test_a_block_figure_is_built_again_only_when_its_numbers_change() -> None:
    at = page()
    figures = []
    for _ in range(5):  # block, output layer, error, backward output layer, backward block
        at.button(key="cb_phase").click().run()
        kept = at.session_state[keys.KEPT_FIGURES]
        figures.append((kept["conv_block_0"][1], kept["conv_image"][1]))
    blocks, images = zip(*figures, strict=True)
    # the maps are the same from the output layer's forward phase to its backward phase
    assert blocks[1] is blocks[2] is blocks[3]
    assert blocks[0] is not blocks[1] and blocks[3] is not blocks[4]
    assert all(image is images[0] for image in images)  # the same sample all along
    assert "gradients (backward)" in blocks[4].layout.title.text
