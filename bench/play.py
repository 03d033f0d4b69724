"""Play in a real browser: steps per second on the Explorer while Play is on, for the default
network and the lesson's 784-16-16-10 on the MNIST sample (target >= 10, every step
recorded: each played step is a point of the loss curve).

Starts the app on a free loopback port, opens each network through a shared link in Debian's
chromium, switches Play on, and counts the steps the status line shows over three windows of
WINDOW_S seconds. Prints a table and one JSON line; medians. Not part of the test run.
"""

from __future__ import annotations

import json
import re
import statistics
import sys
import time
import urllib.parse
from pathlib import Path

from playwright.sync_api import Page, expect, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "deploy"))  # local_server
from local_server import CHROMIUM, CHROMIUM_ARGS, running_app

WINDOW_S = 6.0
WINDOWS = 3
NETWORKS = {
    "default (2-4-2-1, circle)": {},
    "784-16-16-10 (MNIST sample)": {
        "dataset": "mnist-sample",
        "hidden_sizes": "16,16",
        "hidden_activations": "relu,relu",
        "head": "softmax + cross-entropy",
        "batch_size": "32",
    },
}
STATUS = re.compile(r"Epoch \d+ · step (\d+)")


def shown_step(page: Page) -> int:
    text = page.get_by_text(STATUS).first.inner_text()
    match = STATUS.search(text)
    assert match is not None
    return int(match[1])


def play_rates(page: Page, url: str) -> list[float]:
    """Steps per second in each window while Play is on."""
    page.goto(url)
    expect(page.get_by_role("button", name="Next phase")).to_be_visible(timeout=120_000)
    page.get_by_text("Play", exact=True).click()
    page.wait_for_timeout(2000)  # the app reruns to start the timer
    rates = []
    for _ in range(WINDOWS):
        s0, t0 = shown_step(page), time.perf_counter()
        page.wait_for_timeout(WINDOW_S * 1000)
        s1, t1 = shown_step(page), time.perf_counter()
        rates.append((s1 - s0) / (t1 - t0))
    page.get_by_text("Play", exact=True).click()
    return rates


def main() -> None:
    if not CHROMIUM.exists():
        print(json.dumps({"bench": "play", "skipped": "Debian's chromium is not installed"}))
        return
    with running_app() as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        results = {}
        for name, query in NETWORKS.items():
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            rates = play_rates(page, f"{base}/?{urllib.parse.urlencode(query)}")
            results[name] = round(statistics.median(rates), 2)
            page.close()
        browser.close()
    print(f"{'network':<32}{'steps/s while playing':>24}")
    for name, rate in results.items():
        print(f"{name:<32}{rate:>24.2f}")
    print(json.dumps({"bench": "play", "steps_per_s": results, "target": 10}))


if __name__ == "__main__":
    main()
