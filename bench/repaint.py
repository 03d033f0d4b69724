"""Next phase -> graph repainted, in chromium with the real app, on the lesson's 784-16-16-10 and
the widest network the sidebar builds (784-128x6-10), with where the time goes.

Starts the app from this checkout and, with ``--baseline DIR``, a second copy from DIR (an
exported tree: ``git archive <ref> | tar -x -C DIR``) on its own port; opens one browser page
per app and network through a shared link, warms up, then clicks Next phase ``--clicks`` times
per app, the two apps interleaved click by click so that load from other work on the machine
falls on both alike. A click is timed inside the page: from the button's click() to the first
animation frame whose graph shows the new phase's name under its layer. The page's websocket
is wrapped to time and size each message, which splits a click into

- server: click -> the message carrying the graph arrives (the fragment's rerun, the figure's
  build and JSON, the transfer, which on loopback is the size more than the wire);
- browser: that message -> the repainted frame (protobuf decode, React, plotly);

and plotly alone is timed apart: the same figures, built in Python for one step's phases, given
to ``Plotly.react`` in a blank page (the python package's plotly.min.js, the same major version
Streamlit bundles).

Prints a table and one JSON line; medians. Not part of the test run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import plotly
from playwright.sync_api import Page, expect, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "deploy"))  # local_server
from local_server import CHROMIUM, CHROMIUM_ARGS, ROOT, app_command, free_port
from local_server import wait_healthy as healthy

LESSON = {
    "dataset": "mnist-sample",
    "hidden_sizes": "16,16",
    "hidden_activations": "relu,relu",
    "head": "softmax + cross-entropy",
    "batch_size": "32",
}
NETWORKS = {
    "784-16-16-10": LESSON,
    "784-128x6-10": {
        **LESSON,
        "hidden_sizes": ",".join(["128"] * 6),
        "hidden_activations": ",".join(["relu"] * 6),
    },
}
WARMUP = 4
PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"

# Every websocket message with its time and size, on the page's own clock.
WRAP_WEBSOCKET = """
(() => {
  const Base = window.WebSocket;
  window.__ws = [];
  const size = d => d.byteLength ?? d.size ?? d.length ?? 0;
  class Timed extends Base {
    constructor(...args) {
      super(...args);
      const note = e => window.__ws.push(['in', performance.now(), size(e.data)]);
      this.addEventListener('message', note);
    }
    send(d) { window.__ws.push(['out', performance.now(), size(d)]); return super.send(d); }
  }
  window.WebSocket = Timed;
})();
"""

# Click Next phase; resolve at the first frame whose network graph names the expected phase.
CLICK = """
async (expected) => {
  const graph = () => [...document.querySelectorAll('.js-plotly-plot')]
      .find(g => g._fullData && g._fullData.some(d => d.name === 'neurons'));
  const shows = () => {
    const g = graph();
    return !!g && [...g.querySelectorAll('.annotation-text, .textpoint text')]
        .some(e => e.textContent.includes(expected));
  };
  const button = [...document.querySelectorAll('button')]
      .find(b => b.innerText.includes('Next phase'));
  const mark = window.__ws.length;
  const t0 = performance.now();
  button.click();
  await new Promise(done => {
    const check = () => (shows() ? done() : requestAnimationFrame(check));
    requestAnimationFrame(check);
  });
  const t1 = performance.now();
  const msgs = window.__ws.slice(mark).filter(m => m[1] <= t1);
  const incoming = msgs.filter(m => m[0] === 'in');
  const biggest = incoming.reduce((a, m) => (m[2] > a[2] ? m : a), ['in', t1, 0]);
  return {total: t1 - t0, server: biggest[1] - t0, browser: t1 - biggest[1],
          bytes: incoming.reduce((s, m) => s + m[2], 0)};
}
"""


@contextmanager
def serving(root: Path) -> Iterator[str]:
    """The app from ``root`` on a free loopback port (its own ``explorer`` package first)."""
    port = free_port()
    cmd = [str(root / "app.py") if c == str(ROOT / "app.py") else c for c in app_command(port)]
    env = {**os.environ, "PYTHONPATH": str(root)}
    proc = subprocess.Popen(
        cmd, cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    try:
        healthy(url, proc, time.monotonic() + 90)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def phase_names(n_layers: int) -> list[str]:
    return [
        *(f"forward, layer {i + 1}" for i in range(n_layers)),
        "error",
        *(f"backward, layer {i + 1}" for i in reversed(range(n_layers))),
        "update",
    ]


class Session:
    """One app's page on one network, and the phase its next click runs."""

    def __init__(self, browser: Any, url: str, query: dict[str, str], n_layers: int) -> None:
        self.context = browser.new_context(viewport={"width": 1400, "height": 1000})
        self.context.add_init_script(WRAP_WEBSOCKET)
        self.page: Page = self.context.new_page()
        self.page.goto(f"{url}/?{urllib.parse.urlencode(query)}")
        expect(self.page.get_by_role("button", name="Next phase")).to_be_enabled(timeout=120_000)
        expect(self.page.locator(".js-plotly-plot").first).to_be_visible(timeout=120_000)
        self.phases = phase_names(n_layers)
        self.done = 0

    def click(self) -> dict[str, float]:
        self.page.bring_to_front()
        expected = self.phases[self.done % len(self.phases)]
        self.done += 1
        result: dict[str, float] = self.page.evaluate(CLICK, expected)
        self.page.wait_for_timeout(150)  # the rest of the rerun lands before the next click
        return result


