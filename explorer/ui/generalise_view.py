"""The Generalisation page's body: does the network recognise digits it never saw?

- **Train and test accuracy over training.** The sidebar's network when its dataset is an
  image set of digits, otherwise the lesson's 784-16-16-10 on the MNIST sample, trained on a
  chosen number of training digits (``explorer.analysis.generalise``) by ``FullTraining``, the Full
  training page's chunked loop: a fragment on a timer advances it a chunk per tick, so the
  curves grow, the progress bar moves and Stop lands at once. With few training digits the
  network learns them by heart: train accuracy goes to 100 %, test accuracy stays low.
- **A gallery** of test digits it gets right and wrong with its confidence, and the Explorer's
  canvas (``explorer.ui.draw_view``) to draw a digit of one's own and see its guess.
- **The check** against published figures: our network and scikit-learn's on the same data,
  on demand, with progress and Stop; said plainly when the data is not on this machine.

The page trains networks of its own, kept in this session's state: the user's network on the
other pages is never touched. Left out: the arithmetic (``explorer.analysis.generalise``) and
drawing
(``explorer.figures``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import streamlit as st

from explorer.analysis.generalise import (
    DEFAULT_EPOCHS,
    RECIPES,
    Check,
    Recipe,
    curves,
    gallery,
    outputs_on_test,
    page_settings,
    predict_image,
    split_sizes,
    start_training,
)
from explorer.data import DataError, Dataset, available_datasets
from explorer.data.digit_input import EmptyDrawing, Image, rasterize
from explorer.engine import NonFiniteError, SpecError
from explorer.figures import curves_figure, probabilities_figure
from explorer.figures.generalise import accuracy_figure, gallery_figure
from explorer.state.settings import Settings
from explorer.training.full import FullTraining
from explorer.ui import keys
from explorer.ui.datasets import dataset_for
from explorer.ui.draw_view import BRUSH_PX, CANVAS_PX, digit_converter, draw_canvas, preview
from explorer.ui.guard import plain
from explorer.ui.job_fragment import job_fragment
from explorer.ui.session import Run

MAX_EPOCHS = 200
CHART = {"displayModeBar": False}
MISSING = {
    "fashion-mnist": "Fashion-MNIST is not on this machine: on Debian or Ubuntu, "
    "`apt install dataset-fashion-mnist` provides it.",
    "mnist": "Full MNIST is not on this machine: the **Full training** page downloads it "
    "(70,000 digits, 11 MB), once.",
}


# -- actions (callbacks) ---------------------------------------------------------------------
def _split_key(d: Dataset) -> str:
    # one widget per training-set size: another set's choice may not be among this one's
    return f"w_gen_split_{len(d.x_train)}"


def _start(settings: Settings, d: Dataset) -> None:
    split = st.session_state.get(_split_key(d), len(d.x_train))
    epochs = st.session_state.get(keys.W_GEN_EPOCHS, DEFAULT_EPOCHS)
    try:
        st.session_state[keys.GEN_JOB] = start_training(
            settings, d, split=int(split), epochs=int(epochs)
        )
        st.session_state[keys.GEN_ERROR] = None
    except (ValueError, TypeError, SpecError) as exc:
        st.session_state[keys.GEN_ERROR] = str(exc)


def _stop(key: str) -> None:
    job: FullTraining | Check | None = st.session_state.get(key)
    if job is not None:
        job.stop()


def _start_check(recipe: Recipe) -> None:
    try:
        d = dataset_for(Settings(dataset=recipe.dataset))
        st.session_state[keys.GEN_CHECK] = Check(recipe, d)
        st.session_state[keys.GEN_ERROR] = None
    except DataError as exc:
        st.session_state[keys.GEN_ERROR] = str(exc)


# -- drawing ---------------------------------------------------------------------------------
def generalise_page(run: Run) -> None:
    """The whole body of the Generalisation page."""
    st.title("Generalisation: digits it never saw")
    st.markdown(
        "*“After training, the model generalises and accurately predicts unseen handwritten "
        "digits.”* Test it: the network learns from the training digits only; the test "
        "digits are kept apart, and its accuracy on them is what it learned about digits, "
        "not about these digits."
    )
    settings = page_settings(run.settings, run.dataset)
    d = run.dataset if settings is run.settings else dataset_for(settings)
    where = "the sidebar's network" if settings is run.settings else "the lesson's network"
    spec = settings.network_spec(d).describe()
    own = settings is run.settings
    hint = "" if own else " Choose an image set of digits in the sidebar to train yours here."
    st.caption(
        f"{where.capitalize()}, {spec}, on {d.name} ({len(d.x_test):,} test digits), trained "
        f"with {settings.optimizer} at rate {settings.learning_rate:g} in batches of "
        f"{settings.batch_size}.{hint}"
    )
    controls(settings, d)
    live()
    job: FullTraining | None = st.session_state.get(keys.GEN_JOB)
    if job is not None and not job.running and job.step:
        results(job)
    check_section()


def controls(settings: Settings, d: Dataset) -> None:
    job: FullTraining | None = st.session_state.get(keys.GEN_JOB)
    running = job is not None and job.running
    sizes = split_sizes(d)
    left, right = st.columns(2)
    left.select_slider(
        "Training digits",
        options=sizes,
        value=sizes[-1],
        format_func=lambda n: f"all {n:,}" if n == sizes[-1] else f"{n:,}",
        key=_split_key(d),
        help="How many training digits the network learns from; the test digits stay the same.",
    )
    right.number_input("Epochs", 1, MAX_EPOCHS, value=DEFAULT_EPOCHS, key=keys.W_GEN_EPOCHS)
    row = st.container(horizontal=True)
    row.button(
        "Train",
        key="b_gen_train",
        icon=":material/play_arrow:",
        type="primary",
        on_click=_start,
        args=(settings, d),
        disabled=running,
    )
    row.button(
        "Stop",
        key="b_gen_stop",
        icon=":material/stop:",
        on_click=_stop,
        args=(keys.GEN_JOB,),
        disabled=not running,
    )
    if st.session_state.get(keys.GEN_ERROR):
        st.error(plain(st.session_state[keys.GEN_ERROR]))


def live() -> None:
    """Progress, numbers and the accuracy curves; reruns on a timer while the job trains."""
    job_fragment(keys.GEN_JOB, _show, "Choose how many training digits, then press Train.")


def _show(job: FullTraining) -> None:
    progress(job)
    c = curves(job)
    cols = st.columns(3)
    cols[0].metric("Train accuracy", f"{c.train[-1]:.1%}")
    cols[1].metric("Test accuracy", f"{c.test[-1]:.1%}")
    cols[2].metric("Gap", f"{c.gap:+.1%}")
    if len(c.epochs) > 1:
        st.plotly_chart(accuracy_figure(c), key="gen_curves", config=CHART)
    st.caption(_verdict(job, c.gap))


def progress(job: FullTraining) -> None:
    epochs = job.config.epochs
    st.progress(min(1.0, job.epochs_trained / epochs), text=f"Epoch {job.epoch} of {epochs}")
    n_train = len(job.dataset.x_train)
    st.caption(
        f"{job.spec.describe()} learning from {n_train:,} training digits · step {job.step:,}"
    )
    if job.failure:
        st.error(plain(job.failure))
    elif job.stopped:
        st.info(f"Stopped after {job.step:,} steps; the network keeps what it learned.")


def _verdict(job: FullTraining, gap: float) -> str:
    n_train, n_test = len(job.dataset.x_train), len(job.dataset.x_test)
    base = (
        f"Train accuracy is measured on the {n_train:,} digits it learned from, test accuracy "
        f"on {n_test:,} digits it never saw, after every epoch."
    )
    if gap > 0.1:
        return base + (
            " The gap is wide: it has learned these training digits by heart (overfitting). "
            "Give it more training digits and watch the test curve rise."
        )
    return base + " The two stay close: what it learned carries over to new digits."


def results(job: FullTraining) -> None:
    """The gallery of test digits and the canvas, for the trained network."""
    d = job.dataset
    output = outputs_on_test(job)
    right, wrong = gallery(d.y_test, output)
    shape = (d.input_shape[0], d.input_shape[1])
    st.subheader("Test digits it gets right and wrong")
    st.caption(
        "Under each digit: its label and the probability the network gives its answer; for "
        "a mistake, true → answer, and below it the probability it gave the true digit."
    )
    left, right_col = st.columns(2)
    n_right = int(np.sum(output.argmax(axis=1) == d.y_test))
    left.markdown(f"**Right**: {n_right:,} of {len(d.y_test):,} test digits")
    figure = gallery_figure(d.x_test[[g.index for g in right]], shape, right, d.class_names)
    left.plotly_chart(figure, key="gen_right", config=CHART)
    right_col.markdown(f"**Wrong**: {len(d.y_test) - n_right:,}, the most confident first")
    figure = gallery_figure(d.x_test[[g.index for g in wrong]], shape, wrong, d.class_names)
    right_col.plotly_chart(figure, key="gen_wrong", config=CHART)
    convert = digit_converter(d)
    if convert is not None:
        drawn(job, convert)


def drawn(job: FullTraining, convert: Callable[[Image], Image]) -> None:
    """The Explorer's canvas: a digit of one's own, through the network trained here."""
    st.subheader("Draw a digit it has never seen")
    pad, beside = st.columns(2)
    with pad:
        strokes = draw_canvas(keys.GEN_CANVAS)
    try:
        pixels = convert(rasterize(strokes, size=CANVAS_PX, width=BRUSH_PX))
        output = predict_image(job.spec, job.params(), pixels)
    except EmptyDrawing as exc:
        beside.info(str(exc))
        return
    except NonFiniteError as exc:
        beside.error(plain(str(exc)))
        return
    names = job.dataset.class_names
    best = int(np.argmax(output))
    beside.image(preview(pixels), caption="What the network sees")
    beside.markdown(f"**Prediction: {names[best]}** ({float(output[best]):.0%} sure)")
    beside.plotly_chart(probabilities_figure(output, names), key="gen_drawn", config=CHART)


def check_section() -> None:
    st.subheader("Check our numbers against published ones")
    st.caption(
        "The same shape trained by this app's engine and by scikit-learn's MLPClassifier, on "
        "the same training rows in the same mini-batches (ReLU, Adam at rate 0.001, batches "
        "of 64, 10 epochs), then scored on the same test rows. Takes a minute or two."
    )
    titles = {r.title: r for r in RECIPES}
    title = st.radio("Check", list(titles), key="w_gen_recipe", horizontal=True)
    recipe = titles[str(title)]
    check: Check | None = st.session_state.get(keys.GEN_CHECK)
    running = check is not None and check.running
    here = recipe.dataset in available_datasets()
    if not here:
        st.info(MISSING[recipe.dataset])
    row = st.container(horizontal=True)
    row.button(
        f"Run the check ({recipe.epochs} epochs each)",
        key="b_gen_check",
        icon=":material/fact_check:",
        on_click=_start_check,
        args=(recipe,),
        disabled=running or not here,
    )
    row.button(
        "Stop",
        key="b_gen_check_stop",
        icon=":material/stop:",
        on_click=_stop,
        args=(keys.GEN_CHECK,),
        disabled=not running,
    )
    check_live()


def check_live() -> None:
    job_fragment(keys.GEN_CHECK, _check_progress)


def _check_progress(check: Check) -> None:
    n = check.recipe.epochs
    ours, theirs = check.ours, check.theirs
    st.progress(
        min(1.0, check.fraction),
        text=f"{check.recipe.title}: ours epoch {ours.epoch} of {n}, "
        f"scikit-learn epoch {theirs.done} of {n}",
    )
    if ours.failure:
        st.error(plain(ours.failure))
    elif check.stopped:
        st.info("Stopped: the numbers below are of the epochs trained so far.")
    r = check.result()
    rows = [
        {
            "model": f"this app's engine ({ours.spec.describe()})",
            "epochs": r.ours_epochs,
            "test accuracy": _share(r.ours),
            "training time": f"{r.ours_seconds:.1f} s",
        },
        {
            "model": "scikit-learn MLPClassifier",
            "epochs": r.theirs_epochs,
            "test accuracy": _share(r.theirs),
            "training time": f"{r.theirs_seconds:.1f} s",
        },
    ]
    st.dataframe(rows, hide_index=True)
    if theirs.done:
        st.markdown(
            f"Published: {check.recipe.published}. scikit-learn took **{r.ratio:.1f}×** "
            "this app's training time (evaluation not counted)."
        )
    mine = {rec.epoch: rec.test_accuracy for rec in ours.epochs if rec.step or not rec.epoch}
    sklearn = dict(enumerate(theirs.accuracies, start=1))
    epochs = list(range(max(ours.epoch, theirs.done) + 1))
    series = {
        "this app": [mine.get(e) for e in epochs],
        "scikit-learn": [sklearn.get(e) for e in epochs],
    }
    if len(epochs) > 1:
        st.markdown("**Test accuracy after each epoch**")
        fig = curves_figure(epochs, series, x_title="epoch", percent=True)
        st.plotly_chart(fig, key="gen_check_curves", config=CHART)


def _share(value: float) -> str:
    return "—" if np.isnan(value) else f"{value:.2%}"
