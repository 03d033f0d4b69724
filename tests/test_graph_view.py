"""What the Explorer's graph component sends (``explorer.ui.graph_view``), read from its
element in AppTest: the first figure of a session whole, then only the traces that changed
(the browser keeps the rest), and the whole figure again after the browser asks ("resync")."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import plotly.io as pio
import pytest
from streamlit.testing.v1 import AppTest

from explorer.engine import Stepper, TrainConfig
from explorer.figures import build, curves_figure, network_figure
from explorer.ui import keys
from explorer.ui.graph_view import figure_payload
from tests.conftest import net

APP = str(Path(__file__).parents[1] / "app.py")
LESSON = {
    "dataset": "mnist-sample",
    "hidden_sizes": "16,16",
    "hidden_activations": "relu,relu",
    "head": "softmax + cross-entropy",
    "batch_size": "32",
}


@pytest.fixture
def at() -> AppTest:
    app = AppTest.from_file(APP, default_timeout=60)
    app.query_params.update(LESSON)
    app.run()
    assert not app.exception, app.exception
    return app


def sent(at: AppTest) -> dict[str, Any]:
    """The graph component's data as this run sent it, its figure parsed."""
    (element,) = [e for e in at.get("bidi_component") if "network_graph" in e.proto.component_name]
    data: dict[str, Any] = json.loads(element.proto.mixed.json or element.proto.json)
    data["figure"] = json.loads(data["figure"])
    return data


def next_phase(at: AppTest) -> dict[str, Any]:
    at.button(key="b_phase").click().run()
    assert not at.exception, at.exception
    return sent(at)


def coordinates(data: dict[str, Any]) -> int:
    """How many traces in the message carry x or y."""
    return sum(1 for t in data["figure"]["data"] if t is not None and ("x" in t or "y" in t))


def test_the_first_figure_is_whole_and_the_next_sends_only_what_changed(at: AppTest) -> None:
    first = sent(at)
    assert None not in first["figure"]["data"] and len(first["ids"]) == len(first["figure"]["data"])
    second = next_phase(at)  # forward, layer 1: the edges into layers 2 and 3 stay muted
    held = [i for i, t in zip(second["ids"], second["figure"]["data"], strict=True) if t is None]
    assert held and set(held) <= set(first["ids"])
    third = next_phase(at)  # forward, layer 2: layer 1's edges are as they were
    changed = [t for t in third["figure"]["data"] if t is not None]
    assert "input image" not in {t["name"] for t in changed}  # nor the input image
    assert len(json.dumps(third["figure"])) < len(json.dumps(first["figure"])) / 2
    assert {t["name"] for t in changed if t["name"].startswith("edges ")} <= {
        f"edges {b} 1" for b in ("not computed", "+0", "-0", "+1", "-1", "+2", "-2")
    }
    assert coordinates(third) < coordinates(first)


def test_an_unchanged_figure_sends_no_trace_and_a_resync_sends_it_whole(at: AppTest) -> None:
    partial = next_phase(at)
    at.run()  # nothing changed
    again = sent(at)
    assert again["ids"] == partial["ids"] and all(t is None for t in again["figure"]["data"])
    # What the "resync" trigger's callback does: forget what this chart was sent.
    at.session_state[keys.GRAPH_SENT] = {}
    at.run()
    resent = sent(at)
    assert resent["ids"] == partial["ids"] and None not in resent["figure"]["data"]
    for mine, was in zip(resent["figure"]["data"], partial["figure"]["data"], strict=True):
        assert was is None or mine == was


def test_a_trace_the_browser_holds_goes_as_null() -> None:
    held = frozenset({"a"})
    fig = build.figure([{"type": "scatter", "name": "t", "x": [1], "y": [2]}], {})
    text, ids = figure_payload(fig, held)
    again, same = figure_payload(fig, frozenset(ids))
    assert same == ids and json.loads(text)["data"][0]["x"] == [1]
    assert json.loads(again)["data"] == [None]


def test_the_whole_payload_is_the_figure_as_plotly_writes_it() -> None:
    spec = net((784, 16, 16, 10), "relu", "softmax", "cross_entropy")
    rng = np.random.default_rng(0)
    stepper = Stepper(
        spec, TrainConfig(batch_size=8), rng.random((20, 784)), rng.integers(0, 10, 20)
    )
    figures = [curves_figure([0, 1, 2], {"loss": [1.0, 0.5, float("nan")]}, y_title="loss")]
    for _ in stepper.phases:
        stepper.advance()
        figures.append(
            network_figure(
                spec,
                stepper.state,
                color_by="phase",
                edge_by="phase",
                sample=2,
                phase=stepper.last_phase,
                selected=(0, 3),
                input_shape=(28, 28),
            )
        )
    for fig in figures:
        text, _ = figure_payload(fig, frozenset())
        assert json.loads(text) == json.loads(pio.to_json(fig, validate=False))
