"""A teacher's lesson network in a real browser: opened from a link, stepped with the Explorer's
controls, it follows the user to every page and back (Streamlit drops the builder's widget
values on a page switch after a fragment run, which AppTest does not do); after Epoch and Back
the tiles are those of the network on screen; Epoch counts the epoch (its progress bar, shown
only when the steps take over PROGRESS_AFTER, is tested in AppTest: test_page_state)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import expect

from tests.e2e.conftest import LESSON_LINK, STATUS


def status(page: Any) -> Any:
    return page.get_by_text(STATUS).first


def tile(page: Any, label: str) -> str:
    metric = page.get_by_test_id("stMetric").filter(has_text=label)
    return str(metric.get_by_test_id("stMetricValue").inner_text())


def address(page: Any) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(urlsplit(page.url).query).items()}


def open_link(page: Any, app_url: str) -> None:
    page.goto(app_url + LESSON_LINK)
    expect(page.get_by_text("Opened the shared link")).to_be_visible()
    expect(status(page)).to_contain_text("step 0")


def test_the_lessons_network_follows_the_user_to_every_page(page: Any, app_url: str) -> None:
    open_link(page, app_url)
    page.get_by_role("button", name="Next phase").click()  # a fragment run, nothing else
    expect(status(page)).to_contain_text("done: forward, layer 1")
    nav = page.get_by_test_id("stSidebarNav")
    for title, path, shows in (
        ("Training views", "training", page.get_by_text("Epoch 1 · step 0 · 0 epochs trained")),
        ("Compare", "compare", page.get_by_role("heading", name="Compare")),
        ("Full training", "train", page.get_by_text("Trains the sidebar's network, 784-16-16-10")),
    ):
        nav.get_by_role("link", name=title).click()
        # the address bar is the page's link to the session's network: the lesson's, still
        expect(page).to_have_url(re.compile(rf"/{path}\?dataset=mnist-sample&.*trail="))
        assert address(page)["hidden_sizes"] == "16,16", title
        expect(shows).to_be_visible()
        expect(page.get_by_text("Network rebuilt")).to_have_count(0)
    nav.get_by_role("link", name="Explorer").click()
    expect(status(page)).to_contain_text("step 0 · batch of 32 · done: forward, layer 1")
    expect(status(page)).to_contain_text("· 0 epochs trained")
    expect(page.get_by_text("Network rebuilt")).to_have_count(0)


def test_epoch_then_back_shows_the_numbers_of_the_network_shown(page: Any, app_url: str) -> None:
    open_link(page, app_url)
    untrained = tile(page, "Train loss")
    page.get_by_role("button", name="Epoch").click()
    expect(status(page)).to_contain_text("Epoch 2 · step 250 · batch of 32")
    expect(status(page)).to_contain_text("· 1 epoch trained")
    expect(page.get_by_test_id("stMetric").first).not_to_contain_text(untrained)
    trained = tile(page, "Train loss")
    page.get_by_role("button", name="Back").click()
    expect(status(page)).to_contain_text("Epoch 1 · step 249 · batch of 32")
    expect(status(page)).to_contain_text("· 0.99 epochs trained")
    expect(page.get_by_test_id("stMetric").filter(has_text="Train loss")).not_to_contain_text(
        untrained
    )
    page.get_by_role("button", name="Complete step").click()
    expect(status(page)).to_contain_text("step 250 ·")
    expect(page.get_by_test_id("stMetric").filter(has_text="Train loss")).to_contain_text(trained)


def test_a_network_from_full_training_is_never_silently_absent_from_the_link(
    page: Any, app_url: str
) -> None:
    open_link(page, app_url)
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Full training").click()
    main = page.get_by_test_id("stMainBlockContainer")
    epochs = main.get_by_role("spinbutton", name="Epochs")
    epochs.fill("2")
    epochs.press("Enter")
    expect(epochs).to_have_value("2")
    main.get_by_role("button", name="Train").click()
    expect(page.get_by_text("Trained 2 epochs (500 steps)")).to_be_visible()
    figures = page.get_by_test_id("stMetric").filter(has_text="Test accuracy")
    accuracy = figures.get_by_test_id("stMetricValue").inner_text()
    main.get_by_role("button", name="Open in Explorer").first.click()
    # the same count and the same figures as Full training, and no link to another network
    expect(status(page)).to_contain_text("Epoch 3 · step 500 · batch of 32")
    expect(status(page)).to_contain_text("· 2 epochs trained")
    expect(page.get_by_test_id("stMetric").filter(has_text="Test accuracy")).to_contain_text(
        accuracy
    )
    expect(page.get_by_text("The address bar holds no link to this network")).to_be_visible()
    expect(page.get_by_role("button", name="Session file")).to_be_visible()
    assert not urlsplit(page.url).query
