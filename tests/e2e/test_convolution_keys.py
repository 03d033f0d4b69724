"""The Convolution page's keys in a real browser, as the Explorer's: a presentation clicker's
PageDown/PageUp and the arrows step the phases and back, Enter completes the step, Space plays
and pauses, ? lists the keys, and nothing happens while a number field has focus; then the
same in presenter mode."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import clicker_keys

STATUS = re.compile(r"Epoch \d+ · step \d+ · batch of")


def test_clicker_keys_step_the_cnn_back_play_and_complete(page: Any) -> None:
    page.get_by_role("link", name="Convolution").click()
    status = page.get_by_text(STATUS)
    expect(status).to_contain_text("start of a mini-batch")
    clicker_keys(page, status, "done: forward, conv block 1", "done: forward, output layer")

    page.get_by_text("Presenter mode").click()
    expect(page.get_by_role("button", name="Exit presenter mode")).to_be_visible()
    expect(page.get_by_role("heading", name="Convolution explorer")).to_have_count(0)
    status.click()
    page.keyboard.press("PageDown")
    expect(status).to_contain_text("done: forward, conv block 1")
