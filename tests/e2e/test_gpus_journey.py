"""The Why GPUs page in a real browser: open it from the navigation, read that there is no GPU
(on a machine without one), race two small widths, and see the chart, the table and the
explanation built from the measured numbers; a screenshot is left in test-artifacts/gpus.png."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from explorer.analysis.race import gpu_available
from tests.e2e.conftest import ARTIFACTS


def remove_width(page: Any, width: str) -> None:
    remove = page.get_by_test_id("stMultiSelect").get_by_role("button", name=f"Remove {width}")
    remove.click()
    expect(remove).to_have_count(0)


def test_a_small_race_draws_its_chart_and_explains_itself(page: Any) -> None:
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Why GPUs").click()
    expect(page.get_by_role("heading", name="Why GPUs")).to_be_visible()
    if not gpu_available():
        expect(page.get_by_text("No GPU here")).to_be_visible()
    for width in ("4,096", "1,024", "256"):
        remove_width(page, width)
    page.get_by_role("button", name="Race").click()
    expect(page.get_by_text("Race over")).to_be_visible(timeout=60_000)
    expect(page.get_by_test_id("stPlotlyChart")).to_have_count(1)
    expect(page.get_by_role("heading", name="What the numbers say")).to_be_visible()
    expect(page.get_by_text("At width 16 a step of 64 samples is only")).to_be_visible()
    expect(page.get_by_text("At width 64 a step is")).to_be_visible()
    expect(page.get_by_role("button", name="Stop")).to_be_disabled()
    expect(page.get_by_test_id("stException")).to_have_count(0)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "gpus.png"), full_page=True)
    page.get_by_role("heading", name="What the numbers say").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "gpus-explanation.png"), full_page=True)
