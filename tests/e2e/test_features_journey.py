"""The Features page in a real browser: open it from the navigation, see the three pipelines'
accuracies, switch a hand-made feature family off and see the hand-made number and its
feature count move while the other two stay; a screenshot is left in
test-artifacts/features.png."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from explorer.analysis.features import FAMILIES, HAND, MLP, PIXELS, hand_made, raw_pixels
from explorer.data import load_digits_8x8
from tests.e2e.conftest import ARTIFACTS

DIGITS = load_digits_8x8()


def score(page: Any, label: str) -> Any:
    return page.get_by_test_id("stMetric").filter(has_text=label).get_by_test_id("stMetricValue")


def test_a_family_switched_off_moves_the_hand_made_accuracy(page: Any) -> None:
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Features").click()
    expect(page.get_by_role("heading", name="Features: hand-made vs learned")).to_be_visible()
    every = hand_made(DIGITS, list(FAMILIES), seed=0)
    without = hand_made(DIGITS, ["grid", "profiles", "shape"], seed=0)
    assert f"{every.accuracy:.1%}" != f"{without.accuracy:.1%}"
    pixels = f"{raw_pixels(DIGITS, seed=0).accuracy:.1%}"
    expect(score(page, HAND)).to_have_text(f"{every.accuracy:.1%}")
    expect(score(page, PIXELS)).to_have_text(pixels)
    mlp_before = score(page, MLP).inner_text()
    assert mlp_before.endswith("%")
    expect(page.get_by_text("56 hand-made features per digit")).to_be_visible()

    page.get_by_text("Stroke directions", exact=True).click()
    expect(score(page, HAND)).to_have_text(f"{without.accuracy:.1%}")
    expect(page.get_by_text("40 hand-made features per digit")).to_be_visible()
    expect(score(page, PIXELS)).to_have_text(pixels)
    expect(score(page, MLP)).to_have_text(mlp_before)
    expect(page.get_by_test_id("stException")).to_have_count(0)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "features.png"), full_page=True)
    page.get_by_role("tab", name="Features as images").click()
    expect(page.get_by_text("Learned: the MLP's first-layer weights")).to_be_visible()
    page.get_by_text("Each map was designed by a person").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "features-images.png"), full_page=True)
