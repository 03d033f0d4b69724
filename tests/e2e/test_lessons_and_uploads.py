"""Starting a lesson, and uploading a corrupt dataset, in a real browser."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import ARTIFACTS, STATUS, click_neuron


def test_step_a_lesson_in_place_leave_and_come_back(page: Any) -> None:
    page.get_by_role("link", name="Lessons").click()
    expect(page.get_by_role("heading", name="Lessons")).to_be_visible()
    # the lesson's network is here and in the sidebar: no hidden layer, no default 2-4-2-1
    expect(page.locator(".explorer-graph")).to_be_visible()
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar.get_by_role("spinbutton", name="Hidden layers")).to_have_value("0")
    page.get_by_role("button", name="Next step").click()
    expect(page.get_by_text("Step 2 of 5")).to_be_visible()
    # step 2 begins where its text does: the student clicks Next phase once, here
    expect(page.get_by_text(STATUS)).to_contain_text("start of a mini-batch")
    page.get_by_role("button", name="Next phase").click()
    expect(page.get_by_text(STATUS)).to_contain_text("done: forward, layer 1")
    expect(page.get_by_role("heading", name="Lessons")).to_be_visible()
    click_neuron(page, -1, "output (sigmoid), unit 0 (batch)")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "lesson_in_place.png"))
    # away and back: the same lesson, step and network
    page.get_by_role("link", name="Training views").click()
    expect(page.get_by_role("link", name="Lessons")).to_be_visible()
    page.get_by_role("link", name="Lessons").click()
    expect(page.get_by_text("Step 2 of 5")).to_be_visible()
    expect(page.get_by_text(STATUS)).to_contain_text("batch of 10 · done: forward, layer 1")
    page.get_by_role("button", name="Open in Explorer").click()
    expect(page.get_by_role("heading", name="Backprop Explorer")).to_be_visible()
    expect(page.get_by_text(STATUS)).to_contain_text("batch of 10 · done: forward, layer 1")


def test_the_chosen_lesson_survives_a_visit_elsewhere(page: Any) -> None:
    page.get_by_role("link", name="Lessons").click()
    page.get_by_role("combobox", name=re.compile("Lesson")).click()
    page.get_by_role("option", name=re.compile(r"^3\. ")).click()
    expect(page.get_by_text("Step 1 of 6")).to_be_visible()
    expect(page.get_by_text(STATUS)).to_contain_text("batch of 32")
    page.get_by_role("link", name="Explorer").click()
    expect(page.get_by_role("heading", name="Backprop Explorer")).to_be_visible()
    page.get_by_role("link", name="Lessons").click()
    lesson = page.get_by_role("combobox", name=re.compile("Lesson"))
    expect(lesson).to_have_value(re.compile("784-16-16-10"))


def test_a_corrupt_upload_is_refused_and_the_network_stays(page: Any, tmp_path: Path) -> None:
    page.get_by_role("button", name="Complete step").click()
    expect(page.get_by_text(STATUS)).to_contain_text("step 1")
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_role("combobox", name="Dataset").click()
    page.get_by_role("option", name="Upload a dataset…").click()
    bad = tmp_path / "digits.npz"
    bad.write_bytes(b"PK\x03\x04 this is not really a zip file" * 10)
    sidebar.locator("input[type=file]").first.set_input_files(str(bad))
    expect(sidebar.get_by_text(re.compile("npz", re.IGNORECASE)).last).to_be_visible()
    expect(page.get_by_test_id("stAlertContentError").first).to_be_visible()
    # the network on screen is still the one that was there (default set: step 1 kept)
    expect(page.get_by_text(STATUS)).to_contain_text("step 1")


def test_a_page_opened_by_its_own_address_is_the_real_app(page: Any, app_url: str) -> None:
    # A folder named pages/ made Streamlit serve its files as a second, bare app at these
    # addresses; the pages live in app_pages/ so st.navigation alone decides.
    page.goto(f"{app_url}/lessons")
    expect(page.get_by_role("heading", name="Lessons")).to_be_visible()
    expect(page.get_by_role("link", name="Training views")).to_be_visible()
    expect(page.get_by_role("heading", name="Network builder")).to_be_visible()


def test_play_runs_on_the_lessons_page(page: Any) -> None:
    page.get_by_role("link", name="Lessons").click()
    expect(page.get_by_text("Step 1 of 5")).to_be_visible()
    play = page.get_by_role("switch", name="Play")
    label = page.locator("label").filter(has=play)  # the switch's input is styled away
    label.click()
    expect(page.get_by_text(STATUS)).to_contain_text(re.compile(r"step [3-9]|step \d\d"))
    label.click()
    expect(play).not_to_be_checked()
    expect(page.get_by_role("heading", name="Lessons")).to_be_visible()
