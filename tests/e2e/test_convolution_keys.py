"""The Convolution page's keys in a real browser, as the Explorer's: a presentation clicker's
PageDown/PageUp and the arrows step the phases and back, Enter completes the step, Space plays
and pauses, ? lists the keys, and nothing happens while a number field has focus; then the
same in presenter mode."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

STATUS = re.compile(r"Epoch \d+ · step \d+ · batch of")


def test_clicker_keys_step_the_cnn_back_play_and_complete(page: Any) -> None:
    page.get_by_role("link", name="Convolution").click()
    status = page.get_by_text(STATUS)
    expect(status).to_contain_text("start of a mini-batch")
    status.click()  # focus the page (its status line), not a field
    page.keyboard.press("PageDown")
    expect(status).to_contain_text("done: forward, conv block 1")
    page.keyboard.press("ArrowRight")
    expect(status).to_contain_text("done: forward, output layer")
    page.keyboard.press("PageUp")
    expect(status).to_contain_text("done: forward, conv block 1")
    page.keyboard.press("ArrowLeft")
    expect(status).to_contain_text("start of a mini-batch")
    page.keyboard.press("Enter")
    expect(status).to_contain_text("step 1 · batch of 32 · done: update")
    page.keyboard.press("?")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_contain_text("Page Down")
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_have_count(0)
    # While a number field has focus the keys are the field's own.
    field = page.get_by_role("spinbutton").first
    field.click()
    field.press("ArrowRight")
    field.press("Enter")
    page.wait_for_timeout(800)
    expect(status).to_contain_text("step 1 · batch of 32 · done: update")
    status.click()
    play = page.get_by_role("switch", name="Play")
    page.keyboard.press(" ")
    expect(play).to_be_checked()
    expect(status).to_contain_text(re.compile(r"step [3-9]|step \d\d"))
    page.keyboard.press(" ")
    expect(play).not_to_be_checked()

    page.get_by_text("Presenter mode").click()
    expect(page.get_by_role("button", name="Exit presenter mode")).to_be_visible()
    expect(page.get_by_role("heading", name="Convolution explorer")).to_have_count(0)
    status.click()
    page.keyboard.press("PageDown")
    expect(status).to_contain_text("done: forward, conv block 1")
