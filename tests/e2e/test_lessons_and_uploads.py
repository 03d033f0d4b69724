"""Starting a lesson, and uploading a corrupt dataset, in a real browser."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

STATUS = re.compile(r"Epoch \d+ · step \d+")


def test_start_a_lesson(page: Any) -> None:
    page.get_by_role("link", name="Lessons").click()
    expect(page.get_by_role("heading", name="Lessons")).to_be_visible()
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_text("Step 2 of 5")).to_be_visible()
    page.get_by_role("button", name="Open in Explorer").click()
    expect(page.get_by_role("button", name="Next phase")).to_be_visible()
    # step 2 of lesson 1 runs one phase: the weighted sum has been computed
    expect(page.get_by_text(STATUS)).to_contain_text("done: forward, layer 1")


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
