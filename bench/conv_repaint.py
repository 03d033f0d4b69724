"""Convolution page: Next phase -> repainted maps, in chromium with the real app, on the
default CNN (28x28 -> conv 3x3 x4 -> ReLU -> max-pool 2x2 -> dense 10, the MNIST sample,
batch 32); issue 17's target is <= 400 ms median.

Starts the app from this checkout, opens the Convolution page, warms up (``WARMUP`` clicks),
then clicks Next phase ``--clicks`` times, walking whole steps phase by phase. A click is timed
inside the page, from the button's click() to the first animation frame in which the status
line names the new phase and every conv block's chart is the one for that phase, alone (the
title the page gives it then: forward values or gradients, "just computed" on the block whose
phase ran; a changed chart briefly stands beside the one it replaces). The dense part's graph
is not waited for. The page's websocket is wrapped (``bench/repaint.py``'s wrapper) to split a
click into

- server: click -> the largest message of the rerun arrives (the fragment's rerun, the
  figures' build and JSON, the transfer);
- browser: that message -> the repainted frame (protobuf decode, React, plotly);

and plotly alone is timed apart: conv block 1's figure at each phase of one step, built here
as the page builds it, given to ``Plotly.react`` in a blank page (the python package's
plotly.min.js), with that figure's JSON size.

Prints a table (per phase and overall) and one JSON line; medians. Not part of the test run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import plotly
from playwright.sync_api import Page, expect, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "deploy"))  # local_server
from local_server import CHROMIUM, CHROMIUM_ARGS, ROOT
from repaint import PLOTLY_JS, WARMUP, WRAP_WEBSOCKET, serving  # bench/repaint.py

from explorer.engine.conv import BlockGradients
from explorer.engine.walker import Phase
from explorer.figures.conv import block_figure
from explorer.ui.conv_session import ConvSettings, build_conv, phase_name

TIMEOUT_MS = 20_000  # a frame that never comes is a page that changed its titles: say so

# Click Next phase; resolve at the first frame that shows the expected status and block charts.
CLICK = """
async ([status, titles, timeout]) => {
  const charts = () => [...document.querySelectorAll('.js-plotly-plot')]
      .filter(g => g._fullLayout && g._fullLayout.title);
  const shows = () => {
    const line = [...document.querySelectorAll('[data-testid="stCaptionContainer"]')]
        .some(e => e.textContent.includes(status));
    if (!line) return false;
    const drawn = charts().map(g => String(g._fullLayout.title.text).replace(/<[^>]*>/g, ''));
    return titles.every((t, b) => {
      const mine = drawn.filter(d => d.startsWith(`Conv block ${b + 1} ·`));
      return mine.length === 1 && mine[0] === t;
    });
  };
  const button = [...document.querySelectorAll('button')]
      .find(b => b.innerText.includes('Next phase'));
  const mark = window.__ws.length;
  const t0 = performance.now();
  button.click();
  const seen = await new Promise(done => {
    const check = () => (shows() ? done(true)
        : performance.now() - t0 > timeout ? done(false) : requestAnimationFrame(check));
    requestAnimationFrame(check);
  });
  const t1 = performance.now();
  const incoming = window.__ws.slice(mark).filter(m => m[0] === 'in' && m[1] <= t1);
  const biggest = incoming.reduce((a, m) => (m[2] > a[2] ? m : a), ['in', t1, 0]);
  return {seen, total: t1 - t0, server: biggest[1] - t0, browser: t1 - biggest[1],
          bytes: incoming.reduce((s, m) => s + m[2], 0)};
}
"""


def block_titles(phases: tuple[Phase, ...], done: int, n_blocks: int) -> list[str]:
    """Each block chart's title once phase ``done`` (0-based, within the step) has run: as
    ``explorer.ui.conv_view.block_chart`` words it when the maps follow the phase."""
    last = phases[done]
    titles = []
    for block in range(n_blocks):
        reached = done >= phases.index(Phase("backward", block))
        grads = reached and last.kind in ("backward", "update")
        title = f"Conv block {block + 1} · {'gradients (backward)' if grads else 'forward values'}"
        if last.layer == block:
            title += f" · just computed: {last.kind}"
        titles.append(title)
    return titles


class ConvSession:
    """The Convolution page in one browser context, and the phase its next click runs."""

    def __init__(self, browser: Any, url: str) -> None:
        run = build_conv(ConvSettings())
        self.spec, self.phases = run.spec, tuple(run.stepper.phases)
        self.context = browser.new_context(viewport={"width": 1400, "height": 1000})
        self.context.add_init_script(WRAP_WEBSOCKET)
        self.page: Page = self.context.new_page()
        self.page.goto(f"{url}/convolution")
        expect(self.page.get_by_role("button", name="Next phase")).to_be_enabled(timeout=120_000)
        expect(self.page.locator(".js-plotly-plot").first).to_be_visible(timeout=120_000)
        self.done = 0

    def click(self) -> tuple[str, dict[str, float]]:
        index = self.done % len(self.phases)
        self.done += 1
        name = phase_name(self.spec, self.phases[index])
        titles = block_titles(self.phases, index, self.spec.n_blocks)
        result: dict[str, Any] = self.page.evaluate(CLICK, [f"done: {name} ·", titles, TIMEOUT_MS])
        if not result.pop("seen"):
            raise RuntimeError(f"After {name!r} the page never showed {titles}")
        self.page.wait_for_timeout(150)  # the rest of the rerun lands before the next click
        return name, result


def block_figures() -> list[str]:
    """Conv block 1's figure (JSON) after each phase of the default CNN's first step, with
    the title and the gradients the page gives it when the maps follow the phase."""
    run = build_conv(ConvSettings())
    phases = tuple(run.stepper.phases)
    out = []
    for done in range(len(phases)):
        run.act("advance")
        g = run.stepper.state.layer_gradients(0)
        [title] = block_titles(phases, done, 1)
        fig = block_figure(
            run.spec,
            run.stepper.state,
            0,
            sample=0,
            params=run.forward_params(),
            gradients=g if isinstance(g, BlockGradients) and "gradients" in title else None,
            current=phases[done].layer == 0,
            title=title,
        )
        out.append(plotly.io.to_json(fig, validate=False))
    return out


def plotly_alone(browser: Any, figures: list[str], repeats: int) -> float:
    """Median ms of Plotly.react from one phase's block figure to the next, in a blank page."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_content("<div id='g' style='width:900px'></div>")
    page.add_script_tag(path=str(PLOTLY_JS))
    times = page.evaluate(
        """async ([texts, repeats]) => {
          const figs = texts.map(t => JSON.parse(t));
          const g = document.getElementById('g');
          await Plotly.newPlot(g, figs[0]);
          const out = [];
          for (let r = 0; r < repeats; r++) {
            const f = figs[(r + 1) % figs.length];
            const t0 = performance.now();
            await Plotly.react(g, f.data, f.layout);
            await new Promise(requestAnimationFrame);
            out.push(performance.now() - t0);
          }
          return out;
        }""",
        [figures, repeats],
    )
    page.close()
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clicks", type=int, default=20)
    args = parser.parse_args()
    if not CHROMIUM.exists():
        print(json.dumps({"bench": "conv_repaint", "skipped": "Debian's chromium is missing"}))
        return
    clicks: list[tuple[str, dict[str, float]]] = []
    with sync_playwright() as p, serving(ROOT) as url:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        session = ConvSession(browser, url)
        for _ in range(WARMUP):
            session.click()
        clicks = [session.click() for _ in range(args.clicks)]
        session.context.close()
        figures = block_figures()
        alone = plotly_alone(browser, figures, 2 * args.clicks)
        browser.close()
    by_phase: dict[str, list[dict[str, float]]] = defaultdict(list)
    for name, result in clicks:
        by_phase[name].append(result)
    rows = {"all": _medians([r for _, r in clicks])}
    rows |= {name: _medians(results) for name, results in by_phase.items()}
    print(f"{'phase':<24}{'clicks':>7}{'median ms':>10}{'max':>8}{'server':>8}{'browser':>9}")
    for name, r in rows.items():
        print(
            f"{name:<24}{r['clicks']:>7.0f}{r['total']:>10.0f}{r['max']:>8.0f}"
            f"{r['server']:>8.0f}{r['browser']:>9.0f}"
        )
    kb = statistics.median(len(f) for f in figures) / 1024
    print(f"conv block 1's figure alone: Plotly.react {alone:.0f} ms median, {kb:.0f} KB JSON")
    block = {"plotly_react_ms": alone, "json_kb": kb}
    print(json.dumps({"bench": "conv_repaint", "clicks": args.clicks, "results": rows} | block))


def _medians(results: list[dict[str, float]]) -> dict[str, float]:
    row = {m: statistics.median(r[m] for r in results) for m in results[0]}
    return row | {"max": max(r["total"] for r in results), "clicks": float(len(results))}


if __name__ == "__main__":
    main()
