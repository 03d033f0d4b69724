"""Training views benchmark: every neuron's map of a 2-6-6-1 network on a 60x60 grid (one
vectorised pass, budget 20 ms) and the figure drawn from it; and the Training page's full rerun
after a step (AppTest, the real page code) for 784-16-16-10 on the MNIST sample with each view
open (budget 150 ms); plus one epoch of Train N epochs, which ticks the same page.

Prints a table and one JSON line; medians. Not part of the test run.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable

import numpy as np
from ui import lesson_page  # bench/ui.py

import explorer.ui.learned_view as training_view
from explorer.analysis.learned import GRID, plane_maps
from explorer.engine import LayerSpec, NetworkSpec, init_params
from explorer.figures import neuron_maps_figure

MAPS_MS_BUDGET = 20.0
RERUN_MS_BUDGET = 150.0
TABS = ("Weights", "Test set", "Curves", "Gradients & distributions")


def median_ms(fn: Callable[[], object], repeats: int) -> float:
    fn()  # warm: first calls import and cache
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def neuron_maps() -> dict[str, float]:
    spec = NetworkSpec(
        2,
        (LayerSpec(6, "tanh"), LayerSpec(6, "tanh"), LayerSpec(1, "sigmoid")),
        "binary_cross_entropy",
    )
    params = init_params(spec, np.random.default_rng(0)).astype(np.float32)
    bounds = (-6.0, 6.0, -6.0, 6.0)
    maps = plane_maps(spec, params, bounds)
    return {
        "maps_2_6_6_1_ms": median_ms(lambda: plane_maps(spec, params, bounds), 100),
        "maps_figure_ms": median_ms(lambda: neuron_maps_figure(spec, params, maps), 30),
        "maps_figure_json_kb": len(neuron_maps_figure(spec, params, maps).to_json()) / 1024,
    }


def page_reruns() -> dict[str, float]:
    at = lesson_page("app_pages/training.py")
    result = {}
    for tab in TABS:
        at.session_state["w_tr_tab"] = tab
        at.run()
        result[f"step_rerun_ms[{tab}]"] = median_ms(
            lambda: at.button(key="b_tr_step").click().run(), 30
        )
        assert not at.exception, at.exception
    training_view.CHUNK_SECONDS = 0.0  # one epoch a tick
    at.session_state["w_tr_epochs"] = 1000
    at.session_state["w_tr_tab"] = TABS[0]
    at.button(key="b_train").click().run()
    result["train_tick_ms[1 epoch, Weights]"] = median_ms(at.run, 10)
    at.button(key="b_stop").click().run()
    return result


def main() -> None:
    result = {"grid": GRID, **neuron_maps(), **page_reruns()}
    reruns = [v for k, v in result.items() if k.startswith("step_rerun_ms")]
    result["maps_ok"] = result["maps_2_6_6_1_ms"] <= MAPS_MS_BUDGET
    result["rerun_ok"] = max(reruns) <= RERUN_MS_BUDGET
    print(f"{'measure (median)':<44}{'value':>10}")
    for key, value in result.items():
        shown = str(value) if isinstance(value, bool | int) else f"{value:.2f}"
        print(f"{key:<44}{shown:>10}")
    print(json.dumps({"bench": "training", **result}))


if __name__ == "__main__":
    main()
