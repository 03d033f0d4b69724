"""Presenter mode on a 1280x720 projector, in a real browser: the graph and its text scale to
the screen, the inspector stays in view beside it, a compact bar switches pages, and no tooltip
covers the controls; the Lessons page, reached from that bar, steps in place the same way."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ARTIFACTS, LESSON_LINK, STATUS, TIMEOUT_MS, click_neuron

WIDTH, HEIGHT = 1280, 720

# The chart's box, the scale plotly drew the network at, and the font size
# of every text on the graph (layer headers, class names, phase band, colour bar).
MEASURE = """() => {
  const chart = document.querySelector('.explorer-graph');
  const box = (e) => { const r = e.getBoundingClientRect(); return [r.x, r.y, r.width, r.height]; };
  const texts = [...chart.querySelectorAll('.textpoint text, .explorer-colorbar .cb-text')];
  // pixels per unit of the axes: the neurons' column spans one unit of y
  const scale = Math.abs(chart._fullLayout.yaxis._m);
  return {chart: box(chart), scale: scale,
          fonts: texts.map((t) => parseFloat(getComputedStyle(t).fontSize))};
}"""
# Whether the element on top at the centre of the given element is that element (or inside it).
ON_TOP = """(e) => {
  const r = e.getBoundingClientRect();
  const top = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
  return e.contains(top);
}"""


@pytest.fixture
def page(browser: Any, app_url: str) -> Iterator[Any]:
    """The lesson's 784-16-16-10 link at 1280x720, in presenter mode (named ``page``, as
    conftest's, so that a failing test leaves its screenshot)."""
    context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT})
    context.set_default_timeout(TIMEOUT_MS)
    pg = context.new_page()
    try:
        pg.goto(app_url + LESSON_LINK)
        expect(pg.get_by_text(STATUS)).to_be_visible()
        pg.get_by_text("Presenter mode").click()
        expect(pg.get_by_role("button", name="Exit presenter mode")).to_be_visible()
        yield pg
    finally:
        context.close()


def _in_view(page: Any, box: list[float]) -> bool:
    x, y, w, h = box
    return x >= 0 and y >= 0 and x + w <= WIDTH and y + h <= HEIGHT


def _fitted_graph(page: Any) -> dict[str, Any]:
    """The graph's measures once it has been fitted to the screen (taller than the figure)."""
    chart = page.locator(".explorer-graph")
    expect(chart.locator(".textpoint text").first).to_be_visible()
    page.wait_for_function("() => document.querySelector('.explorer-graph').offsetHeight > 360")
    return page.evaluate(MEASURE)


def test_presenter_mode_fills_a_1280x720_projector(page: Any) -> None:
    step = page.get_by_role("button", name="Next phase")
    step.click()
    expect(page.get_by_text(STATUS)).to_contain_text("done: forward, layer 1")
    graph = _fitted_graph(page)
    # the chart fills the height left below the controls, all of it on screen (was 360 px)
    assert _in_view(page, graph["chart"]), graph
    assert graph["chart"][3] >= 450, graph
    # the network drawn larger: a column of neurons spans this many pixels (was 205)
    assert graph["scale"] >= 250, graph
    # text in the graph large enough for a projector (was 10-12 px)
    assert graph["fonts"] and min(graph["fonts"]) >= 16, graph["fonts"]
    page.screenshot(path=str(ARTIFACTS.joinpath("presenter_1280x720.png")))
    # click an output neuron: the inspector beside the graph, in view
    click_neuron(page, -1, "output (softmax), unit 9 (batch)")
    title = page.get_by_text("output (softmax), unit 9 (batch)")
    expect(title).to_be_in_viewport()
    expect(page.get_by_role("heading", name="Neuron inspector")).to_be_in_viewport()
    assert _in_view(page, page.evaluate(MEASURE)["chart"])
    # a tooltip never covers the controls: hover Next phase until its tooltip is on the page
    step.hover()
    expect(page.get_by_test_id("stTooltipContent")).to_have_count(1)
    for name in ("Exit presenter mode", "Back"):
        assert page.get_by_role("button", name=name).evaluate(ON_TOP), name
    assert page.get_by_role("link", name="Lessons").evaluate(ON_TOP)
    page.mouse.move(0, HEIGHT - 1)


def test_the_presenter_bar_reaches_every_page_and_lessons_step_in_place(page: Any) -> None:
    bar = page.get_by_role("link", name="Lessons")
    for name in ("Explorer", "Training views", "Compare", "Full training", "Features"):
        expect(page.get_by_role("link", name=name)).to_be_in_viewport()
    expect(bar).to_be_in_viewport()
    bar.click()
    expect(page.get_by_role("combobox", name=re.compile("Lesson"))).to_be_visible()
    # presenter mode is still on; the link's network is the class's own: loaded on request
    expect(page.get_by_role("button", name="Exit presenter mode")).to_be_in_viewport()
    expect(page.get_by_text("Step 1 of 5")).to_be_visible()
    expect(page.get_by_text("(784-16-16-10, step 0), not this step's")).to_be_visible()
    page.get_by_role("button", name="Load this step's network").click()
    expect(page.get_by_text(STATUS)).to_contain_text("batch of 10 · start of a mini-batch")
    page.get_by_role("button", name="Next phase").click()
    expect(page.get_by_text(STATUS)).to_contain_text("done: forward, layer 1")
    graph = _fitted_graph(page)
    assert _in_view(page, graph["chart"]), graph
    assert min(graph["fonts"]) >= 16, graph["fonts"]
    page.screenshot(path=str(ARTIFACTS.joinpath("presenter_lessons_1280x720.png")))
    page.get_by_role("link", name="Explorer").click()
    expect(page.get_by_text(STATUS)).to_contain_text("done: forward, layer 1")  # the same network
