"""Explorer page benchmark on the lesson's network, 784-16-16-10 on the MNIST sample:
the graph figure's build time and JSON size, a Step click's full page rerun (AppTest, the real
page code; also with a neuron in the inspector), and the play rate that follows from one play
tick's rerun.

Prints a table and one JSON line; medians. Not part of the test run.
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

from explorer.figures import network_figure
from explorer.ui.explorer_view import PLAY_INTERVAL, PLAY_MOST_PER_TICK, PLAY_RATE
from explorer.ui.session import PlayClock

APP = str(Path(__file__).parents[1] / "app.py")


def lesson_page(page: str = "app_pages/explorer.py") -> AppTest:
    """``page`` with the lesson's 784-16-16-10 (relu) on the MNIST sample, batch 32, built
    through the sidebar's widgets."""
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page(page).run()
    at.selectbox(key="w_dataset").set_value("mnist-sample").run()
    at.selectbox(key="w_act_0").set_value("relu").run()
    at.selectbox(key="w_act_1").set_value("relu").run()
    at.number_input(key="w_size_0").set_value(16).run()
    at.number_input(key="w_size_1").set_value(16).run()
    at.number_input(key="w_batch_size").set_value(32).run()
    assert at.session_state["run"].spec.describe() == "784-16-16-10"
    assert not at.exception
    return at


def timed(fn) -> float:  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    at = lesson_page()
    at.button(key="b_step").click().run()
    run = at.session_state["run"]
    state = run.stepper.state
    build = [
        timed(
            lambda: network_figure(
                run.spec, state, color_by="input_der", edge_by="weight_der", input_shape=(28, 28)
            )
        )
        for _ in range(30)
    ]
    fig = network_figure(run.spec, state, color_by="input_der", input_shape=(28, 28))
    size_kb = len(fig.to_json()) / 1024
    clicks = [timed(lambda: at.button(key="b_step").click().run()) for _ in range(30)]
    run.selected = (1, 3)  # a neuron in the inspector: its formulas and tables on every click
    inspected = [timed(lambda: at.button(key="b_step").click().run()) for _ in range(30)]
    run.selected = None
    assert not at.exception

    def tick() -> None:  # a play tick with one step due
        run.play = PlayClock(PLAY_RATE, started=time.monotonic() - 1 / PLAY_RATE)
        at.run()

    ticks = [timed(tick) for _ in range(15)]
    run.play = None
    tick_s = statistics.median(ticks)
    result = {
        "network": run.spec.describe(),
        "figure_build_ms": statistics.median(build) * 1e3,
        "figure_json_kb": size_kb,
        "step_click_rerun_ms": statistics.median(clicks) * 1e3,
        "step_click_inspecting_ms": statistics.median(inspected) * 1e3,
        "play_tick_rerun_ms": tick_s * 1e3,
        # what the server can keep up with: ticks at most every PLAY_INTERVAL, each taking
        # up to PLAY_MOST_PER_TICK steps (in a browser: bench/play.py)
        "play_steps_per_s": min(PLAY_RATE, PLAY_MOST_PER_TICK / max(PLAY_INTERVAL, tick_s)),
    }
    print(f"{'measure':<24}{'value':>14}")
    for key, value in result.items():
        print(f"{key:<24}{value if isinstance(value, str) else f'{value:.2f}':>14}")
    print(json.dumps({"bench": "ui", **result}))


if __name__ == "__main__":
    main()
