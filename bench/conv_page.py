"""The Convolution page's server rerun of a Next phase click, in AppTest, on the default CNN
(28x28 -> conv 3x3 x4 -> ReLU -> max-pool 2x2 -> dense 10, MNIST sample, batch 32).

Each tree (this checkout, and each ``--baseline DIR``, an exported tree: ``git archive <ref> |
tar -x -C DIR``) runs in a worker process of its own, with its own ``explorer`` first on the
path; the driver sends one click at a time to each worker in turn, so that load from other work
on the machine falls on all alike. A click is ``at.button(key="cb_phase").click().run()``,
timed in the worker; a step's six phases cycle, so a sixth of the clicks are the update, which
also records the network (its loss and accuracy on 500 images of each set). ``--warmup``
clicks first, then ``--clicks`` timed ones per tree. ``--profile N``: cProfile of N clicks in
this checkout, the functions with the most cumulative time.

Prints a table (median over all clicks, and per phase) and one JSON line. Not part of the test
run.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PAGE = "app_pages/convolution.py"


def _app(root: Path) -> Any:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(root / "app.py"), default_timeout=120).run()
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def _status(at: Any) -> str:
    lines = [c.value for c in at.caption if str(c.value).startswith("Epoch ")]
    return str(lines[0]).split("done: ")[1].split(" · ")[0] if lines else "?"


def worker(root: Path) -> None:
    """Answer each line "click" on stdin with the click's ms and the phase it ran."""
    sys.path.insert(0, str(root))
    os.chdir(root)
    at = _app(root)
    import explorer

    assert Path(explorer.__file__).resolve().is_relative_to(root), explorer.__file__
    print(json.dumps({"ready": str(root)}), flush=True)
    for line in sys.stdin:
        if line.strip() != "click":
            break
        t = time.perf_counter()
        at.button(key="cb_phase").click().run()
        ms = (time.perf_counter() - t) * 1000
        assert not at.exception, at.exception
        print(json.dumps({"ms": ms, "phase": _status(at)}), flush=True)


def profile(clicks: int, warmup: int, top: int) -> None:
    """cProfile of the script's runs: AppTest runs each in a thread of its own, so each thread
    is profiled (the waiting test thread is not) and the stats added up."""
    from streamlit.testing.v1.local_script_runner import LocalScriptRunner

    at = _app(ROOT)
    for _ in range(warmup):
        at.button(key="cb_phase").click().run()
    out = io.StringIO()
    stats = pstats.Stats(stream=out)
    plain = LocalScriptRunner._run_script_thread

    def profiled(self: Any) -> None:
        prof = cProfile.Profile()
        prof.runcall(plain, self)
        stats.add(prof)

    LocalScriptRunner._run_script_thread = profiled  # type: ignore[method-assign]
    try:
        for _ in range(clicks):
            at.button(key="cb_phase").click().run()
    finally:
        LocalScriptRunner._run_script_thread = plain  # type: ignore[method-assign]
    stats.sort_stats("cumulative").print_stats(top)
    print(out.getvalue())


class Worker:
    def __init__(self, root: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--worker", str(root)],
            cwd=root,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self._read()  # ready

    def _read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("the worker stopped")
            if line.startswith("{"):
                found: dict[str, Any] = json.loads(line)
                return found

    def click(self) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write("click\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clicks", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=6)
    parser.add_argument("--baseline", type=Path, action="append", default=[])
    parser.add_argument("--profile", type=int, default=0, metavar="N")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker)
        return
    if args.profile:
        profile(args.profile, args.warmup, args.top)
        return
    roots = {"now": ROOT} | {p.name: p.resolve() for p in args.baseline}
    workers = {name: Worker(root) for name, root in roots.items()}
    times: dict[str, list[dict[str, Any]]] = {name: [] for name in roots}
    try:
        for i in range(args.warmup + args.clicks):
            for name, w in workers.items():
                got = w.click()
                if i >= args.warmup:
                    times[name].append(got)
    finally:
        for w in workers.values():
            w.close()
    rows = {}
    for name, clicks in times.items():
        by_phase: dict[str, list[float]] = {}
        for c in clicks:
            by_phase.setdefault(c["phase"], []).append(c["ms"])
        rows[name] = {
            "median_ms": statistics.median(c["ms"] for c in clicks),
            "phases": {p: statistics.median(v) for p, v in by_phase.items()},
        }
    phases = list(rows["now"]["phases"])
    print(f"Next phase, server rerun in AppTest, medians of {args.clicks} clicks (ms)")
    print(f"{'phase':<28}" + "".join(f"{name:>12}" for name in rows))
    for p in phases:
        cells = (r["phases"].get(p, float("nan")) for r in rows.values())
        print(f"{p:<28}" + "".join(f"{c:>12.1f}" for c in cells))
    print(f"{'all clicks':<28}" + "".join(f"{r['median_ms']:>12.1f}" for r in rows.values()))
    for name in rows:
        if name != "now":
            ratio = rows["now"]["median_ms"] / rows[name]["median_ms"]
            print(f"now / {name}: {ratio:.2f}")
    load = os.getloadavg()[0]
    print(json.dumps({"bench": "conv_page", "clicks": args.clicks, "load": load, "rows": rows}))


if __name__ == "__main__":
    main()
