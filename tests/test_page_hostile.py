"""A class on one server, tried as a hostile or careless student would (AppTest, the real
pages): another session's choices never rebuild mine; a crafted link can neither inject
Markdown, flood the page with warnings nor tie up the server; files that fail to load leave
the network on screen exactly as it was, with one message and no exception."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from explorer.data import available_datasets
from explorer.engine import REPLAY_BUDGET_S, Params, replay_cost
from explorer.run_config import RunConfig, save_params
from explorer.share import TRAIL_KEY, from_query
from explorer.ui.draw_view import MAX_POINTS, parse_strokes
from tests.conftest import shown

APP = str(Path(__file__).parents[1] / "app.py")
PHISHING = "[Session expired - sign in](https://evil.example/login)"


def app(query: dict[str, str] | None = None, page: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    if query:
        at.query_params.update(query)
    at.run()
    if page:
        at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def step(at: AppTest) -> None:
    at.button(key="b_step").click().run()
    assert not at.exception, at.exception


def state_of(at: AppTest) -> tuple[int, list[np.ndarray]]:
    s = at.session_state["run"].stepper.state
    return s.step, [w.copy() for w in s.params.weights]


def unchanged(at: AppTest, before: tuple[int, list[np.ndarray]]) -> bool:
    step_now, weights = state_of(at)
    return step_now == before[0] and all(
        np.array_equal(a, b) for a, b in zip(weights, before[1], strict=True)
    )


# -- isolation -------------------------------------------------------------------------------
def test_another_sessions_dataset_churn_never_rebuilds_my_network() -> None:
    mine = app()
    for _ in range(3):
        step(mine)
    theirs = app()
    for i in range(33):  # more point counts than the shared cache of 2-D sets holds
        theirs.number_input(key="w_n_points").set_value(30 + 10 * i).run()
    assert not theirs.exception
    step(mine)
    assert mine.session_state["run"].stepper.state.step == 4
    assert not any("rebuilt" in t.value for t in mine.toast)


# -- links -----------------------------------------------------------------------------------
def test_link_values_are_shown_as_text_never_as_markdown() -> None:
    at = app({"learning_rate": PHISHING, "seed": "![t](https://evil.example/t.png)"})
    (warning,) = at.warning
    assert "](" not in warning.value.replace("\\]\\(", "")  # every bracket is escaped
    assert PHISHING in shown(warning.value)
    assert "https://evil.example/t.png" in shown(warning.value)
    assert at.session_state["run"].settings.learning_rate == 0.03


def test_a_thousand_unknown_keys_give_one_warning() -> None:
    at = app({f"k{i}": "1" for i in range(1000)})
    (warning,) = at.warning
    assert "Ignored 1,000 unknown link parameters" in shown(warning.value)
    assert "and 997 more" in shown(warning.value)


HEAVY = {
    "dataset": "mnist-sample",
    "hidden_sizes": ",".join(["128"] * 6),
    "hidden_activations": ",".join(["relu"] * 6),
    "head": "softmax + cross-entropy",
    "batch_size": "1",
}


def test_a_link_over_the_replay_budget_is_refused_before_any_work() -> None:
    query = {**HEAVY, TRAIL_KEY: "F;F;F;F;F"}
    at = app(query)
    run = at.session_state["run"]
    link = from_query(query, available_datasets())
    assert replay_cost(link.trail, run.spec, run.stepper.n_train) > REPLAY_BUDGET_S
    assert run.stepper.state.step == 0 and run.stepper.state.trail == ()
    text = " ".join(shown(w.value) for w in at.warning)
    assert "Could not replay the link's training" in text and "at most 5 s" in text
    assert run.spec.sizes == (784, *[128] * 6, 10)  # the rest of the link was used
    assert any("except what the warnings name" in t.value for t in at.toast)


QUERY_KEYS = st.sampled_from(
    [
        *("learning_rate", "batch_size", "hidden_sizes", "hidden_activations", "dataset"),
        *("head", "seed", "n_points", "optimizer", "momentum", TRAIL_KEY, "x", "[a](b)"),
    ]
)
TRAIL_ITEMS = st.one_of(
    st.sampled_from(["F", "1", "9", "10000000", "3~learning_rate=1.0", "F~batch_size=1"]),
    st.sampled_from(["W0.0.0=0.5", "B0.1=-2", "W9.0.0=1", "W0.0.0=nan", "7~x=1", "~"]),
    st.integers(-5, 10**9).map(str),
)
VALUES = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["0.1", "1e309", "-1", "128,128", "relu", PHISHING, ":red[x]", "$x$"]),
    st.lists(TRAIL_ITEMS, max_size=12).map(";".join),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(QUERY_KEYS, VALUES, max_size=6))
def test_any_link_opens_without_an_exception_within_the_budget(query: dict[str, str]) -> None:
    at = app(query)
    run = at.session_state["run"]
    assert replay_cost(run.stepper.state.trail, run.spec, run.stepper.n_train) <= REPLAY_BUDGET_S
    for w in at.warning:
        assert "](" not in w.value and "[" not in w.value.replace("\\[", "")


# -- files -----------------------------------------------------------------------------------
def test_a_params_file_with_nan_weights_is_refused_and_nothing_changes() -> None:
    at = app(page="app_pages/train.py")
    run = at.session_state["run"]
    before = state_of(at)
    spec = run.spec
    params = run.stepper.state.params
    poisoned = Params((np.full_like(params.weights[0], np.nan), *params.weights[1:]), params.biases)
    file = io.BytesIO()
    save_params(file, poisoned, RunConfig(settings=run.settings))  # as the CLI writes it
    uploader = next(u for u in at.file_uploader if u.key == "w_ft_params")
    uploader.set_value(("p.npz", file.getvalue(), "application/octet-stream")).run()
    assert not at.exception, at.exception
    assert any("NaN" in shown(e.value) for e in at.error)
    assert at.button(key="b_ft_open_file").disabled
    assert at.session_state["run"].spec == spec and unchanged(at, before)


def test_a_damaged_params_file_is_refused_with_a_message() -> None:
    at = app(page="app_pages/train.py")
    before = state_of(at)
    uploader = next(u for u in at.file_uploader if u.key == "w_ft_params")
    uploader.set_value(("p.npz", b"PK\x03\x04" + b"\x00" * 200, "application/zip")).run()
    assert not at.exception, at.exception
    assert at.error and unchanged(at, before)


def test_a_forged_canvas_stroke_is_read_only_up_to_its_bound() -> None:
    forged = [[[float(i % 280), float(i % 97)] for i in range(20_000)]] * 3
    strokes = parse_strokes(forged)
    assert sum(len(s) for s in strokes) == MAX_POINTS
    assert parse_strokes([[[1.0, 2.0]]] * (MAX_POINTS + 50)).__len__() == MAX_POINTS
