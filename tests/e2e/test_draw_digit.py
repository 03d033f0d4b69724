"""Draw a digit in a real browser: pick the MNIST sample, draw a "7" on the canvas with the
mouse, read the prediction and the converted image, then clear the canvas."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

MNIST = "MNIST sample 28×28 (10,000 real digits)"
CANVAS = 'canvas[aria-label="Drawing canvas: draw a digit"]'
SEVEN = [(70, 60), (210, 60), (120, 240)]  # in the canvas's own 280-pixel coordinates


def choose_dataset(page: Any, title: str) -> None:
    page.get_by_label("Dataset").click()
    page.get_by_role("option", name=title).click()


def draw(page: Any, canvas: Any, points: list[tuple[int, int]]) -> None:
    canvas.scroll_into_view_if_needed()
    canvas.hover()  # waits until the canvas stops moving (the expander opens with an animation)
    box = canvas.bounding_box()
    scale = box["width"] / 280

    def to_page(x: int, y: int) -> tuple[float, float]:
        return box["x"] + x * scale, box["y"] + y * scale

    page.mouse.move(*to_page(*points[0]))
    page.mouse.down()
    for point in points[1:]:
        page.mouse.move(*to_page(*point), steps=8)
    page.mouse.up()


def test_draw_a_digit_and_read_the_prediction(page: Any) -> None:
    choose_dataset(page, MNIST)
    panel = page.get_by_text("Draw a digit", exact=True)
    expect(panel).to_be_visible()
    panel.click()
    expect(page.get_by_text("The canvas is empty")).to_be_visible()
    canvas = page.locator(CANVAS)
    draw(page, canvas, SEVEN)
    expect(page.get_by_text("Prediction:")).to_be_visible()
    expect(page.get_by_text("What the network sees: 28×28")).to_be_visible()
    expect(page.get_by_text("The graph for your drawing")).to_be_visible()
    expect(page.get_by_text("The canvas is empty")).to_have_count(0)
    # must not happen: drawing trains or steps the network
    expect(page.get_by_text("Epoch 1 · step 0 ·")).to_be_visible()
    page.locator(".pad").get_by_role("button", name="Clear").click()
    expect(page.get_by_text("The canvas is empty")).to_be_visible()
    expect(page.get_by_text("Prediction:")).to_have_count(0)
