"""Classroom journeys in a real browser: presenter mode on a 1280x720 projector, and a shared
link opened in a fresh browser session shows the same network at the same step."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import STATUS


def test_presenter_mode_fits_a_projector(page: Any) -> None:
    page.set_viewport_size({"width": 1280, "height": 720})
    page.get_by_text("Presenter mode").click()
    exit_button = page.get_by_role("button", name="Exit presenter mode")
    expect(exit_button).to_be_visible()
    step = page.get_by_role("button", name="Next phase")
    expect(step).to_be_in_viewport()
    graph = page.locator(".js-plotly-plot").first
    expect(graph).to_be_visible()
    box = graph.bounding_box()
    assert box is not None and box["y"] + box["height"] <= 720, box
    expect(page.get_by_role("button", name="Check gradients")).to_have_count(0)
    step.click()
    expect(page.get_by_text(STATUS)).to_contain_text("done: forward, layer 1")
    exit_button.click()
    expect(page.get_by_role("button", name="Check gradients")).to_be_visible()


def test_a_shared_link_opens_the_same_network(page: Any, browser: Any) -> None:
    page.get_by_role("button", name="Complete step").click()
    page.get_by_role("button", name="Next phase").click()
    status = page.get_by_text(STATUS)
    expect(status).to_contain_text("step 1 · batch of 10 · done: forward, layer 1")
    expect(page).to_have_url(re.compile(r"trail=9"))
    url = page.url
    other = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        student = other.new_page()
        student.goto(url)
        expect(student.get_by_text(STATUS)).to_have_text(status.inner_text())
        values = page.get_by_test_id("stMetricValue")
        expect(student.get_by_test_id("stMetricValue")).to_have_text(values.all_inner_texts())
    finally:
        other.close()
