"""Full training in a real browser: the page keeps answering while it trains, Stop lands and
keeps what was trained, and the result opens in the Explorer."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

STEP = re.compile(r"step ([\d,]+)")


def trained_steps(page: Any) -> int:
    text = page.get_by_text(re.compile(r"· step [\d,]+")).first.inner_text()
    match = STEP.search(text)
    assert match is not None
    return int(match.group(1).replace(",", ""))


def test_train_stop_and_open_in_the_explorer(page: Any) -> None:
    page.get_by_role("link", name="Full training").click()
    expect(page.get_by_role("heading", name="Full training")).to_be_visible()
    main = page.get_by_test_id("stMainBlockContainer")
    for label, value in (("Epochs", "1000"), ("Batch size of this run", "1")):
        field = main.get_by_role("spinbutton", name=label)
        field.fill(value)
        field.press("Enter")
    main.get_by_role("button", name="Train").click()
    expect(page.get_by_text(re.compile(r"Epoch [2-9]\d* of 1000"))).to_be_visible()
    # the page keeps redrawing while it trains: the step count moves between two looks
    first = trained_steps(page)
    expect(page.get_by_text(re.compile(rf"· step (?!{first:,}\b)[\d,]+"))).to_be_visible()
    main.get_by_role("button", name="Stop").click()  # not the header's Stop of a script run
    expect(page.get_by_text("Stopped after")).to_be_visible()
    stopped = trained_steps(page)
    page.wait_for_timeout(1500)
    assert trained_steps(page) == stopped  # must not happen: training on after Stop
    main.get_by_role("button", name="Open in Explorer").first.click()
    expect(page.get_by_role("button", name="Next phase")).to_be_visible()
    expect(page.get_by_text("Opened the network trained for")).to_be_visible()
