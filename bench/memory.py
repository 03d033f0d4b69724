"""Memory per session after 200 steps: the Stepper's step-back history, before and after it
kept whole states only every 16 entries (explorer/engine/history.py).

For each tree (the old code, ``--old``, a checkout of e79e9f1 by default, and this one) a
child process with that tree first on its path builds the Explorer's run exactly as the page
does (``explorer.ui.session.build`` from the sidebar's settings of the lesson's network,
784-16-16-10 on the MNIST sample, ReLU, softmax + cross-entropy, batch 32, seed 0; the Stepper's
default history limit, which the page keeps) and presses "Complete step" 200 times
(``session.act(run, Stepper.finish_step)``, which also records the live metrics), then Back 50
times. The shared dataset is loaded before anything is measured: it is one per process, not
per session. Three passes, each on a fresh run:

1. RSS, no tracing: the process's resident memory before the run is built, after, after 200
   steps and after 50 step backs; each step back timed.
2. tracemalloc: the traced memory still held at the same points, over a baseline taken after
   the dataset was loaded, and the most held right after any of the step backs (a walk back
   keeps the states it rebuilds until the next action). Also the bytes reachable from the
   Stepper (its states and history, the dataset's arrays left out), walked object by object,
   as a cross-check.
3. exactness: 200 steps keeping every state, then 200 step backs, each compared with the state
   recorded at that step going forward (every array with np.array_equal, the rest with ==).

Prints a table and one JSON line; about a minute. Not part of the test run.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import os
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from types import BuiltinFunctionType, CodeType, FunctionType, MethodType, ModuleType
from typing import Any

import numpy as np

HERE = Path(__file__).resolve()
NEW = HERE.parents[1]
OLD = Path("/tmp/old")
STEPS = 200
BACKS = 50
TARGET_MIB = 15.0
MIB = 2**20


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


# -- in the child: the tree under test is first on sys.path ---------------------------------
def lesson_run() -> tuple[Any, Any, Any]:
    """(build, act, dataset): the page's own functions and the shared MNIST sample."""
    from explorer.data import load_dataset
    from explorer.state.settings import Settings
    from explorer.ui.session import act, build

    dataset = load_dataset("mnist-sample")
    settings = Settings(
        dataset="mnist-sample",
        hidden_sizes=(16, 16),
        hidden_activations=("relu", "relu"),
        head="softmax + cross-entropy",
        batch_size=32,
    )
    return (lambda data: build(settings, data)), act, dataset


def history_limit(stepper: Any) -> int:
    """The per-tree adapter: the old Stepper kept a deque of states, the new one a History."""
    h = stepper._history
    return int(h.maxlen) if hasattr(h, "maxlen") else int(h._limit)


def step(act: Any, run: Any) -> None:
    from explorer.engine import Stepper

    act(run, Stepper.finish_step)


def reachable_bytes(root: Any, exclude: set[int]) -> int:
    """Bytes of the objects reachable from ``root`` (numpy data included once per buffer),
    not following into code, modules, classes or the ids in ``exclude``."""
    skip = (type, ModuleType, FunctionType, BuiltinFunctionType, CodeType)
    seen: set[int] = set(exclude)
    stack = [root]
    total = 0
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, skip):
            continue
        seen.add(id(obj))
        if isinstance(obj, MethodType):  # a bound method: its object, not its function
            stack.append(obj.__self__)
            continue
        total += sys.getsizeof(obj)  # an array that owns its data counts its data
        if isinstance(obj, np.ndarray):
            if obj.base is not None:
                stack.append(obj.base)
            continue
        stack.extend(gc.get_referents(obj))
    return total


def flat(obj: Any, path: str = "state") -> Iterator[tuple[str, Any]]:
    """(path, leaf) for every array and scalar in a state, through dataclasses and tuples."""
    if isinstance(obj, np.ndarray):
        yield path, obj
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        if path.endswith(".trail"):  # recorded events: compared whole
            yield path, obj
            return
        for f in dataclasses.fields(obj):
            yield from flat(getattr(obj, f.name), f"{path}.{f.name}")
    elif isinstance(obj, tuple) and not path.endswith(".trail"):
        for i, item in enumerate(obj):
            yield from flat(item, f"{path}[{i}]")
    else:
        yield path, obj


