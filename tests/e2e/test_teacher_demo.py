"""The whole classroom demo in one real browser session, as a teacher gives it: open the lesson's
784-16-16-10 link, step one mini-batch phase by phase, inspect an output and a hidden neuron,
check the gradients, train an epoch and step back, look at the same network in Training views
(weight images, confusion matrix) and Compare, come back, step a lesson in place, then step
again in presenter mode on a 1280x720 projector. At every stop the status line, the tiles and
the graph must describe one and the same state; each stop leaves a screenshot in
test-artifacts/demo/ to be looked at."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import ARTIFACTS, LESSON_LINK, STATUS, click_neuron

PHASES = [
    "forward, layer 1",
    "forward, layer 2",
    "forward, layer 3",
    "error",
    "backward, layer 3",
    "backward, layer 2",
    "backward, layer 1",
    "update",
]
# The phase the graph's band names under its highlighted layer ("" when it highlights none).
GRAPH_PHASE = """() => {
  const gd = document.querySelector('.js-plotly-plot');
  if (!gd || !gd._fullLayout) return null;
  const band = [...gd.querySelectorAll('.textpoint text')].map(e => e.textContent)
      .find(t => /forward|backward|error|update/.test(t));
  return band === undefined ? '' : band.replace(/[←→]/g, '').trim();
}"""
SHOTS = ARTIFACTS / "demo"


def status(page: Any) -> Any:
    return page.get_by_text(STATUS).first


def tiles(page: Any) -> dict[str, str]:
    """The figures' tiles on the page, label -> value."""
    found = {}
    for metric in page.get_by_test_id("stMetric").all():
        label = metric.get_by_test_id("stMetricLabel").inner_text().strip()
        found[label] = metric.get_by_test_id("stMetricValue").inner_text().strip()
    return found


def agree(page: Any, shot: str) -> tuple[str, dict[str, str]]:
    """Wait until the graph names the phase the status line says was done last, then keep a
    screenshot; the status text and the tiles, for the caller to compare."""
    text = status(page).inner_text()
    done = re.search(r"done: ([^·]+?) ·", text)
    page.wait_for_function(f"({GRAPH_PHASE})() === {done.group(1) if done else ''!r}")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{shot}.png"))
    return text, tiles(page)


def step_through_a_mini_batch(page: Any, step: int, prefix: str) -> dict[str, str]:
    """Every phase of mini-batch ``step`` (counted from 1), the status and graph agreeing at each;
    the tiles before its update, which must change with it, and after."""
    before = tiles(page)
    for n, phase in enumerate(PHASES):
        page.get_by_role("button", name="Next phase").click()
        expect(status(page)).to_contain_text(f"done: {phase} ·")
        name = re.sub(r"\W+", "_", phase)
        text, shown = agree(page, f"{prefix}_{n + 1}_{name}")
        if phase != "update":
            # the network is not yet changed: the tiles are those of the step before
            assert f"step {step - 1} · batch of 32" in text and shown == before, (phase, shown)
    expect(status(page)).to_contain_text(f"step {step} · batch of 32 · done: update")
    after = tiles(page)
    assert after["Train loss"] != before["Train loss"], after
    return after


