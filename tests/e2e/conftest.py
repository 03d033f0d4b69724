"""Browser journeys: the real app under `streamlit run` on 127.0.0.1, driven by Playwright in
Debian's chromium (never a downloaded browser). Skipped, with the reason, where chromium or
playwright is missing; CI installs both. A failing test leaves a screenshot in test-artifacts/.
"""

from __future__ import annotations

import os
import re
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest
from local_server import CHROMIUM, CHROMIUM_ARGS, ROOT, running_app

ARTIFACTS = ROOT / "test-artifacts"

if not CHROMIUM.exists():
    pytest.skip(
        "Debian's chromium is not installed (apt-get install chromium)", allow_module_level=True
    )
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
# Two shared cores: a first page load or a long replay can take a while; expect() waits, so a
# generous ceiling costs nothing when the page is quick.
TIMEOUT_MS = float(os.environ.get("E2E_TIMEOUT_MS", "30000"))
sync_api.expect.set_options(timeout=TIMEOUT_MS)

# The Explorer's status line ("Epoch 1 · step 0 · batch of 32 · ..."), and the lesson's
# 784-16-16-10 network on the MNIST sample as a shared link (the path and query after the host).
STATUS = re.compile(r"Epoch \d+ · step \d+")
LESSON_LINK = "/?" + urllib.parse.urlencode(
    {
        "dataset": "mnist-sample",
        "hidden_sizes": "16,16",
        "hidden_activations": "relu,relu",
        "head": "softmax + cross-entropy",
        "batch_size": "32",
        "learning_rate": "0.1",
    }
)

# Where plotly drew neuron k of the network graph (negative: from the end), in page pixels, and
# how many times the chart has been drawn (a click during a redraw can be lost).
_NEURON_AT = """(k) => {
  const gd = document.querySelector('.js-plotly-plot');
  if (!gd.__draws) {
    gd.__draws = 1;
    gd.on('plotly_afterplot', () => gd.__draws++);
  }
  const t = gd._fullData.find(d => d.name === 'neurons');
  if (k < 0) k = t.x.length + k;
  const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
  const r = gd.getBoundingClientRect();
  const x = r.left + xa._offset + xa.l2p(t.x[k]), y = r.top + ya._offset + ya.l2p(t.y[k]);
  return {x, y, draws: gd.__draws};
}"""


def click_neuron(page: Any, k: int, opens: str) -> None:
    """Click neuron ``k`` of the graph, counted over every layer from the first input (negative:
    from the last output unit), where plotly drew it, until the inspector shows ``opens``.

    A click that lands while the app reruns from the previous one can be lost (the chart is
    redrawn under the pointer): a user clicks again, and so does this, up to three times."""
    title = page.get_by_text(opens)
    for _ in range(3):
        # where it is once the chart holds still: not moved (a new inspector column re-lays the
        # page out) and not redrawn for 100 ms
        point = page.evaluate(_NEURON_AT, k)
        for _ in range(50):
            page.wait_for_timeout(100)
            again = page.evaluate(_NEURON_AT, k)
            if again == point:
                break
            point = again
        page.mouse.click(point["x"], point["y"])
        page.mouse.move(1, 1)  # off the graph: no hover label left to match ``opens``
        try:
            sync_api.expect(title).to_be_visible(timeout=TIMEOUT_MS / 3)
            return
        except AssertionError:
            continue
    sync_api.expect(title).to_be_visible()


def clicker_keys(page: Any, status: Any, first: str, second: str) -> None:
    """The clicker's keys on a stepping page whose ``status`` line says where it stands:
    PageDown/PageUp and the arrows step the phases (``first``, ``second``: the status after one
    and two) and back, Enter completes the step, ? lists the keys, nothing happens while a number
    field has focus, Space plays and pauses."""
    status.click()  # focus the page (its status line), not a field
    page.keyboard.press("PageDown")
    sync_api.expect(status).to_contain_text(first)
    page.keyboard.press("ArrowRight")
    sync_api.expect(status).to_contain_text(second)
    page.keyboard.press("PageUp")
    sync_api.expect(status).to_contain_text(first)
    page.keyboard.press("ArrowLeft")
    sync_api.expect(status).to_contain_text("start of a mini-batch")
    page.keyboard.press("Enter")
    sync_api.expect(status).to_contain_text("step 1 · batch of 32 · done: update")
    page.keyboard.press("?")
    sync_api.expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_contain_text(
        "Page Down"
    )
    page.keyboard.press("Escape")
    sync_api.expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_have_count(0)
    field = page.get_by_role("spinbutton").first
    field.click()
    field.press("ArrowRight")
    field.press("Enter")
    page.wait_for_timeout(800)
    sync_api.expect(status).to_contain_text("step 1 · batch of 32 · done: update")
    status.click()
    play = page.get_by_role("switch", name="Play")
    page.keyboard.press(" ")
    sync_api.expect(play).to_be_checked()
    sync_api.expect(status).to_contain_text(re.compile(r"step [3-9]|step \d\d"))
    page.keyboard.press(" ")
    sync_api.expect(play).not_to_be_checked()


@pytest.fixture(scope="session")
def app_url() -> Iterator[str]:
    try:
        with running_app(start_timeout=60) as url:
            yield url
    except RuntimeError as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    page = item.funcargs.get("page") if hasattr(item, "funcargs") else None  # type: ignore[attr-defined]
    if report.when == "call" and report.failed and page is not None:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{item.name}.png"), full_page=True)


@pytest.fixture
def page(browser: Any, app_url: str) -> Iterator[Any]:
    """A fresh browser context (a new Streamlit session) on the Explorer. The app must run
    offline: a test fails if the page asked for anything but 127.0.0.1."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(TIMEOUT_MS)
    elsewhere: list[str] = []

    def note(request: Any) -> None:
        url = urllib.parse.urlsplit(request.url)
        if url.scheme in ("http", "https", "ws", "wss") and url.hostname != "127.0.0.1":
            elsewhere.append(request.url)

    context.on("request", note)
    pg = context.new_page()
    pg.goto(app_url)
    sync_api.expect(pg.get_by_role("button", name="Next phase")).to_be_visible()
    yield pg
    context.close()
    assert not elsewhere, f"the page asked for addresses off this machine: {elsewhere[:3]}"
