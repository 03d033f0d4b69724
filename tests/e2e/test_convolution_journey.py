"""The Convolution page in a real browser: step one mini-batch phase by phase, click a
feature-map pixel and read its sum, see the dense part's graph, step back; leaves a
screenshot for a person to look at."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import ARTIFACTS

STATUS = re.compile(r"Epoch \d+ · step \d+ · batch of")

# Where plotly drew the strongest pixel of block 1's first z map (the heatmap that picks
# (row 0, filter 0)), in page pixels, and that pixel's (y, x, value).
_STRONGEST_PIXEL = """() => {
  const gd = Array.from(document.querySelectorAll('.js-plotly-plot'))
    .find(g => g._fullLayout.title.text.includes('just computed: forward'));
  const t = gd._fullData.find(d => d.meta && d.meta.pick && d.meta.pick.join() === '0,0');
  let best = [0, 0];
  t.z.forEach((row, y) => row.forEach((v, x) => {
    if (Math.abs(v) > Math.abs(t.z[best[0]][best[1]])) best = [y, x];
  }));
  const xa = gd._fullLayout['xaxis' + t.xaxis.slice(1)];
  const ya = gd._fullLayout['yaxis' + t.yaxis.slice(1)];
  const r = gd.getBoundingClientRect();
  const [row, col] = best;
  return {x: r.left + xa._offset + xa.l2p(col), y: r.top + ya._offset + ya.l2p(row),
          row, col, value: t.z[row][col]};
}"""

# The (rows, columns) of the dense graph's input image (the flattened features).
_DENSE_IMAGE = """() => {
  const gd = Array.from(document.querySelectorAll('.js-plotly-plot'))
    .find(g => g._fullData.some(d => d.name === 'neurons'));
  const t = gd._fullData.find(d => d.name === 'input image');
  return [t.z.length, t.z[0].length];
}"""


def status(page: Any) -> Any:
    return page.get_by_text(STATUS)


def test_step_a_mini_batch_click_a_pixel_and_step_back(page: Any) -> None:
    page.get_by_role("link", name="Convolution").click()
    expect(page.get_by_role("heading", name="Convolution explorer")).to_be_visible()
    expect(status(page)).to_contain_text("start of a mini-batch")

    next_phase = page.get_by_role("button", name="Next phase")
    next_phase.click()
    expect(status(page)).to_contain_text("done: forward, conv block 1")
    # a changed figure is a new chart, which for a moment stands beside the one it replaces:
    # each chart is found by the title only the new one has
    charts = page.locator(".js-plotly-plot")
    chart = charts.filter(has_text="Conv block 1 · forward values · just computed: forward")
    expect(chart).to_have_count(1)
    expect(chart).to_be_visible()

    pixel = page.evaluate(_STRONGEST_PIXEL)
    page.mouse.click(pixel["x"], pixel["y"])
    heading = f"Conv block 1, filter 1, pixel ({pixel['row']}, {pixel['col']}), sample 0"
    expect(page.get_by_text(heading)).to_be_visible()
    # the sum as KaTeX typeset it; its TeX source ends in the total, the map's value there
    tex = page.locator(".katex-mathml annotation").filter(has_text="z &= \\sum w")
    expect(tex).to_have_count(1)
    source = tex.text_content() or ""
    total = float(source.rsplit("&=", 1)[1].replace("\\end{aligned}", ""))
    assert abs(total - pixel["value"]) <= 1e-5 * max(abs(total), 1e-3)
    assert source.count("\\cdot") == 9  # the 3x3 kernel's nine products
    expect(page.get_by_text(re.compile(r"^Receptive field: rows"))).to_be_visible()

    next_phase.click()
    expect(status(page)).to_contain_text("done: forward, output layer")
    # the dense part as the Explorer's graph: the output layer's band, the prediction named
    dense = charts.filter(has_text="forward, layer 1 →").filter(has_text="◂ predicted")
    expect(dense).to_have_count(1)
    expect(dense).to_be_visible()
    assert page.evaluate(_DENSE_IMAGE) == [26, 26]  # the 4 pooled 13x13 maps in a 2x2 grid

    for phase in [
        "error",
        "backward, output layer",
        "backward, conv block 1",
    ]:
        next_phase.click()
        expect(status(page)).to_contain_text(f"done: {phase}")
    backward = charts.filter(has_text="Conv block 1 · gradients (backward) · just computed")
    expect(backward).to_have_count(1)
    expect(page.get_by_text("Backward", exact=True)).to_be_visible()
    next_phase.click()
    expect(status(page)).to_contain_text("done: update")
    expect(status(page)).to_contain_text("step 1")

    page.get_by_role("button", name="Back").click()
    expect(status(page)).to_contain_text("done: backward, conv block 1")
    expect(status(page)).to_contain_text("step 0")
    expect(page.get_by_text(heading)).to_be_visible()  # the selection outlives the step back
    ARTIFACTS.mkdir(exist_ok=True)
    page.set_viewport_size({"width": 1400, "height": 1500})  # the maps and the inspector whole
    expect(page.get_by_text(heading)).to_be_in_viewport()
    page.screenshot(path=str(ARTIFACTS / "convolution.png"))
