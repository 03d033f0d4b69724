"""Benchmark of the network figure for 784-16-16-10 (DESIGN.md, "Known pitfalls").

Builds ``network_figure`` on random 28x28 data after one full step, 20 times per case, and
reports the median build time and the JSON size against the budgets (25 ms, 60 KB). Prints a
table and one JSON line. Left out: paint time in a browser (the e2e tests' concern).
"""

from __future__ import annotations

import json
import statistics
import time

import numpy as np

from explorer.engine import LayerSpec, NetworkSpec, Stepper, TrainConfig
from explorer.figures import network_figure

BUILD_MS_BUDGET = 25.0
JSON_KB_BUDGET = 60.0
REPEATS = 20


def main() -> None:
    spec = NetworkSpec(
        784,
        (LayerSpec(16, "relu"), LayerSpec(16, "relu"), LayerSpec(10, "softmax")),
        "cross_entropy",
    )
    rng = np.random.default_rng(0)
    x = rng.random((512, 784))
    y = rng.integers(0, 10, size=512)
    stepper = Stepper(spec, TrainConfig(batch_size=32), x, y, seed=0)
    stepper.finish_step()

    # (name, color_by, edge_by, sample)
    cases = [
        ("a by weight, batch", "a", "weight", None),
        ("delta by gradient, sample 0", "input_der", "weight_der", 0),
    ]
    rows = []
    for name, color_by, edge_by, sample in cases:
        times = []
        for _ in range(REPEATS):
            start = time.perf_counter()
            fig = network_figure(
                spec,
                stepper.state,
                phase=stepper.last_phase,
                selected=(1, 3),
                input_shape=(28, 28),
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
                "build_ms": round(statistics.median(times), 2),
                "to_json_ms": round(json_ms, 2),
                "json_kb": round(size_kb, 1),
                "traces": len(fig.data),
            }
        )

    print(f"network_figure, {spec.describe()}, after one step (median of {REPEATS} builds)")
    print(f"{'case':<32} {'build ms':>9} {'to_json ms':>11} {'JSON KB':>8} {'traces':>7}")
    for r in rows:
        print(
            f"{r['case']:<32} {r['build_ms']:>9.2f} {r['to_json_ms']:>11.2f} "
            f"{r['json_kb']:>8.1f} {r['traces']:>7}"
        )
    worst_ms = max(float(r["build_ms"]) for r in rows)
    worst_kb = max(float(r["json_kb"]) for r in rows)
    print(
        json.dumps(
            {
                "bench": "figures.network",
                "network": spec.describe(),
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
