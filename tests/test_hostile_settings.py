"""Absurd settings on the Explorer page (AppTest): values the widgets cannot offer, the
largest network they allow on MNIST, a batch larger than the training set; and a guard that
nothing in the app unpickles, evals or execs what a user supplies.

The browser enforces a number input's bounds and offers a select slider's options only; a
forged value that reaches the server anyway (as AppTest can send) must leave a valid network
and a working session, never an exception.
"""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from explorer.state.settings import MAX_HIDDEN_LAYERS, MAX_UNITS, limits
from explorer.ui.sidebar import RATES

ROOT = Path(__file__).parents[1]
APP = str(ROOT / "app.py")


@pytest.fixture
def at() -> AppTest:
    app = AppTest.from_file(APP, default_timeout=120).run()
    assert not app.exception
    return app


def step(at: AppTest) -> None:
    at.button(key="b_step").click().run()
    assert not at.exception, at.exception


def status(at: AppTest) -> str:
    return next(c.value for c in at.caption if c.value.startswith("Epoch"))


def test_learning_rate_comes_from_a_fixed_list(at: AppTest) -> None:
    rates = [float(o) for o in at.select_slider(key="w_learning_rate").options]
    assert rates == list(RATES)
    assert (
        limits("learning_rate")["lo"] <= min(rates) and max(rates) <= limits("learning_rate")["hi"]
    )
    step(at)
    stepper = at.session_state["run"].stepper
    at.select_slider(key="w_learning_rate").set_value(1e9).run()  # forged: not an option
    assert not at.exception
    run = at.session_state["run"]
    assert run.stepper is stepper and stepper.state.step == 1  # nothing was lost
    assert run.settings.learning_rate in RATES


@pytest.mark.parametrize(
    "key, cap",
    [("w_size_0", MAX_UNITS), ("w_layers", MAX_HIDDEN_LAYERS), ("w_batch_size", 512)],
)
def test_number_inputs_are_capped(at: AppTest, key: str, cap: int) -> None:
    assert at.number_input(key=key).max == cap
    at.number_input(key=key).set_value(cap * 1000).run()  # forged: past the cap
    assert not at.exception
    run = at.session_state["run"]
    assert len(run.settings.hidden_sizes) <= MAX_HIDDEN_LAYERS
    assert max(run.settings.hidden_sizes, default=1) <= MAX_UNITS
    assert run.settings.batch_size <= 512
    step(at)


def test_six_layers_of_128_units_on_the_mnist_sample(at: AppTest) -> None:
    at.selectbox(key="w_dataset").set_value("mnist-sample").run()
    at.number_input(key="w_layers").set_value(MAX_HIDDEN_LAYERS).run()
    for i in range(MAX_HIDDEN_LAYERS):
        at.number_input(key=f"w_size_{i}").set_value(MAX_UNITS)
    at.run()
    assert not at.exception
    assert at.session_state["run"].spec.describe() == "784" + "-128" * 6 + "-10"
    step(at)
    assert status(at).startswith("Epoch 1 · step 1")


def test_a_batch_larger_than_the_training_set_is_one_batch_per_epoch(at: AppTest) -> None:
    at.number_input(key="w_n_points").set_value(20).run()
    at.slider(key="w_train_ratio").set_value(0.1).run()  # 2 training points
    at.number_input(key="w_batch_size").set_value(512).run()
    for k, trained in ((1, "1 epoch"), (2, "2 epochs"), (3, "3 epochs")):
        step(at)  # a whole epoch each: the next update is in the next one
        assert status(at).startswith(f"Epoch {k + 1} · step {k} · batch of 2 ·")
        assert status(at).endswith(f" · {trained} trained")
    at.number_input(key="w_batch_size").set_value(1).run()
    assert not at.exception and at.session_state["run"].stepper.state.step == 3


# -- nothing a user supplies is unpickled, evaluated or executed -----------------------------
FORBIDDEN = [
    (r"\b(pickle|cPickle|cloudpickle|dill|marshal|shelve|jsonpickle)\b", "a pickle-like module"),
    (r"(?<![\w.])(eval|exec)\s*\(", "eval or exec"),
    (r"\ballow_pickle\s*=\s*True\b", "allow_pickle=True"),
    (r"\bweights_only\s*=\s*False\b", "torch.load(weights_only=False)"),
    (r"\byaml\s*\.\s*(unsafe_)?load\s*\(", "yaml.load"),
    (r"\b__import__\s*\(", "__import__"),
]


# Literal text: comments, strings and docstrings, and (from Python 3.12) an f-string's text.
TEXT = {tokenize.COMMENT, tokenize.STRING} | {
    getattr(tokenize, name)
    for name in ("FSTRING_START", "FSTRING_MIDDLE", "FSTRING_END")
    if hasattr(tokenize, name)
}


def code_only(source: str) -> str:
    """The source's code tokens, without comments and string literals."""
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    code = " ".join(tok.string for tok in tokens if tok.type not in TEXT)
    return re.sub(r"\s*\.\s*", ".", code)  # attribute access back together: model.eval


def test_no_pickle_eval_or_exec_in_the_app() -> None:
    files = [
        ROOT / "app.py",
        *(ROOT / "app_pages").glob("*.py"),
        *(ROOT / "explorer").rglob("*.py"),
    ]
    assert len(files) > 60 and ROOT / "app_pages" / "explorer.py" in files  # it scans the app
    code = {path: code_only(path.read_text()) for path in files}
    found = [
        f"{path.relative_to(ROOT)}: {what}"
        for path in files
        for pattern, what in FORBIDDEN
        if re.search(pattern, code[path])
    ]
    assert not found, found


def test_the_guard_sees_through_strings_but_not_code() -> None:
    assert not re.search(FORBIDDEN[0][0], code_only('"""never pickle"""\n# pickle\nx = 1\n'))
    assert re.search(FORBIDDEN[1][0], code_only("y = eval(text)\n"))
    assert not re.search(FORBIDDEN[1][0], code_only("model.eval()\nevaluate(x)\n"))
