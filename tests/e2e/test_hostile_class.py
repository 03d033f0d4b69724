"""Two students on one server, in two real browser contexts: one opens a crafted link (Markdown
in its values, a flood of unknown keys, a trail far over the replay budget) and sees plain text
and an untrained network; the other, stepping meanwhile, keeps every step it took."""

from __future__ import annotations

import urllib.parse
from typing import Any

from playwright.sync_api import expect

from explorer.ui.guard import JOINER
from tests.e2e.conftest import STATUS

PHISHING = "[Session expired - sign in](http://127.0.0.1:9/login)"
# As the page shows it: with an invisible word joiner that stops the bare link (guard.plain).
SHOWN = PHISHING.replace("://", ":" + JOINER + "//")


def test_a_crafted_link_shows_text_and_leaves_the_other_student_alone(
    page: Any, browser: Any, app_url: str
) -> None:
    for _ in range(3):
        page.get_by_role("button", name="Complete step").click()
    status = page.get_by_text(STATUS)
    expect(status).to_contain_text("step 3 ·")

    query = {
        "learning_rate": PHISHING,
        "seed": "![t](http://127.0.0.1:9/t.png) www.localhost mail@evil.example",
        "hidden_sizes": "128,128,128,128,128,128",
        "hidden_activations": "relu,relu,relu,relu,relu,relu",
        "batch_size": "1",
        "trail": ";".join(["F"] * 400),
        **{f"junk{i}": "1" for i in range(300)},
    }
    other = browser.new_context(viewport={"width": 1400, "height": 1000})
    asked: list[str] = []
    other.on("request", lambda request: asked.append(request.url))
    try:
        student = other.new_page()
        student.goto(f"{app_url}/?{urllib.parse.urlencode(query)}")
        alerts = student.get_by_test_id("stAlert")
        expect(alerts.filter(has_text=SHOWN)).to_have_count(1)
        expect(alerts.filter(has_text="Ignored 300 unknown link parameters")).to_have_count(1)
        expect(alerts.filter(has_text="Could not replay the link's training")).to_have_count(1)
        expect(alerts.locator("a")).to_have_count(0)
        expect(alerts.locator("img")).to_have_count(0)
        expect(student.get_by_text(STATUS)).to_contain_text("step 0 ·")
        assert {urllib.parse.urlsplit(u).hostname for u in asked} == {"127.0.0.1"}
    finally:
        other.close()

    page.get_by_role("button", name="Complete step").click()
    expect(status).to_contain_text("step 4 ·")
    expect(page.get_by_text("Network rebuilt")).to_have_count(0)
