"""The Convolution page's two tabs in a real browser: the Training views tab, drawn only while
it is open, shows the steps taken on the Step-through tab, and back on the Step-through tab
the maps and the dense part's graph follow the next phase."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

STATUS = re.compile(r"Epoch \d+ · step \d+ · batch of")


def test_the_training_tab_follows_the_steps_and_the_step_tab_comes_back(page: Any) -> None:
    page.get_by_role("link", name="Convolution").click()
    status = page.get_by_text(STATUS)
    expect(status).to_contain_text("start of a mini-batch")
    page.get_by_role("button", name="Complete step").click()
    expect(status).to_contain_text("step 1")

    page.get_by_role("tab", name="Training views").click()
    expect(
        page.get_by_role("heading", name="Against an MLP of about as many parameters")
    ).to_be_visible()
    charts = page.locator(".js-plotly-plot")
    strip = charts.filter(has_text="Block 1's kernels over training")
    expect(strip).to_be_visible()
    expect(strip).to_contain_text("step 1")

    page.get_by_role("tab", name="Step through").click()
    page.get_by_role("button", name="Next phase").click()
    expect(status).to_contain_text("done: forward, conv block 1")
    page.get_by_role("button", name="Next phase").click()
    expect(status).to_contain_text("done: forward, output layer")
    dense = charts.filter(has_text="forward, layer 1 →").filter(has_text="◂ predicted")
    expect(dense).to_have_count(1)
    expect(dense).to_be_visible()
    expect(
        page.get_by_role("heading", name="Against an MLP of about as many parameters")
    ).to_have_count(0)
