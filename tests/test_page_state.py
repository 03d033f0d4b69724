"""One network per session, and every number on screen of the network on screen: the builder
comes back from the user's network when Streamlit drops its widgets, the tiles follow Back,
Reset, Run N, Epoch and weight edits, Epoch shows progress and counts as users do, and the
Training views say the same as the Explorer."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from explorer.engine import epoch_batches
from explorer.ui import explorer_view
from explorer.ui.explorer_view import epoch_steps
from explorer.ui.session import Run, build, epochs_text
from tests.conftest import shown

APP = str(Path(__file__).parents[1] / "app.py")
LESSON_LINK = {
    "dataset": "mnist-sample",
    "hidden_sizes": "16,16",
    "hidden_activations": "relu,relu",
    "head": "softmax + cross-entropy",
    "batch_size": "32",
    "learning_rate": "0.1",
}


def app(query: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    if query:
        at.query_params.update(query)
    at.run()
    assert not at.exception, at.exception
    return at


def click(at: AppTest, key: str) -> AppTest:
    at.button(key=key).click().run()
    assert not at.exception, at.exception
    return at


def run_of(at: AppTest) -> Run:
    run: Run = at.session_state["run"]
    return run


def status(at: AppTest) -> str:
    return next(c.value for c in at.caption if c.value.startswith("Epoch"))


def tiles(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def fresh_tiles(run: Run) -> dict[str, str]:
    """The tiles of the network as it stands, evaluated from scratch."""
    m = build(run.settings, run.dataset, params=run.stepper.state.params).metrics[0]
    shown = {"Train loss": f"{m.train_loss:.4f}", "Test loss": f"{m.test_loss:.4f}"}
    if m.train_accuracy is not None and m.test_accuracy is not None:
        shown |= {"Train accuracy": f"{m.train_accuracy:.1%}"}
        shown |= {"Test accuracy": f"{m.test_accuracy:.1%}"}
    return shown


def _a_page_whose_builder_widgets_streamlit_drops() -> None:
    import streamlit as st

    from explorer.ui.session import sync
    from explorer.ui.sidebar import settings_sidebar

    if st.session_state.get("drop"):  # as after a fragment run and a page switch in a browser
        for key in [k for k in st.session_state if k.startswith("w_")]:
            del st.session_state[key]
    sync(*settings_sidebar())


def test_dropped_builder_widgets_come_back_from_the_network_not_the_defaults() -> None:
    """A browser reports no widgets on a page switch after a fragment run (any Explorer
    control), so Streamlit drops every builder value: the network must stay as it is."""
    at = AppTest.from_function(_a_page_whose_builder_widgets_streamlit_drops).run()
    at.selectbox(key="w_dataset").set_value("mnist-sample").run()
    at.number_input(key="w_size_0").set_value(16).run()
    run = run_of(at)
    at.session_state["drop"] = True
    at.run()
    assert not at.exception, at.exception
    assert run_of(at) is run and run.spec.describe() == "784-16-2-10"
    assert at.selectbox(key="w_dataset").value == "mnist-sample"
    assert at.number_input(key="w_size_0").value == 16


@pytest.mark.parametrize("undo", ["b_back", "b_reset"])
def test_tiles_after_epoch_then_back_or_reset_are_of_the_network_shown(undo: str) -> None:
    at = app()
    click(at, "b_epoch")
    assert tiles(at) == fresh_tiles(run_of(at))
    click(at, undo)
    assert tiles(at) == fresh_tiles(run_of(at))


def test_tiles_after_run_n_then_back_and_after_an_edit_undone() -> None:
    at = app()
    at.number_input(key="w_run_n").set_value(7).run()
    click(at, "b_run")
    click(at, "b_back")
    run = run_of(at)
    assert run.stepper.state.step == 6
    assert tiles(at) == fresh_tiles(run)
    before = tiles(at)
    run.stepper.edit(0, 0, 0, 5.0)  # what the inspector's "Set" does, then record()
    run.record()
    at.run()
    assert tiles(at) == fresh_tiles(run) != before
    click(at, "b_back")  # undoes the edit: same step, the weights before it
    assert tiles(at) == fresh_tiles(run) == before


def test_epoch_counts_as_users_do_and_training_views_say_the_same() -> None:
    at = app()  # circle: 200 training points, batches of 10
    click(at, "b_epoch")
    said = status(at)
    assert said.startswith("Epoch 2 · step 20 · batch of 10 ·")
    assert said.endswith(" · 1 epoch trained")
    at.switch_page("app_pages/training.py").run()
    assert not at.exception, at.exception
    training_says = next(c.value for c in at.caption if c.value.startswith("Epoch"))
    assert training_says.startswith("Epoch 2 · step 20 · 1 epoch trained · train loss ")


@pytest.mark.parametrize(
    ("epochs", "said"),
    [
        (0, "0 epochs"),
        (0.004, "0.004 epochs"),
        (0.29, "0.29 epochs"),
        (0.996, "0.99 epochs"),
        (1, "1 epoch"),
        (1.999, "1.99 epochs"),
        (20, "20 epochs"),
        (1234.5, "1,234.5 epochs"),
    ],
)
def test_epochs_are_counted_down_never_up(epochs: float, said: str) -> None:
    assert epochs_text(epochs) == said  # one batch short of an epoch is not "1 epoch"


def test_epoch_shows_progress_when_it_takes_a_while(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(explorer_view, "PROGRESS_AFTER", -1.0)
    at = app()
    click(at, "b_epoch")
    bars = at.get("progress")
    assert bars and bars[-1].proto.text == "Epoch: step 20 of 20"


def test_epoch_steps_are_what_run_epoch_takes() -> None:
    at = app()
    run = run_of(at)
    stepper = run.stepper
    for prepare in (
        lambda: None,  # a fresh batch
        lambda: stepper.advance(),  # part-way through its phases
        lambda: stepper.run_steps(3),  # updated, inside the epoch
        lambda: stepper.run_epoch(),  # updated, at the epoch's end
    ):
        prepare()
        expected = epoch_steps(stepper)
        step = stepper.state.step
        stepper.run_epoch()
        assert stepper.state.step - step == expected
        while stepper.state.step > step:
            stepper.step_back()


def test_full_training_stopped_then_opened_keeps_one_count_and_one_evaluation() -> None:
    at = app()
    at.switch_page("app_pages/train.py").run()
    at.number_input(key="w_ft_epochs").set_value(1000).run()
    at.number_input(key="w_ft_batch").set_value(1).run()
    click(at, "b_ft_train")
    while at.session_state["ft_job"].epoch < 2:  # into its third epoch at least
        at.run()
    click(at, "b_ft_stop")
    job = at.session_state["ft_job"]
    last = job.epochs[-1]
    assert last.step == job.step  # the network kept is the network evaluated
    epoch, position = divmod(job.step, job.n_batches)
    trained = epochs_text(epoch + position / job.n_batches)
    said = [i.value for i in at.info] + [c.value for c in at.caption]
    assert f"Stopped after {job.step:,} steps ({trained} trained); " in " ".join(said)
    assert f"At step {job.step:,}, {trained} trained (evaluated on every example)." in said
    assert any(p.proto.text == f"Epoch {epoch + 1} of 1000" for p in at.get("progress"))
    click(at, "b_ft_open")
    said = status(at)
    assert said.startswith(f"Epoch {epoch + 1} · step {job.step:,} · batch of 1 ·")
    assert said.endswith(f" · {trained} trained")
    assert tiles(at)["Train loss"] == f"{last.train_loss:.4f}"
    assert tiles(at)["Test accuracy"] == f"{last.test_accuracy:.1%}"
    assert any("as Full training evaluated them" in c.value for c in at.caption)
    run = run_of(at)  # its next batch is the one training would have taken next
    batches = epoch_batches(len(run.dataset.x_train), 1, run.settings.seed, epoch)
    assert np.array_equal(run.stepper.state.batch_index, batches[position])
    at.switch_page("app_pages/explorer.py").run()  # AppTest would rerun Full training
    click(at, "b_step")  # the next batch is the one training would have taken next
    assert run_of(at).stepper.state.step == job.step + 1
    assert tiles(at) == fresh_tiles(run_of(at))


def test_a_network_no_link_can_carry_says_so_and_offers_its_file() -> None:
    at = app()
    at.switch_page("app_pages/train.py").run()
    at.number_input(key="w_ft_epochs").set_value(1).run()
    click(at, "b_ft_train")
    while at.session_state["ft_job"].running:
        at.run()
    click(at, "b_ft_open")
    assert not at.query_params  # not the link to the untrained network it had before
    assert any(c.value.startswith("The address bar holds no link") for c in at.caption)
    assert "Session file" in [b.proto.label for b in at.get("download_button")]


def test_a_link_with_rejected_parts_says_what_was_and_was_not_restored() -> None:
    teacher = app()
    click(teacher, "b_step")
    query = {k: v if isinstance(v, str) else v[-1] for k, v in teacher.query_params.items()}
    student = app({**query, "learning_rate": "huge"})
    said = " ".join(shown(w.value) for w in student.warning)
    restored = "Restored from the link: 2-4-2-1 on"
    assert restored in said and "at step 1 of its training" in said
    assert "Not restored" in said and "learning" in said
