"""Benchmark of the network figure (docs/design.md, "What the browser gets").

Builds ``network_figure`` after one full step, 20 times per case, and reports the median build
time and the JSON size: for 784-16-16-10 on random 28x28 data against the budgets (25 ms,
60 KB), and for the widest network the sidebar allows (2-128x6-1, 82,000 edges), which has no
budget but must stay usable. Prints a table and one JSON line. Left out: paint time in a
browser (measured by hand, bench/RESULTS.md).
"""

from __future__ import annotations

import json
import statistics
import time
from typing import Any

import numpy as np

from explorer.engine import LayerSpec, NetworkSpec, Stepper, TrainConfig
from explorer.figures import network_figure

BUILD_MS_BUDGET = 25.0
JSON_KB_BUDGET = 60.0
REPEATS = 20


def stepped(spec: NetworkSpec) -> Stepper:
    """A Stepper on random data, one full step in."""
    rng = np.random.default_rng(0)
    x = rng.random((512, spec.input_size))
    n_out = spec.layers[-1].size
    y = rng.integers(0, n_out, size=512) if n_out > 1 else rng.random((512, 1))
    stepper = Stepper(spec, TrainConfig(batch_size=32), x, y, seed=0)
    stepper.finish_step()
    return stepper


def main() -> None:
    lesson = NetworkSpec(
        784,
        (LayerSpec(16, "relu"), LayerSpec(16, "relu"), LayerSpec(10, "softmax")),
        "cross_entropy",
    )
    wide = NetworkSpec(2, (*(LayerSpec(128, "relu") for _ in range(6)), LayerSpec(1, "sigmoid")))
    # (name, spec, color_by, edge_by, sample)
    cases = [
        ("a by weight, batch", lesson, "a", "weight", None),
        ("delta by gradient, sample 0", lesson, "input_der", "weight_der", 0),
        ("wide: delta by gradient", wide, "input_der", "weight_der", None),
    ]
    steppers = {spec: stepped(spec) for spec in (lesson, wide)}
    rows: list[dict[str, Any]] = []
    for name, spec, color_by, edge_by, sample in cases:
        stepper = steppers[spec]
        times = []
        for _ in range(REPEATS):
            start = time.perf_counter()
            fig = network_figure(
                spec,
                stepper.state,
                phase=stepper.last_phase,
                selected=(1, 3),
                input_shape=(28, 28) if spec.input_size == 784 else None,
                color_by=color_by,
                edge_by=edge_by,
                sample=sample,
            )
            times.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        size_kb = len(fig.to_json()) / 1000
        json_ms = (time.perf_counter() - start) * 1000
        rows.append(
            {
                "case": name,
                "network": spec.describe(),
                "build_ms": round(statistics.median(times), 2),
                "to_json_ms": round(json_ms, 2),
                "json_kb": round(size_kb, 1),
                "traces": len(fig.data),
            }
        )

    print(f"network_figure after one step (median of {REPEATS} builds)")
    print(f"{'case':<30} {'network':<22} {'build ms':>9} {'to_json ms':>11} {'JSON KB':>8}")
    for r in rows:
        print(
            f"{r['case']:<30} {r['network']:<22} {r['build_ms']:>9.2f} "
            f"{r['to_json_ms']:>11.2f} {r['json_kb']:>8.1f}"
        )
    budgeted = [r for r in rows if r["network"] == lesson.describe()]
    worst_ms = max(float(r["build_ms"]) for r in budgeted)
    worst_kb = max(float(r["json_kb"]) for r in budgeted)
    print(
        json.dumps(
            {
                "bench": "figures.network",
                "network": lesson.describe(),
                "build_ms": worst_ms,
                "json_kb": worst_kb,
                "build_ok": worst_ms <= BUILD_MS_BUDGET,
                "json_ok": worst_kb <= JSON_KB_BUDGET,
                "cases": rows,
            }
        )
    )


if __name__ == "__main__":
    main()
