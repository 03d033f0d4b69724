"""The Explorer graph in a real browser on the lesson's 784-16-16-10: the colour bar's title
follows each phase, the input image is drawn square and visible, and the clicker keys step,
go back, play and complete a step (and do nothing while a number field has focus). Each
phase's graph is saved to test-artifacts/graph/ to be looked at."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import ARTIFACTS, LESSON_LINK, STATUS, clicker_keys

GRAPH = """() => {
  const g = [...document.querySelectorAll('.js-plotly-plot')]
      .find(g => g._fullData && g._fullData.some(d => d.name === 'neurons'));
  if (!g) return null;
  const bar = document.querySelector('.explorer-colorbar .cb-title');
  const phase = [...g.querySelectorAll('.textpoint text')].map(e => e.textContent);
  const image = g.querySelector('.hm image, .heatmaplayer image');
  const box = image ? image.getBoundingClientRect() : null;
  return {title: bar && [...bar.children].map(e => e.textContent).join('<br>'), notes: phase,
          image: box && {w: box.width, h: box.height}};
}"""
# (phase done, what the colour bar's title starts with, what it says of the edges)
PHASES = [
    ("forward, layer 1", "a (activation)", "w·a"),
    ("forward, layer 2", "a (activation)", "w·a"),
    ("forward, layer 3", "a (activation)", "w·a"),
    ("error", "∂L/∂a", "w·a"),
    ("backward, layer 3", "δ = ∂L/∂z", "∂L/∂w"),
    ("backward, layer 2", "δ = ∂L/∂z", "∂L/∂w"),
    ("backward, layer 1", "δ = ∂L/∂z", "∂L/∂w"),
    ("update", "δ = ∂L/∂z", "Δw"),
]


def lesson(page: Any, app_url: str) -> None:
    page.goto(app_url + LESSON_LINK)
    expect(page.get_by_role("button", name="Next phase")).to_be_enabled()
    expect(page.get_by_text(STATUS)).to_contain_text("step 0")
    page.wait_for_function(f"({GRAPH})() !== null")


def graph_after(page: Any, phase: str) -> dict[str, Any]:
    expect(page.get_by_text(STATUS)).to_contain_text(f"done: {phase}")
    page.wait_for_function(
        f"(p) => {{ const g = ({GRAPH})(); return g && g.notes.some(t => t.includes(p)); }}",
        arg=phase,
    )
    result: dict[str, Any] = page.evaluate(GRAPH)
    return result


def test_colours_follow_each_phase_and_the_image_is_square(page: Any, app_url: str) -> None:
    lesson(page, app_url)
    page.get_by_role("combobox", name=re.compile("Shown sample")).click()
    page.get_by_role("option", name=re.compile(r"^Sample 0 ")).click()
    out = ARTIFACTS / "graph"
    out.mkdir(parents=True, exist_ok=True)
    for k, (phase, quantity, edges) in enumerate(PHASES):
        page.get_by_role("button", name="Next phase").click()
        graph = graph_after(page, phase)
        assert graph["title"].startswith(quantity), (phase, graph["title"])
        assert edges in graph["title"] and "sample 0" in graph["title"]
        box = graph["image"]
        assert box and box["w"] > 100 and abs(box["w"] - box["h"]) <= 2, box
        page.locator(".explorer-graph-box").screenshot(path=str(out / f"{k + 1}-{phase}.png"))
    assert any("predicted" in t for t in graph["notes"])  # the output is labelled


def test_clicker_keys_step_back_play_and_complete(page: Any, app_url: str) -> None:
    lesson(page, app_url)
    status = page.get_by_text(STATUS)
    clicker_keys(page, status, "done: forward, layer 1", "done: forward, layer 2")
