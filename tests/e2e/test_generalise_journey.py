"""The Generalisation page in a real browser: open it from the navigation, train the lesson's
784-16-16-10, see the train and test accuracy curves grow and the gallery of right and wrong
test digits, then draw a digit on the canvas and read the trained network's prediction;
screenshots are left in test-artifacts/generalise.png and generalise-drawn.png."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from explorer.analysis.generalise import DEFAULT_EPOCHS, LESSON_SETTINGS, curves, start_training
from explorer.data import load_mnist_sample
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_draw_digit import CANVAS, SEVEN, draw


def expected_test_accuracy() -> float:
    """What the page's default run measures: the lesson's network, every training digit."""
    job = start_training(LESSON_SETTINGS, load_mnist_sample(), split=8000, epochs=DEFAULT_EPOCHS)
    while job.running:
        job.run_epoch()
    return curves(job).test[-1]


def test_train_see_both_curves_and_the_gallery_then_draw_a_digit(page: Any) -> None:
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Generalisation").click()
    expect(page.get_by_role("heading", name="Generalisation: digits it never saw")).to_be_visible()
    expect(page.get_by_text("press Train")).to_be_visible()
    page.get_by_role("button", name="Train", exact=True).click()
    gallery = page.get_by_role("heading", name="Test digits it gets right and wrong")
    expect(gallery).to_be_visible()
    expect(page.get_by_text("Epoch 15 of 15")).to_be_visible()
    tile = page.get_by_test_id("stMetric").filter(has_text="Test accuracy")
    expect(tile.get_by_test_id("stMetricValue")).to_have_text(f"{expected_test_accuracy():.1%}")
    curves = page.locator(".st-key-gen_curves")
    expect(curves.get_by_text("test (digits it never saw)")).to_be_visible()
    expect(curves.get_by_text("train (digits it learned from)")).to_be_visible()
    expect(page.locator(".st-key-gen_right .main-svg").first).to_be_visible()
    expect(page.locator(".st-key-gen_wrong").get_by_text("→").first).to_be_attached()
    expect(page.get_by_test_id("stException")).to_have_count(0)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "generalise.png"), full_page=True)

    expect(page.get_by_text("The canvas is empty")).to_be_visible()
    draw(page, page.locator(CANVAS), SEVEN)
    expect(page.get_by_text("Prediction:")).to_be_visible()
    expect(page.get_by_text("What the network sees")).to_be_visible()
    expect(page.get_by_text("The canvas is empty")).to_have_count(0)
    # must not happen: drawing retrains or resets the network it is shown to
    expect(page.get_by_text("Epoch 15 of 15")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "generalise-drawn.png"), full_page=True)
