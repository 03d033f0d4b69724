"""The Why GPUs page through AppTest: a small race through the page's own widgets, the no-GPU
message on a machine without one, Stop keeping what was measured, and no exception."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import explorer.analysis.race as race
from explorer.analysis.race import Race

APP = str(Path(__file__).parents[1] / "app.py")
PAGE = "app_pages/gpus.py"


@pytest.fixture
def at() -> AppTest:
    app = AppTest.from_file(APP, default_timeout=60).run()
    app.switch_page(PAGE).run()
    assert not app.exception, app.exception
    return app


def click(at: AppTest, key: str) -> AppTest:
    at.button(key=key).click().run()
    assert not at.exception, at.exception
    return at


def job_of(at: AppTest) -> Race:
    job: Race = at.session_state["gpu_race"]
    return job


def small_race(at: AppTest, widths: list[int], batch: int = 16) -> Race:
    at.multiselect(key="w_gpu_widths").set_value(widths).run()
    at.select_slider(key="w_gpu_batch").set_value(batch).run()
    click(at, "b_gpu_race")
    return job_of(at)


def test_the_page_offers_a_race_and_no_result_yet(at: AppTest) -> None:
    assert at.title[0].value == "Why GPUs"
    assert at.button(key="b_gpu_stop").disabled and not at.button(key="b_gpu_race").disabled
    assert "gpu_race" not in at.session_state
    assert any("press Race" in i.value for i in at.info)


@pytest.mark.skipif(race.gpu_available(), reason="this machine has a GPU")
def test_without_a_gpu_the_page_says_so_and_races_the_cpu(at: AppTest) -> None:
    assert any("No GPU here" in i.value for i in at.info)
    job = small_race(at, [16, 64])
    assert [c.key for c in job.entrants] == ["numpy", "torch-cpu"]


def test_a_small_race_runs_to_the_end_with_chart_table_and_explanation(at: AppTest) -> None:
    job = small_race(at, [16, 64])
    assert job.widths == (16, 64) and job.batch_size == 16
    for _ in range(30):
        if not job.running:
            break
        at.run()
        assert not at.exception, at.exception
    assert job.finished
    assert len(job.cells) == 2 * len(job.entrants)
    assert any(p.proto.text == "Race over" for p in at.get("progress"))
    chart = json.loads(next(c for c in at.get("plotly_chart")).proto.spec)
    numpy_speed = next(t for t in chart["data"] if t["name"] == "NumPy engine (CPU)")
    assert numpy_speed["x"] == [16, 64]
    assert numpy_speed["y"] == pytest.approx([c.samples_per_s for c in job.cells[::2]])
    assert at.subheader[0].value == "What the numbers say"
    text = " ".join(m.value for m in at.markdown)
    narrow = job.cell("numpy", 16)
    assert narrow is not None
    assert f"NumPy engine (CPU) {narrow.step_seconds * 1e3:,.2f} ms" in text
    assert "At width 64 a step is" in text
    assert not at.button(key="b_gpu_race").disabled and at.button(key="b_gpu_stop").disabled


def test_stop_ends_the_race_keeping_the_cells_measured(at: AppTest) -> None:
    job = small_race(at, [16, 64, 256, 1024, 4096])
    assert job.running and not at.button(key="b_gpu_stop").disabled
    click(at, "b_gpu_stop")
    assert job.stopped and not job.running
    measured = len(job.cells)
    assert measured < 10
    at.run()
    assert len(job.cells) == measured
    assert any("Stopped after" in i.value for i in at.info)
    assert not at.button(key="b_gpu_race").disabled


def test_no_width_means_no_race(at: AppTest) -> None:
    at.multiselect(key="w_gpu_widths").set_value([]).run()
    assert at.button(key="b_gpu_race").disabled
    assert any("at least one width" in c.value for c in at.caption)