def test_the_whole_classroom_demo(page: Any, app_url: str) -> None:
    page.goto(app_url + LESSON_LINK)
    expect(page.get_by_text("Opened the shared link")).to_be_visible()
    expect(status(page)).to_contain_text("Epoch 1 · step 0 · batch of 32 · start of a mini-batch")
    agree(page, "00_opened")
    assert set(tiles(page)) == {"Train loss", "Test loss", "Train accuracy", "Test accuracy"}

    # one mini-batch, phase by phase, then the neurons it changed
    step_through_a_mini_batch(page, 1, "01")
    # output units come last: unit 0 of 10, then the last unit of layer 2
    click_neuron(page, -10, "output (softmax), unit 0 (batch)")
    click_neuron(page, -11, "layer 2 (relu), unit 15 (batch)")
    page.get_by_role("button", name="Check gradients").click()
    expect(page.get_by_text(re.compile(r"^Pass: all \d+ gradients checked"))).to_be_visible()
    agree(page, "02_inspected_and_checked")

    # the rest of the epoch, then one phase back
    after_one = tiles(page)
    page.get_by_role("button", name="Epoch").click()
    expect(status(page)).to_contain_text("Epoch 2 · step 250 · batch of 32 · done: update")
    expect(status(page)).to_contain_text("· 1 epoch trained")
    expect(page.get_by_test_id("stMetric").first).not_to_contain_text(after_one["Train loss"])
    agree(page, "03_epoch")
    page.get_by_role("button", name="Back").click()
    # the epoch ran whole steps: Back goes back one whole step
    expect(status(page)).to_contain_text("Epoch 1 · step 249 · batch of 32 · done: update")
    here, shown = agree(page, "04_back")

    # the same network in Training views: its count and figures, its weights and test set
    nav = page.get_by_test_id("stSidebarNav")
    nav.get_by_role("link", name="Training views").click()
    expect(page.get_by_role("heading", name="Training views")).to_be_visible()
    caption = page.get_by_text(re.compile(r"Epoch 1 · step 249 · 0\.99 epochs trained"))
    expect(caption).to_contain_text(f"test accuracy {shown['Test accuracy']}")
    expect(caption).to_contain_text(f"train loss {shown['Train loss']}")
    expect(page.get_by_text("Each neuron's incoming weights as an image")).to_be_visible()
    expect(page.locator(".js-plotly-plot").first).to_be_visible()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "05_training_weights.png"))
    page.get_by_role("tab", name="Test set").click()
    expect(
        page.get_by_text(re.compile(r"^Test accuracy [\d.]+% on [\d,]+ test samples"))
    ).to_be_visible()
    expect(page.get_by_text("Accuracy per class")).to_be_visible()
    expect(page.locator(".js-plotly-plot").first).to_be_visible()
    page.screenshot(path=str(SHOTS / "06_training_test_set.png"))

    nav.get_by_role("link", name="Compare").click()
    expect(page.get_by_role("heading", name="Compare")).to_be_visible()
    page.screenshot(path=str(SHOTS / "07_compare.png"))

    # back in the Explorer: the very state left there
    nav.get_by_role("link", name="Explorer").click()
    expect(status(page)).to_have_text(here)
    assert agree(page, "08_returned") == (here, shown)

    # a lesson, stepped in place beside its text
    nav.get_by_role("link", name="Lessons").click()
    expect(page.get_by_role("heading", name="Lessons")).to_be_visible()
    expect(page.get_by_text("Step 1 of 5")).to_be_visible()
    page.get_by_role("button", name="Load this step's network").click()
    expect(status(page)).to_contain_text("step 0 · batch of 10 · start of a mini-batch")
    agree(page, "09_lesson_loaded")
    page.get_by_role("button", name="Next phase").click()
    expect(status(page)).to_contain_text("done: forward, layer 1 ·")
    agree(page, "10_lesson_stepped")
    expect(page.get_by_role("heading", name="Lessons")).to_be_visible()

    # the class's network again, stepped on the projector
    page.set_viewport_size({"width": 1280, "height": 720})
    page.goto(app_url + LESSON_LINK)
    expect(status(page)).to_contain_text("step 0 · batch of 32 · start of a mini-batch")
    page.get_by_text("Presenter mode").click()
    expect(page.get_by_role("button", name="Exit presenter mode")).to_be_in_viewport()
    step_through_a_mini_batch(page, 1, "11_presenter")
    for name in ("Next phase", "Back", "Complete step"):
        expect(page.get_by_role("button", name=name)).to_be_in_viewport()
    click_neuron(page, -1, "output (softmax), unit 9 (batch)")
    expect(page.get_by_text("output (softmax), unit 9 (batch)")).to_be_in_viewport()
    agree(page, "12_presenter_inspected")
