"""The Compare page in a real browser: a long preset run shows its progress and stops on Stop,
with its results so far on screen (the one thing AppTest cannot do: interrupt a run)."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

SPIRAL = "Sigmoid vs tanh vs ReLU vs GELU on the spiral"


def test_a_long_comparison_can_be_stopped(page: Any) -> None:
    page.get_by_role("link", name="Compare").click()
    expect(page.get_by_role("button", name="Run comparison")).to_be_visible()
    page.get_by_label("Preset").click()
    page.get_by_role("option", name=SPIRAL).click()
    expect(page.get_by_text("What to look at.")).to_be_visible()
    steps = page.get_by_label("Steps")
    steps.fill("20000")
    steps.press("Enter")
    expect(page.get_by_text("20,000 steps are")).to_be_visible()
    page.get_by_role("button", name="Run comparison").click()
    expect(page.get_by_text(re.compile(r"Step [\d,]+ of 20,000"))).to_be_visible()
    page.get_by_role("button", name="■ Stop").click()
    expect(page.get_by_text(re.compile(r"Stopped at step [\d,]+ of 20,000"))).to_be_visible()
    expect(page.get_by_role("tab", name="Boundaries")).to_be_visible()
    # must not happen: training going on after Stop (its progress bar still there)
    expect(page.get_by_text(re.compile(r"^Step [\d,]+ of 20,000$"))).to_have_count(0)
