"""The Explorer in a real browser: step through every phase of one mini-batch, click a neuron
and read its inspector, play then pause, step back."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import STATUS, click_neuron


def status(page: Any) -> Any:
    return page.get_by_text(STATUS)


def test_step_through_every_phase_then_back(page: Any) -> None:
    # default network: 2 inputs, hidden 4 and 2, one output -> 3 layers, 8 phases
    phases = [
        "forward, layer 1",
        "forward, layer 2",
        "forward, layer 3",
        "error",
        "backward, layer 3",
        "backward, layer 2",
        "backward, layer 1",
        "update",
    ]
    for phase in phases:
        page.get_by_role("button", name="Next phase").click()
        expect(status(page)).to_contain_text(f"done: {phase}")
    expect(status(page)).to_contain_text("step 1")
    page.get_by_role("button", name="Back").click()
    expect(status(page)).to_contain_text("done: backward, layer 1")
    expect(status(page)).to_contain_text("step 0")


def test_click_a_neuron_and_read_its_inspector(page: Any) -> None:
    page.get_by_role("button", name="Complete step").click()
    expect(status(page)).to_contain_text("step 1")
    expect(page.locator(".js-plotly-plot").first).to_be_visible()
    click_neuron(page, -1, "output (sigmoid), unit 0 (batch)")
    # only the newest phase's section (the update) is open; open the error's and read its numbers
    page.get_by_text("Error at the output").click()
    error = page.get_by_test_id("stExpander").filter(has_text="Error at the output")
    expect(error.locator(".katex").first).to_be_visible()


def test_play_then_pause(page: Any) -> None:
    play = page.get_by_role("switch", name="Play")
    label = page.locator("label").filter(has=play)  # the switch's input is styled away
    label.click()
    expect(play).to_be_checked()
    expect(status(page)).to_contain_text(re.compile(r"step [3-9]|step \d\d"))
    label.click()
    expect(play).not_to_be_checked()
    page.wait_for_timeout(600)  # let a tick already in flight land
    frozen = status(page).inner_text()
    page.wait_for_timeout(1500)  # six play intervals: nothing to wait for, play must stay stopped
    assert status(page).inner_text() == frozen