def differences(a: Any, b: Any) -> list[str]:
    left, right = list(flat(a)), list(flat(b))
    if [p for p, _ in left] != [p for p, _ in right]:
        return ["the states have different fields"]
    out = []
    for (path, x), (_, y) in zip(left, right, strict=True):
        same = (
            isinstance(y, np.ndarray) and x.dtype == y.dtype and np.array_equal(x, y)
            if isinstance(x, np.ndarray)
            else x == y
        )
        if not same:
            out.append(path)
    return out


def child() -> dict[str, Any]:
    import explorer

    build, act, dataset = lesson_run()
    exclude = {id(dataset), *(id(v) for v in vars(dataset).values())}
    # Warm every code path (imports, numpy's and the engine's caches) before measuring.
    warm = build(dataset)
    for _ in range(3):
        step(act, warm)
    for _ in range(2):
        warm.stepper.step_back()
    del warm
    gc.collect()

    # 1. RSS, and the step backs timed, without tracing.
    rss = {"before": rss_mib()}
    run = build(dataset)
    limit = history_limit(run.stepper)
    rss["built"] = rss_mib()
    t0 = time.perf_counter()
    for _ in range(STEPS):
        step(act, run)
    step_s = (time.perf_counter() - t0) / STEPS
    rss["stepped"] = rss_mib()
    back_s = []
    for _ in range(BACKS):
        t = time.perf_counter()
        assert run.stepper.step_back()
        back_s.append(time.perf_counter() - t)
    run.forget_future()
    rss["back"] = rss_mib()
    at_back = run.stepper.state.step
    del run
    gc.collect()

    # 2. tracemalloc.
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    traced: dict[str, float] = {}
    held: dict[str, float] = {}
    run = build(dataset)
    gc.collect()
    traced["built"] = (tracemalloc.get_traced_memory()[0] - base) / MIB
    held["built"] = reachable_bytes(run.stepper, exclude) / MIB
    for _ in range(STEPS):
        step(act, run)
    gc.collect()
    traced["stepped"] = (tracemalloc.get_traced_memory()[0] - base) / MIB
    held["stepped"] = reachable_bytes(run.stepper, exclude) / MIB
    most = 0
    for _ in range(BACKS):
        assert run.stepper.step_back()
        most = max(most, tracemalloc.get_traced_memory()[0])
    traced["most_while_back"] = (most - base) / MIB
    run.forget_future()
    gc.collect()
    traced["back"] = (tracemalloc.get_traced_memory()[0] - base) / MIB
    held["back"] = reachable_bytes(run.stepper, exclude) / MIB
    tracemalloc.stop()
    del run
    gc.collect()

    # 3. step back is exact: every state going forward, against each step back.
    run = build(dataset)
    forward = [run.stepper.state]
    for _ in range(STEPS):
        step(act, run)
        forward.append(run.stepper.state)
    wrong = []
    for n in range(1, STEPS + 1):
        assert run.stepper.step_back(), f"no step back {n}"
        if diff := differences(run.stepper.state, forward[STEPS - n]):
            wrong.append({"back": n, "fields": diff[:5]})
    exhausted = not run.stepper.step_back()

    return {
        "tree": str(Path(explorer.__file__).resolve().parents[1]),
        "history_limit": limit,
        "rss_mib": rss,
        "traced_mib": traced,
        "reachable_mib": held,
        "step_ms": 1000 * step_s,
        "step_back_ms": [1000 * t for t in back_s],
        "step_after_backs": at_back,
        "exact": {"checked": STEPS, "wrong": wrong, "history_exhausted_after": exhausted},
    }