def plotly_alone(browser: Any, root: Path, network: str, repeats: int) -> float:
    """Median ms of Plotly.react from one phase's figure to the next, in a blank page."""
    figures = json.loads(
        subprocess.run(
            [sys.executable, __file__, "--figures", network],
            env={**os.environ, "PYTHONPATH": str(root)},
            cwd=root,
            capture_output=True,
            check=True,
        ).stdout
    )
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_content("<div id='g' style='width:1000px'></div>")
    page.add_script_tag(path=str(PLOTLY_JS))
    times = page.evaluate(
        """async ([figs, repeats]) => {
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


def dump_figures(network: str) -> None:
    """Print, as JSON, the page's default graph at each phase of one step of ``network``:
    run with PYTHONPATH set to the tree whose figures are wanted."""
    import numpy as np

    from explorer.engine import LayerSpec, NetworkSpec, Stepper, TrainConfig
    from explorer.figures import network as module
    from explorer.figures import network_figure

    hidden = [16, 16] if network == "784-16-16-10" else [128] * 6
    spec = NetworkSpec(
        784,
        (*(LayerSpec(n, "relu") for n in hidden), LayerSpec(10, "softmax")),
        "cross_entropy",
    )
    rng = np.random.default_rng(0)
    x, y = rng.random((64, 784)), rng.integers(0, 10, 64)
    stepper = Stepper(spec, TrainConfig(batch_size=32), x, y)

    defaults = {"color_by": "phase", "edge_by": "phase"} if hasattr(module, "PHASE") else {}
    out = []
    for _ in stepper.phases:
        stepper.advance()
        fig = network_figure(
            spec, stepper.state, phase=stepper.last_phase, input_shape=(28, 28), **defaults
        )
        out.append(json.loads(plotly.io.to_json(fig, validate=False)))
    print(json.dumps(out))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", type=Path, help="an exported tree to compare against")
    parser.add_argument("--clicks", type=int, default=20)
    parser.add_argument("--networks", nargs="*", default=list(NETWORKS))
    parser.add_argument("--figures", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.figures:
        dump_figures(args.figures)
        return
    if not CHROMIUM.exists():
        print(json.dumps({"bench": "repaint", "skipped": "Debian's chromium is not installed"}))
        return
    roots = {"now": ROOT} | ({"baseline": args.baseline.resolve()} if args.baseline else {})
    results: dict[str, dict[str, dict[str, float]]] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        with (
            serving(roots["now"]) as now_url,
            serving(roots["baseline"]) if "baseline" in roots else _none() as base_url,
        ):
            urls = {"now": now_url} | ({"baseline": base_url} if base_url else {})
            for network in args.networks:
                n_layers = 3 if network == "784-16-16-10" else 7
                query = NETWORKS[network]
                sessions = {k: Session(browser, u, query, n_layers) for k, u in urls.items()}
                for s in sessions.values():
                    for _ in range(WARMUP):
                        s.click()
                runs: dict[str, list[dict[str, float]]] = {k: [] for k in sessions}
                for _ in range(args.clicks):
                    for k, s in sessions.items():
                        runs[k].append(s.click())
                for k, s in sessions.items():
                    s.context.close()
                    row = {m: statistics.median(r[m] for r in runs[k]) for m in runs[k][0]}
                    row["max"] = max(r["total"] for r in runs[k])
                    row["plotly"] = plotly_alone(browser, roots[k], network, 2 * args.clicks)
                    results.setdefault(network, {})[k] = row
        browser.close()
    head = f"{'network':<15}{'code':<10}{'median ms':>10}{'max':>8}{'server':>8}{'browser':>9}"
    print(head + f"{'plotly':>8}{'KB in':>8}{'ratio':>7}")
    for network, rows in results.items():
        for k, r in rows.items():
            ratio = r["total"] / rows["baseline"]["total"] if "baseline" in rows else 1.0
            print(
                f"{network:<15}{k:<10}{r['total']:>10.0f}{r['max']:>8.0f}{r['server']:>8.0f}"
                f"{r['browser']:>9.0f}{r['plotly']:>8.0f}{r['bytes'] / 1024:>8.0f}{ratio:>7.2f}"
            )
    print(json.dumps({"bench": "repaint", "clicks": args.clicks, "results": results}))


@contextmanager
def _none() -> Iterator[None]:
    yield None


if __name__ == "__main__":
    main()
