"""The Explorer graph keeps the traces a click did not change (``explorer.ui.graph_view`` sends
only the others): after several phases, a switch to another page and back, and a browser that
lost what it held, the graph in chromium still shows the phase just run, all of its edges, and
its neurons can still be clicked."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import LESSON_LINK, STATUS, click_neuron

# The phase named under the graph, and how many edges each layer's line traces draw (a
# segment per edge: consecutive points between NaN breaks).
GRAPH = """() => {
  const g = [...document.querySelectorAll('.js-plotly-plot')]
      .find(g => g._fullData && g._fullData.some(d => d.name === 'neurons'));
  if (!g) return null;
  const edges = {};
  for (const t of g._fullData.filter(d => d.mode === 'lines')) {
    const layer = t.name.split(' ').pop();
    let n = 0;
    for (let i = 1; i < t.x.length; i++) if (!isNaN(t.x[i]) && !isNaN(t.x[i - 1])) n++;
    edges[layer] = (edges[layer] ?? 0) + n;
  }
  const notes = [...g.querySelectorAll('.textpoint text')].map(e => e.textContent);
  return {notes, edges};
}"""
# The lesson's network draws 200 input edges (the strongest), 16 x 16 and 16 x 10.
EDGES = {"0": 200, "1": 256, "2": 160}


def shows(page: Any, phase: str) -> dict[str, Any]:
    expect(page.get_by_text(STATUS)).to_contain_text(f"done: {phase}")
    page.wait_for_function(
        f"(p) => {{ const g = ({GRAPH})(); return g && g.notes.some(t => t.includes(p)); }}",
        arg=phase,
    )
    graph: dict[str, Any] = page.evaluate(GRAPH)
    assert graph["edges"] == EDGES, graph["edges"]
    return graph


def next_phase(page: Any, phase: str) -> dict[str, Any]:
    page.get_by_role("button", name="Next phase").click()
    return shows(page, phase)


def test_the_graph_survives_a_page_switch_and_a_lost_cache(page: Any, app_url: str) -> None:
    page.goto(app_url + LESSON_LINK)
    expect(page.get_by_text(STATUS)).to_contain_text("step 0")
    for phase in ("forward, layer 1", "forward, layer 2", "forward, layer 3"):
        next_phase(page, phase)
    page.get_by_role("link", name="Compare").click()
    expect(page.get_by_role("button", name="Next phase")).to_have_count(0)
    page.get_by_role("link", name="Explorer").click()
    shows(page, "forward, layer 3")  # a new chart, drawn from the traces the page held
    next_phase(page, "error")
    click_neuron(page, -10, "output (softmax), unit 0 (batch)")  # the first output unit
    # The page loses what it held: the next click's unchanged traces cannot be filled in, it
    # asks again, and the whole figure comes.
    page.evaluate("() => window.__explorerGraphTraces.clear()")
    next_phase(page, "backward, layer 3")
    click_neuron(page, -1, "output (softmax), unit 9 (batch)")


# Before a click: each trace's drawn x array, kept on the window; after it: how many traces kept
# the very array plotly drew (so Plotly.react need not recalculate them), and whether every
# trace the chart holds has its arrays decoded (not plotly's {dtype, bdata} specs).
BEFORE = """() => {
  const g = [...document.querySelectorAll('.js-plotly-plot')]
      .find(g => g._fullData && g._fullData.some(d => d.name === 'neurons'));
  window.__drawnX = g._fullData.map(d => d.x);
}"""
AFTER = """() => {
  const g = [...document.querySelectorAll('.js-plotly-plot')]
      .find(g => g._fullData && g._fullData.some(d => d.name === 'neurons'));
  const kept = g._fullData.filter(d => d.x && window.__drawnX.includes(d.x)).length;
  const decoded = g.data.every(t => t.x === undefined || ArrayBuffer.isView(t.x));
  return {kept, decoded, traces: g.data.length};
}"""


def test_an_unchanged_trace_keeps_the_arrays_plotly_drew(page: Any, app_url: str) -> None:
    page.goto(app_url + LESSON_LINK)
    expect(page.get_by_text(STATUS)).to_contain_text("step 0")
    next_phase(page, "forward, layer 1")
    page.evaluate(BEFORE)
    next_phase(page, "forward, layer 2")  # changes layer 2's edges and the neurons, not layer 1's
    after = page.evaluate(AFTER)
    assert after["decoded"], after
    assert after["kept"] >= 3, after  # the input image, its edges, the untouched layers'
