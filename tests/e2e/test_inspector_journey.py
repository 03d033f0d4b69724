"""The neuron inspector and the gradient check in a real browser, on the lesson's 784-16-16-10
in batch mode: the section the newest phase computed is open and the older ones closed, the
batch says what it averages and sums over how many samples, the error phase shows the loss it
computed, and Check gradients says pass in the graph's layer names."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import LESSON_LINK, STATUS, click_neuron


def open_sections(page: Any) -> list[str]:
    """The titles of the inspector's open sections."""
    titles = []
    for details in page.locator("details").all():
        if details.evaluate("e => e.open"):
            titles.append(details.locator("summary").inner_text().split("\n")[-1].split(":")[0])
    return titles


def next_phase(page: Any, done: str) -> None:
    page.get_by_role("button", name="Next phase").click()
    expect(page.get_by_text(STATUS)).to_contain_text(f"done: {done}")


def inspect(page: Any, k: int, title: str) -> None:
    click_neuron(page, k, title)


def test_the_inspector_follows_the_phases_and_says_what_the_batch_is(
    page: Any, app_url: str
) -> None:
    page.goto(app_url + LESSON_LINK)
    expect(page.get_by_text(STATUS)).to_contain_text("batch of 32")
    for done in ("forward, layer 1", "forward, layer 2", "forward, layer 3", "error"):
        next_phase(page, done)
    inspect(page, -10, "output (softmax), unit 0 (batch)")  # output units come last
    expect(
        page.get_by_text(re.compile(r"^Batch of 32: z, a and the target are means"))
    ).to_be_visible()
    expect(page.get_by_text("target (mean of 32)")).to_be_visible()
    expect(page.get_by_text("dL/da (sum over 32)")).to_be_visible()
    # the loss the error phase computed, written out (KaTeX keeps its source for screen readers)
    expect(page.locator(".katex-mathml annotation", has_text=re.compile(r"^L = -"))).to_have_count(
        1
    )
    assert open_sections(page) == ["Error at the output"]
    next_phase(page, "backward, layer 3")
    assert open_sections(page) == ["Gradients"]
    next_phase(page, "backward, layer 2")
    inspect(page, -11, "layer 2 (relu), unit 15 (batch)")
    assert open_sections(page) == ["Backward", "Gradients"]
    page.get_by_role("button", name="Check gradients").click()
    expect(page.get_by_text(re.compile(r"^Pass: all \d+ gradients checked"))).to_be_visible()
    for name in ("layer 1 (relu)", "layer 2 (relu)", "output (softmax)"):
        expect(page.get_by_role("cell", name=name, exact=True)).to_be_visible()
    expect(page.get_by_role("cell", name="pass", exact=True)).to_have_count(3)
