"""The Generalisation page through AppTest and its real widgets: train, the accuracy curves
and tiles as the job measured them, a small training split that overfits, the gallery of
right and wrong test digits, a drawn digit's prediction, the check against scikit-learn (and
what it says where the data is missing), and bad values that never give a traceback."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import explorer.ui.generalise_view as view
from explorer.analysis.generalise import LESSON_SETTINGS, Recipe, curves, gallery, outputs_on_test
from explorer.analysis.learned import predict
from explorer.data.digit_input import rasterize, to_mnist
from explorer.training.full import FullTraining
from explorer.ui.draw_view import BRUSH_PX, CANVAS_PX

APP = str(Path(__file__).parents[1] / "app.py")
PAGE = "app_pages/generalise.py"
SEVEN = [[[70.0, 50.0], [210.0, 50.0], [120.0, 240.0]]]
SPLIT = "w_gen_split_8000"  # the MNIST sample's 8,000 training digits


@pytest.fixture
def at() -> AppTest:
    app = AppTest.from_file(APP, default_timeout=120).run()
    app.switch_page(PAGE).run()
    assert not app.exception, app.exception
    return app


def click(at: AppTest, key: str) -> AppTest:
    at.button(key=key).click().run()
    assert not at.exception, at.exception
    return at


def train(at: AppTest, *, split: int | None = None, epochs: int = 3) -> FullTraining:
    if split is not None:
        at.select_slider(key=SPLIT).set_value(split).run()
    at.number_input(key="w_gen_epochs").set_value(epochs).run()
    click(at, "b_gen_train")
    job: FullTraining = at.session_state["gen_job"]
    for _ in range(100):
        if not job.running:
            break
        at.run()  # what the fragment's timer does in the browser
        assert not at.exception, at.exception
    assert not job.running
    return job


def chart(at: AppTest, key: str) -> Any:
    return json.loads(next(c for c in at.get("plotly_chart") if c.key == key).proto.spec)


def decoded(values: Any) -> np.ndarray:
    if isinstance(values, dict):
        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"])
    return np.asarray(values)


def tiles(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_the_page_trains_the_lessons_network_and_draws_both_curves(at: AppTest) -> None:
    assert at.title[0].value == "Generalisation: digits it never saw"
    assert "gen_job" not in at.session_state
    assert any("press Train" in i.value for i in at.info)
    assert at.button(key="b_gen_stop").disabled
    assert at.select_slider(key=SPLIT).value == 8000  # all of them, by default
    job = train(at, epochs=2)
    assert job.config.settings == LESSON_SETTINGS  # the sidebar's circle set is no image set
    assert job.spec.describe() == "784-16-16-10"
    c = curves(job)
    assert tiles(at) == {
        "Train accuracy": f"{c.train[-1]:.1%}",
        "Test accuracy": f"{c.test[-1]:.1%}",
        "Gap": f"{c.gap:+.1%}",
    }
    fig = chart(at, "gen_curves")
    by_name = {t["name"]: t["y"] for t in fig["data"]}
    np.testing.assert_allclose(
        decoded(by_name["test (digits it never saw)"]), np.array(c.test) * 100
    )
    np.testing.assert_allclose(
        decoded(by_name["train (digits it learned from)"]), np.array(c.train) * 100
    )
    assert len(job.dataset.x_test) == 2000 and len(job.dataset.x_train) == 8000
    assert not at.button(key="b_gen_train").disabled


def test_a_small_training_split_overfits_and_the_page_says_so(at: AppTest) -> None:
    job = train(at, split=100, epochs=15)
    assert len(job.dataset.x_train) == 100
    c = curves(job)
    assert c.train[-1] > 0.9 and c.gap > 0.25
    assert any("by heart" in cap.value for cap in at.caption)
    assert any("100 training digits" in cap.value for cap in at.caption)


def test_the_gallery_shows_right_and_wrong_test_digits_with_their_probabilities(
    at: AppTest,
) -> None:
    job = train(at, split=300, epochs=2)
    output = outputs_on_test(job)
    right, wrong = gallery(job.dataset.y_test, output)
    names = job.dataset.class_names

    def captions(key: str) -> list[str]:
        return [a["text"] for a in chart(at, key)["layout"]["annotations"]]

    assert captions("gen_right") == [f"{names[g.label]} ({g.confidence:.1%})" for g in right]
    first = wrong[0]
    assert captions("gen_wrong")[0] == (
        f"{names[first.label]} → {names[first.predicted]} ({first.confidence:.1%})"
        f"<br>{names[first.label]}: {first.true_probability:.1%}"
    )
    assert len(captions("gen_wrong")) == len(wrong) == 12
    n_right = int(np.sum(output.argmax(axis=1) == job.dataset.y_test))
    assert any(f"{n_right:,} of 2,000" in m.value for m in at.markdown)


def test_a_drawn_digit_gets_the_trained_networks_prediction(at: AppTest) -> None:
    job = train(at, split=1000, epochs=3)
    assert any("draw a digit first" in i.value for i in at.info)
    at.session_state["gen_canvas"] = {"strokes": SEVEN}  # what the canvas sends
    at.run()
    assert not at.exception, at.exception
    pixels = to_mnist(rasterize([np.array(s) for s in SEVEN], size=CANVAS_PX, width=BRUSH_PX))
    x = pixels.reshape(1, -1).astype(np.float32)
    out = predict(job.spec, job.params(), x)[0]
    best = int(np.argmax(out))
    shown = [m.value for m in at.markdown if m.value.startswith("**Prediction")]
    assert shown == [f"**Prediction: {best}** ({float(out[best]):.0%} sure)"]
    bars = chart(at, "gen_drawn")["data"][0]["y"]  # plotly sends arrays as base64
    np.testing.assert_allclose(decoded(bars), out, rtol=1e-6)


def test_stop_keeps_what_was_trained(at: AppTest) -> None:
    at.number_input(key="w_gen_epochs").set_value(200).run()
    click(at, "b_gen_train")
    job: FullTraining = at.session_state["gen_job"]
    assert job.running and not at.button(key="b_gen_stop").disabled
    click(at, "b_gen_stop")
    assert job.stopped and not job.running and job.epoch < 200
    assert any("Stopped after" in i.value for i in at.info)


TINY = Recipe("784-8-10 on the MNIST sample", "mnist-sample", (8,), "about 90 %", epochs=1)
ABSENT = Recipe("784-8-10 on a set not here", "not-here", (8,), "-", epochs=1)


@pytest.fixture
def small_checks(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(view, "RECIPES", (TINY, ABSENT))
    monkeypatch.setitem(view.MISSING, "not-here", "That set is not on this machine.")
    yield


@pytest.mark.usefixtures("small_checks")
def test_the_check_runs_both_models_with_progress_and_reports_the_ratio(at: AppTest) -> None:
    at.run()
    click(at, "b_gen_check")
    check = at.session_state["gen_check"]
    for _ in range(50):
        if not check.running:
            break
        at.run()
        assert not at.exception, at.exception
    assert check.finished
    r = check.result()
    table = at.dataframe[0].value
    assert list(table["test accuracy"]) == [f"{r.ours:.2%}", f"{r.theirs:.2%}"]
    assert list(table["epochs"]) == [1, 1]
    assert any(f"**{r.ratio:.1f}×**" in m.value for m in at.markdown)
    assert any("ours epoch 1 of 1, scikit-learn epoch 1 of 1" in p.proto.text for p in _bars(at))


def _bars(at: AppTest) -> list[Any]:
    return list(at.get("progress"))


@pytest.mark.usefixtures("small_checks")
def test_a_check_whose_data_is_missing_says_so_and_cannot_start(at: AppTest) -> None:
    at.run()
    at.radio(key="w_gen_recipe").set_value(ABSENT.title).run()
    assert not at.exception
    assert any("not on this machine" in i.value for i in at.info)
    assert at.button(key="b_gen_check").disabled


@pytest.mark.parametrize(
    ("key", "value"),
    [("w_gen_epochs", 0), ("w_gen_epochs", 10**9), (SPLIT, 7), (SPLIT, -5)],
)
def test_a_bad_value_never_gives_a_traceback(at: AppTest, key: str, value: object) -> None:
    at.session_state[key] = value  # what a forged widget value would hand the page
    at.run()
    click(at, "b_gen_train")
    job: FullTraining = at.session_state["gen_job"]
    job.stop()
    at.run()
    assert not at.exception, at.exception
    # the widget falls back to a value it offers, and that is what trains
    assert 1 <= job.config.epochs <= view.MAX_EPOCHS
    assert len(job.dataset.x_train) in (100, 300, 1000, 3000, 8000)
