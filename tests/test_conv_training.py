"""The CNN's training views: the MLP matched to a CNN's parameter count, the side-by-side run
on the same data and seed, the kernel strip, and the page's tab in AppTest."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from streamlit.testing.v1 import AppTest

from explorer.analysis.conv_compare import Comparison, compare, matched_width, mlp_params
from explorer.engine.conv import ConvBlockSpec
from explorer.figures.conv import kernel_strip_figure
from explorer.ui import keys
from explorer.ui.conv_session import ConvSettings, build_conv

APP = str(Path(__file__).parents[1] / "app.py")


def test_the_matched_width_is_the_nearest_parameter_count() -> None:
    # the default CNN: 4 kernels 3x3 + 4 biases, then 4*13*13 -> 10
    n = 4 * 9 + 4 + 4 * 13 * 13 * 10 + 10
    width = matched_width(n, 784, 10)
    assert width == 9 and mlp_params(784, 9, 10) == 7165
    for w in (width - 1, width + 1):
        assert abs(mlp_params(784, w, 10) - n) > abs(mlp_params(784, width, 10) - n)
    assert matched_width(5, 784, 10) == 1  # never below one unit


def test_compare_trains_both_from_the_same_seed_and_reports_their_sizes() -> None:
    run = build_conv(ConvSettings(dataset="digits-8x8", blocks=(ConvBlockSpec(4, 3),)))
    result = compare(run.spec, run.settings.config(), run.dataset, seed=0, epochs=1)
    again = compare(run.spec, run.settings.config(), run.dataset, seed=0, epochs=1)
    assert result == again  # deterministic: same data, seed and batches
    assert result.cnn.n_params == run.spec.n_params
    assert result.mlp.name == f"64-{result.width}-10"
    assert result.mlp.n_params == mlp_params(64, result.width, 10)
    # both trained: below the loss of a uniform guess over ten classes, ln 10
    assert result.cnn.test_loss < np.log(10) and result.mlp.test_loss < np.log(10)


def test_the_kernel_strip_spreads_its_rows_over_the_recorded_steps() -> None:
    kernels = {s: np.full((3, 1, 3, 3), float(s)) for s in range(20)}
    fig = kernel_strip_figure(kernels, most=5)
    titles = [fig.layout[f"yaxis{r * 3 + 1}"].title.text for r in range(5)]
    assert titles == ["step 0", "step 5", "step 10", "step 14", "step 19"]
    assert len(fig.data) == 15 and {t.zmax for t in fig.data} == {19.0}
    assert fig.data[-1].z.tolist() == [[19.0] * 3] * 3


def test_the_training_tab_draws_curves_kernels_and_the_side_by_side() -> None:
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page("app_pages/convolution.py").run()
    at.session_state["cw_tab"] = "Training views"  # drawn only while its tab is open
    at.selectbox(key="cw_dataset").set_value("digits-8x8").run()
    assert any(i.value.startswith("Train a few steps") for i in at.info)
    at.number_input(key="cw_run_n").set_value(5).run()
    at.button(key="cb_run").click().run()
    assert not at.exception
    run = at.session_state[keys.CONV_RUN]
    assert sorted(run.metrics) == [0, 5] and sorted(run.kernels) == [0, 5]
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    titles = [c["layout"].get("title", {}).get("text", "") for c in charts]
    assert any(t.startswith("Block 1's kernels over training") for t in titles)
    axes = {c["layout"].get("yaxis", {}).get("title", {}).get("text") for c in charts}
    assert {"loss", "accuracy (%)"} <= axes
    at.number_input(key="cw_compare_epochs").set_value(1)
    at.button(key="cb_compare").click().run()
    assert not at.exception
    result = at.session_state[keys.CONV_COMPARED]
    assert isinstance(result, Comparison)
    table = next(m.value for m in at.markdown if "| parameters |" in m.value)
    assert f"| {result.cnn.n_params:,} | {result.cnn.test_accuracy:.1%} |" in table
    # names pass through plain(), which escapes Markdown's "-"
    assert f"| 64\\-{result.width}\\-10 | {result.mlp.n_params:,} |" in table
    assert any(f"hidden width, {result.width}, is the one" in c.value for c in at.caption)
