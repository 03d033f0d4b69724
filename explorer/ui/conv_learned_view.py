"""The Convolution page's training views: the recorded loss and accuracy curves, the first
block's kernels at recorded steps, and the CNN beside an MLP of about as many parameters
(``explorer.analysis.conv_compare``), trained on a button, since it takes seconds.

The curves and the kernel strip read what ``ConvRun.record`` kept after each step (Play
records once a tick, Run N and Epoch once at their end); they are drawn only while their tab
is open, so Play on the Step-through tab does not redraw them every tick. Left out: per-neuron
views of the dense part, which the Explorer's Training views page has for an MLP.
"""

from __future__ import annotations

import streamlit as st

from explorer.analysis.conv_compare import MAX_EPOCHS, Comparison, compare
from explorer.engine import NonFiniteError
from explorer.figures import curves_figure
from explorer.figures.conv import kernel_strip_figure
from explorer.ui import keys
from explorer.ui.conv_session import EVAL_ROWS, ConvRun
from explorer.ui.guard import plain

DEFAULT_EPOCHS = 3


def _compare() -> None:
    run = st.session_state[keys.CONV_RUN]
    assert isinstance(run, ConvRun)
    epochs = int(st.session_state[keys.CONV_COMPARE_EPOCHS])
    try:
        st.session_state[keys.CONV_COMPARED] = compare(
            run.spec, run.settings.config(), run.dataset, seed=run.settings.seed, epochs=epochs
        )
    except NonFiniteError as exc:
        st.session_state[keys.CONV_COMPARED] = str(exc)


def curves(run: ConvRun) -> None:
    rows = [run.metrics[k] for k in sorted(run.metrics)]
    if len(rows) < 2:
        st.info("Train a few steps (Complete step, Run N, Play) for the curves.")
        return
    steps = [r.step for r in rows]
    loss = {"train loss": [r.train_loss for r in rows], "test loss": [r.test_loss for r in rows]}
    accuracy = {
        "train accuracy": [r.train_accuracy for r in rows],
        "test accuracy": [r.test_accuracy for r in rows],
    }
    left, right = st.columns(2)
    left.plotly_chart(curves_figure(steps, loss, y_title="loss"), key="conv_loss_curve")
    right.plotly_chart(
        curves_figure(steps, accuracy, y_title="accuracy", percent=True), key="conv_acc_curve"
    )
    rows_used = min(EVAL_ROWS, len(run.dataset.x_test))
    st.caption(f"On the first {rows_used:,} images of each set, after each step.")


def comparison(result: Comparison) -> None:
    st.markdown(
        f"| after {result.epochs} epoch{'s' if result.epochs > 1 else ''} on "
        f"{plain(result.dataset)} | parameters | test accuracy | test loss |\n"
        "| --- | ---: | ---: | ---: |\n"
        + "".join(
            f"| {plain(side.name)} | {side.n_params:,} | {side.test_accuracy:.1%} | "
            f"{side.test_loss:.4f} |\n"
            for side in (result.cnn, result.mlp)
        )
    )
    gap = result.cnn.test_accuracy - result.mlp.test_accuracy
    st.caption(
        f"The MLP's hidden width, {result.width}, is the one whose parameter count comes "
        f"closest to the CNN's ({result.mlp.n_params:,} against {result.cnn.n_params:,}), "
        "with one ReLU layer so all its weights meet the pixels. Same data, seed, optimizer "
        f"and batches; the whole test set. The CNN is {abs(gap):.1%} "
        f"{'ahead' if gap >= 0 else 'behind'}."
    )


def training_tab(run: ConvRun, *, shown: bool) -> None:
    """The tab's views when ``shown`` (the tab is open); its choice of epochs is kept while it
    is hidden (Streamlit drops the value of a widget a run does not draw)."""
    st.session_state[keys.CONV_COMPARE_EPOCHS] = st.session_state.get(
        keys.CONV_COMPARE_EPOCHS, DEFAULT_EPOCHS
    )
    if shown:
        training_views(run)


def training_views(run: ConvRun) -> None:
    curves(run)
    if run.kernels:
        st.plotly_chart(
            kernel_strip_figure(run.kernels),
            key="conv_kernel_strip",
            config={"displayModeBar": False},
        )
    st.subheader("Against an MLP of about as many parameters")
    left, right = st.columns([1, 2], vertical_alignment="bottom")
    left.number_input("Epochs", 1, MAX_EPOCHS, key=keys.CONV_COMPARE_EPOCHS)
    right.button("Train both", key="cb_compare", on_click=_compare, icon=":material/compare:")
    result = st.session_state.get(keys.CONV_COMPARED)
    if isinstance(result, str):
        st.error(plain(result))
    elif isinstance(result, Comparison):
        comparison(result)