# -- the parent ---------------------------------------------------------------------------
def measure(tree: Path) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run(
        [sys.executable, str(HERE), "--child"],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode:
        raise RuntimeError(f"{tree}: exit {out.returncode}\n{out.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(out.stdout.splitlines()[-1])
    if Path(result["tree"]) != tree.resolve():
        raise RuntimeError(f"asked for {tree}, imported explorer from {result['tree']}")
    return result


def commit(tree: Path) -> str:
    out = subprocess.run(
        ["git", "-C", str(tree), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    )
    return out.stdout.strip() or tree.name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", type=Path, default=OLD, help="checkout of the old code")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child()))
        return
    trees = {"old": args.old, "new": NEW}
    if not (args.old / "explorer").is_dir():
        print(f"No old tree at {args.old} (git worktree add {args.old} e79e9f1): new code only")
        del trees["old"]
    results = {name: measure(tree) for name, tree in trees.items()}
    for name, tree in trees.items():
        results[name]["commit"] = commit(tree)

    def per_session(r: dict[str, Any], key: str, at: str) -> float:
        return float(r[key][at] - (r[key]["before"] if key == "rss_mib" else 0.0))

    rows = [
        ("traced, built (MiB)", "traced_mib", "built"),
        (f"traced, {STEPS} steps (MiB)", "traced_mib", "stepped"),
        (f"traced, {STEPS} steps + {BACKS} back (MiB)", "traced_mib", "back"),
        (f"traced, most during the {BACKS} back (MiB)", "traced_mib", "most_while_back"),
        (f"reachable, {STEPS} steps (MiB)", "reachable_mib", "stepped"),
        ("RSS growth, built (MiB)", "rss_mib", "built"),
        (f"RSS growth, {STEPS} steps (MiB)", "rss_mib", "stepped"),
        (f"RSS growth, {STEPS} steps + {BACKS} back (MiB)", "rss_mib", "back"),
    ]
    limits = " / ".join(f"{r['history_limit']} ({name})" for name, r in results.items())
    print("Memory per session, 784-16-16-10 on the MNIST sample, batch 32, history limit " + limits)
    names = list(results)
    both = len(names) == 2
    print(
        f"{'measure':<36}"
        + "".join(f"{name + ' ' + results[name]['commit']:>14}" for name in names)
        + (f"{'ratio':>8}" if both else "")
    )
    table: dict[str, dict[str, float | None]] = {}
    for label, key, at in rows:
        row: dict[str, float | None] = {n: per_session(results[n], key, at) for n in names}
        line = f"{label:<36}" + "".join(f"{row[n]:>14.2f}" for n in names)
        if both:
            a, b = row["old"], row["new"]
            row["ratio"] = b / a if a and b is not None else None
            line += f"{row['ratio']:>8.3f}" if row["ratio"] is not None else f"{'-':>8}"
        table[label] = row
        print(line)
    exact = True
    for name, r in results.items():
        backs = r["step_back_ms"]
        exact = exact and not r["exact"]["wrong"] and r["exact"]["history_exhausted_after"]
        print(
            f"{name}: step {r['step_ms']:.2f} ms (with the page's metrics); step back median "
            f"{statistics.median(backs):.3f} ms, mean {statistics.mean(backs):.2f} ms, max "
            f"{max(backs):.2f} ms, {sum(t > 1 for t in backs)} of {len(backs)} over 1 ms; "
            f"at step {r['step_after_backs']} after {BACKS} back; exact over "
            f"{r['exact']['checked']} step backs: "
            f"{'yes' if not r['exact']['wrong'] else 'NO ' + str(r['exact']['wrong'][:3])}"
        )
    after = results["new"]["traced_mib"]["stepped"]
    print(
        f"Target <= {TARGET_MIB:g} MiB per session after {STEPS} steps (traced): "
        f"{'met' if after <= TARGET_MIB else 'MISSED'} ({after:.2f})"
    )
    print(
        json.dumps(
            {
                "bench": "memory",
                "network": "784-16-16-10",
                "steps": STEPS,
                "backs": BACKS,
                "table": table,
                "step_back_median_ms": {
                    k: statistics.median(r["step_back_ms"]) for k, r in results.items()
                },
                "exact": exact,
                "target_mib": TARGET_MIB,
                "results": results,
            }
        )
    )
    if not exact:
        sys.exit(1)


if __name__ == "__main__":
    main()
