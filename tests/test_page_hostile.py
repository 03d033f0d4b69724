"""A class on one server, tried as a hostile or careless student would (AppTest, the real
pages): another session's choices never rebuild mine; a crafted link can neither inject
Markdown, flood the page with warnings nor tie up the server; files that fail to load leave
the network on screen exactly as it was, with one message and no exception."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from explorer.data import available_datasets
from explorer.engine import REPLAY_BUDGET_S, Params, replay_cost
from explorer.state.run_config import RunConfig, save_params
from explorer.state.share import TRAIL_KEY, from_query
from explorer.ui.draw_view import MAX_POINTS, parse_strokes
from tests.conftest import shown

APP = str(Path(__file__).parents[1] / "app.py")
PHISHING = "[Session expired - sign in](http://127.0.0.1:9/login)"


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
    at = app({"learning_rate": PHISHING, "seed": "![t](http://127.0.0.1:9/t.png)"})
    (warning,) = at.warning
    assert "](" not in warning.value.replace("\\]\\(", "")  # every bracket is escaped
    assert PHISHING in shown(warning.value)
    assert "http://127.0.0.1:9/t.png" in shown(warning.value)
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


def _saved_session(optimizer: str = "sgd") -> dict[str, np.ndarray]:
    """The arrays of a real session file, saved from the page after one step."""
    at = app()
    at.selectbox(key="w_optimizer").set_value(optimizer).run()
    step(at)
    at.button(key="b_prepare_files").click().run()
    data = at.session_state["prepared_files"]["backprop-session.npz"]
    with np.load(io.BytesIO(data)) as z:
        return {k: z[k] for k in z.files}


def _npz(arrays: dict[str, np.ndarray], compress: bool = False) -> bytes:
    out = io.BytesIO()
    (np.savez_compressed if compress else np.savez)(out, **arrays)
    return out.getvalue()


def _with_meta(arrays: dict[str, np.ndarray], **changes: object) -> bytes:
    meta = json.loads(arrays["meta"].tobytes()) | changes
    return _npz({**arrays, "meta": np.frombuffer(json.dumps(meta).encode(), np.uint8)})


def _claiming(values: int) -> bytes:
    """A zip whose one member's .npy header claims ``values`` float64s it does not hold."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f8", "fortran_order": False, "shape": (values,)}
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("w0.npy", header.getvalue() + bytes(64))
    return out.getvalue()


def _many_members(n: int) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for i in range(n):
            archive.writestr(f"a{i}.npy", b"")
    return out.getvalue()


def _deep_json() -> bytes:
    text = ("[" * 100_000 + "]" * 100_000).encode()
    return _npz({**_saved_session(), "meta": np.frombuffer(text, np.uint8)})


def _bomb() -> bytes:
    # 600 MB of zeros deflate to about 600 KB: a session file is at most 32 MB unpacked
    out = io.BytesIO()
    with (
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open("w0.npy", "w", force_zip64=True) as member,
    ):
        for _ in range(600):
            member.write(bytes(1024 * 1024))
    return out.getvalue()


TAMPERED = {
    "metrics step a list": lambda s: _with_meta(s, metrics=[{"step": [1], "train_loss": 0.5}]),
    "metrics step None": lambda s: _with_meta(s, metrics=[{"step": None, "train_loss": 0.5}]),
    "metrics rows a million": lambda s: _with_meta(s, metrics=[{"step": 0}] * 1_000_000),
    "tail of ten million phases": lambda s: _with_meta(s, tail="10000000"),
    "tail of 199,999 phases": lambda s: _with_meta(s, tail="199999"),
    "tail editing a weight that is not there": lambda s: _with_meta(s, tail="W9.0.0=1"),
    "trail a number": lambda s: _with_meta(s, trail=7),
    "epoch 10^400": lambda s: _with_meta(s, epoch=10**400),
    "optimizer step 10^400": lambda s: _with_meta(s, optimizer_step=10**400),
    "weights of 1e308": lambda s: _npz({**s, "w0": np.full_like(s["w0"], 1e308)}),
    "weights of float16": lambda s: _npz({**s, "w0": s["w0"].astype(np.float16)}),
    "meta not bytes": lambda s: _npz({**s, "meta": np.zeros(3)}),
    "a header claiming 10^12 values": lambda s: _claiming(10**12),
    "600 MB deflated into 600 KB": lambda s: _bomb(),
    "100,000 members": lambda s: _many_members(100_000),
    "JSON nested 100,000 deep": lambda s: _deep_json(),
}


@pytest.mark.parametrize("name", TAMPERED)
def test_a_tampered_session_file_is_refused_and_the_network_stays(name: str) -> None:
    data = TAMPERED[name](_saved_session())
    at = app()
    step(at)
    run, before = at.session_state["run"], state_of(at)
    uploader = next(u for u in at.file_uploader if u.key == "w_session_file")
    uploader.set_value(("s.npz", data, "application/octet-stream")).run()
    assert not at.exception, at.exception
    assert at.session_state["run"] is run and unchanged(at, before)
    (error,) = at.error
    assert "session file" in shown(error.value).lower()
    step(at)  # the network on screen goes on training
    assert at.session_state["run"].stepper.state.step == 2


def test_an_adam_session_without_its_moments_is_refused() -> None:
    saved = _saved_session("adam")
    data = _npz({k: v for k, v in saved.items() if not k.startswith(("m_", "v_"))})
    at = app()
    run = at.session_state["run"]
    uploader = next(u for u in at.file_uploader if u.key == "w_session_file")
    uploader.set_value(("s.npz", data, "application/octet-stream")).run()
    assert not at.exception, at.exception
    assert at.session_state["run"] is run
    assert "optimizer state does not match its optimizer (adam)" in shown(at.error[0].value)


def _params_file(**arrays: np.ndarray) -> bytes:
    return _npz({"config": np.array("{}"), **arrays})


DAMAGED_PARAMS = {
    "a header claiming 10^12 values": (lambda: _claiming(10**12), "claims an array"),
    "600 MB deflated into 600 KB": (lambda: _bomb(), "expands to"),
    "float16 weights": (
        lambda: _params_file(W0=np.zeros((2, 4), np.float16), b0=np.zeros(4)),
        "no float32 or float64",
    ),
    "no biases": (lambda: _params_file(W0=np.zeros((2, 4))), "lacks W0, b0"),
    "weights of the wrong rank": (
        lambda: _params_file(W0=np.zeros(8), b0=np.zeros(4)),
        "wrong shape",
    ),
    "another network's shapes": (
        lambda: _params_file(W0=np.zeros((3, 4)), b0=np.zeros(4)),
        "The sidebar builds",
    ),
}


@pytest.mark.parametrize("name", DAMAGED_PARAMS)
def test_a_damaged_params_file_is_refused_and_nothing_changes(name: str) -> None:
    make, message = DAMAGED_PARAMS[name]
    at = app(page="app_pages/train.py")
    run, before = at.session_state["run"], state_of(at)
    uploader = next(u for u in at.file_uploader if u.key == "w_ft_params")
    uploader.set_value(("p.npz", make(), "application/octet-stream")).run()
    assert not at.exception, at.exception
    (error,) = at.error
    assert message in shown(error.value)
    assert at.button(key="b_ft_open_file").disabled
    assert at.session_state["run"] is run and unchanged(at, before)
