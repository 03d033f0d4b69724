"""A CNN link in a real browser: after a few phases the address bar holds the Convolution
page's link; a second browser session opened at it shows the same step and phase; and going on
to the Explorer from there is not read as a link to an MLP; a spoilt link warns once."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import STATUS as EXPLORER_STATUS

STATUS = re.compile(r"Epoch \d+ · step \d+ · batch of")


def test_a_cnn_link_opens_the_same_phase_elsewhere(page: Any, browser: Any) -> None:
    page.get_by_role("link", name="Convolution").click()
    status = page.get_by_text(STATUS)
    expect(status).to_contain_text("start of a mini-batch")
    page.get_by_role("button", name="Complete step").click()
    expect(status).to_contain_text("step 1 ·")
    page.get_by_role("button", name="Next phase").click()
    expect(status).to_contain_text("done: forward, conv block 1")
    expect(page).to_have_url(re.compile(r"net=cnn.*trail=7(&|$)"))  # 6 phases + 1
    link = page.url
    shown = status.text_content()

    other = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        student = other.new_page()
        student.goto(link)
        expect(student.get_by_text(STATUS)).to_have_text(shown or "")
        expect(student.get_by_role("alert")).to_have_count(0)  # no warning, no refusal
        student.get_by_role("link", name="Explorer").click()
        expect(student.get_by_text(EXPLORER_STATUS).first).to_contain_text("step 0")
        expect(student.get_by_role("alert")).to_have_count(0)  # the CNN link is not an MLP's
        student.goto(link.replace("blocks=", "blocks=zzz"))  # the same link, spoilt
        expect(student.get_by_role("alert")).to_have_count(1)
        expect(student.get_by_role("alert")).to_contain_text("Ignored blocks")
    finally:
        other.close()
