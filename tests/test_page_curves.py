"""The Training views' curves through AppTest: accuracy in percent as the tiles write it, and
whole-number ticks along steps."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from tests.test_page_training import APP, PAGE, array, charts, click, open_tab, run_of


def test_accuracy_curves_are_in_percent_and_steps_are_whole() -> None:
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page(PAGE).run()
    click(at, "b_tr_step")
    figures = open_tab(at, "Curves")
    accuracy = figures["accuracy_curves"]
    rows = [run_of(at).metrics[k] for k in sorted(run_of(at).metrics)]
    test = next(t for t in accuracy["data"] if t["name"] == "test accuracy")
    assert array(test["y"]).tolist() == [100 * r.test_accuracy for r in rows]
    assert accuracy["layout"]["yaxis"]["ticksuffix"] == " %"
    assert accuracy["layout"]["yaxis"]["title"]["text"] == "accuracy (%)"
    for key in ("loss_curves", "accuracy_curves"):
        assert charts(at)[key]["layout"]["xaxis"]["dtick"] == 1
