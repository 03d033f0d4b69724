"""The Training page's body: train for N epochs (fast path, progress bar, Stop) and the views of
what the current network has learned, each in a tab that computes only when open.

- 2-D sets: the output over the input plane with the data (misclassified test points ringed,
  a "discretize" switch; regression as a heatmap or a 3-D surface), and every neuron's map.
- Image sets: each first-layer neuron's weights as an image, one neuron's contribution map on
  a test sample with that sample's probabilities; the confusion matrix, accuracy per class and
  a gallery of the most confident mistakes.
- Every set: train and test loss and accuracy over steps or epochs (log scale optional), the
  gradient norm per layer over time, dead and saturated units, histograms of activations and
  weights per layer.

The page shares the user's ``Run`` with the Explorer. Training ticks in ``job_fragment``'s
timed fragment while a job runs, so each tick redraws the open view, and the Stop button (a
callback, run before the next tick) ends the job between epochs. ``plane_tab`` puts the
decision boundary beside the Explorer's graph. Left out: math (``explorer.analysis.learned``)
and drawing (``explorer.figures``).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import numpy as np
import streamlit as st

from explorer.analysis.learned import (
    class_accuracy,
    confusion_matrix,
    histograms,
    misclassified,
    plane_bounds,
    plane_maps,
    predict,
    unit_health,
    wrong,
)
from explorer.engine import NonFiniteError, Params, Stepper, forward, predict_classes
from explorer.figures import (
    boundary_figure,
    class_accuracy_figure,
    confusion_figure,
    contribution_figure,
    curves_figure,
    histograms_figure,
    misclassified_figure,
    neuron_maps_figure,
    probabilities_figure,
    weight_images_figure,
)
from explorer.ui import keys
from explorer.ui.epoch_job import TrainJob, start
from explorer.ui.job_fragment import job_fragment
from explorer.ui.session import Metrics, Run, act, count
from explorer.ui.step_controls import STEP_HELP, Button, Count, control_row

HEALTH_ROWS = 500  # training rows behind the activation histograms and the unit health
GALLERY = 18  # misclassified test samples shown
FLOAT32_MAX = float(np.finfo(np.float32).max)
CHART = {"displayModeBar": False}


# -- actions (callbacks) ---------------------------------------------------------------------
def _train(run: Run) -> None:
    st.session_state[keys.TRAIN_JOB] = start(run, int(st.session_state[keys.W_TR_EPOCHS]))


def _stop() -> None:
    st.session_state.pop(keys.TRAIN_JOB, None)


def _step(run: Run) -> None:
    _stop()
    act(run, Stepper.finish_step)


def _back(run: Run) -> None:
    _stop()
    run.stepper.step_back()
    run.failure = None
    run.forget_future()


def _job(run: Run) -> TrainJob | None:
    """The running job; one that is over, or stale (something else moved the network), is
    dropped."""
    job: TrainJob | None = st.session_state.get(keys.TRAIN_JOB)
    if job is not None and (job.stale(run) or not job.running):
        _stop()
        return None
    return job


# -- the page --------------------------------------------------------------------------------
def controls(run: Run, job: TrainJob | None) -> None:
    control_row(
        [
            Button(
                "Back",
                "b_tr_back",
                ":material/undo:",
                partial(_back, run),
                help="Undo the last action; a whole training run at once.",
                disabled=not run.stepper.can_step_back,
                width=0.9,
            ),
            Button(
                "Complete step",
                "b_tr_step",
                ":material/skip_next:",
                partial(_step, run),
                help=STEP_HELP,
                width=1.3,
            ),
            Count("Epochs", keys.W_TR_EPOCHS, 5, width=0.7),
            Button(
                "Train N epochs",
                "b_train",
                ":material/model_training:",
                partial(_train, run),
                help="Train on the fast path until N more epochs have ended (an epoch under "
                "way counts as the first). Step back undoes it.",
                primary=True,
                disabled=job is not None,
                width=1.6,
            ),
            Button(
                "Stop",
                "b_stop",
                ":material/stop:",
                _stop,
                disabled=job is None,
                width=0.9,
            ),
        ],
        space=2.6,
    )


def status(run: Run) -> str:
    """Where training stands and how the network does, in the Explorer's words and figures."""
    parts = list(count(run.stepper))
    last = run.shown()
    if last is not None:
        parts.append(f"train loss {last.train_loss:.4f}")
        parts.append(f"test loss {last.test_loss:.4f}")
        if last.test_accuracy is not None:
            parts.append(f"test accuracy {last.test_accuracy:.1%}")
    return " · ".join(parts)


def training_page(run: Run) -> None:
    """The whole body of the Training page."""
    st.title("Training views")
    job = _job(run)
    controls(run, job)
    job_fragment(keys.TRAIN_JOB, partial(_live, run), partial(_live, run, None))


def _live(run: Run, job: TrainJob | None) -> None:
    """Progress, where training stands and the open view; redrawn on every tick of a job."""
    if job is not None:
        st.progress(job.fraction, text=f"Training: {job.done} of {job.epochs} epochs")
    if run.failure:
        st.error(run.failure)
    st.caption(status(run))
    views(run)


def views(run: Run) -> None:
    """The tabs that fit the dataset; only the open one computes."""
    panels = _panels(run)
    tabs = st.tabs(list(panels), key="w_tr_tab", on_change="rerun")
    for tab, panel in zip(tabs, panels.values(), strict=True):
        if tab.open:
            with tab:
                _guarded(panel, run)


def _panels(run: Run) -> dict[str, Callable[[Run], None]]:
    common: dict[str, Callable[[Run], None]] = {
        "Curves": curves_panel,
        "Gradients & distributions": health_panel,
    }
    if is_plane(run):
        return {"Decision boundary": boundary_panel, "Neurons": neurons_panel, **common}
    if is_image(run):
        return {"Weights": weights_panel, "Test set": test_panel, **common}
    return common


def is_plane(run: Run) -> bool:
    return run.spec.input_size == 2


def is_image(run: Run) -> bool:
    return len(run.dataset.input_shape) == 2 and run.dataset.task == "classification"


def plane_tab(run: Run, draw_graph: Callable[[], None]) -> None:
    """The Explorer's graph, with the decision boundary in a tab beside it for 2-D data."""
    if not is_plane(run):
        draw_graph()
        return
    graph, plane = st.tabs(["Network", "Decision boundary"], key="w_ex_tab", on_change="rerun")
    if graph.open:
        with graph:
            draw_graph()
    if plane.open:
        with plane:
            _guarded(boundary_panel, run)


def _params(run: Run) -> Params:
    """float32, like the data: ample for a picture, and half the work. Raises NonFiniteError
    for a network diverged beyond float32's range."""
    params = run.stepper.state.params
    if max(float(np.abs(a).max()) for a in (*params.weights, *params.biases)) >= FLOAT32_MAX:
        raise NonFiniteError("forward", None)
    return params.astype(np.float32)


def _guarded(panel: Callable[[Run], None], run: Run) -> None:
    """Draw ``panel``, or say why a diverged network cannot be drawn."""
    try:
        panel(run)
    except NonFiniteError:
        st.warning(
            "This network's numbers overflow, so this view cannot be drawn. "
            "Step back to before it diverged, or rebuild it."
        )


# -- 2-D views -------------------------------------------------------------------------------
def boundary_panel(run: Run) -> None:
    d = run.dataset
    classify = d.task == "classification"
    if classify:
        discretize = st.toggle("Discretize output", key="w_discretize")
        surface = False
    else:
        surface = st.toggle("3-D surface", key="w_surface")
        discretize = False
    params = _params(run)
    maps = plane_maps(run.spec, params, plane_bounds(d.x_train, d.x_test))
    test_wrong = wrong(d.y_test, predict(run.spec, params, d.x_test)) if classify else None
    fig = boundary_figure(
        maps,
        x_train=d.x_train,
        y_train=d.y_train,
        x_test=d.x_test,
        y_test=d.y_test,
        classify=classify,
        test_wrong=test_wrong,
        discretize=discretize,
        surface=surface,
        class_names=d.class_names,
    )
    # A square plot: as wide as its colour bar needs, not the whole column.
    st.plotly_chart(fig, key="boundary", config=CHART, width="stretch" if surface else 600)
    if test_wrong is not None:
        st.caption(
            f"{int(test_wrong.sum())} of {len(test_wrong):,} test points misclassified "
            "(ringed in red). Train points have a white outline, test points a dark one."
        )


def neurons_panel(run: Run) -> None:
    d = run.dataset
    params = _params(run)
    maps = plane_maps(run.spec, params, plane_bounds(d.x_train, d.x_test))
    st.plotly_chart(neuron_maps_figure(run.spec, params, maps), key="neurons", config=CHART)
    st.caption(
        "Each tile is one neuron's output over the input plane (x1 across, x2 up), blue "
        "positive, orange negative, on its column's range; lines are the weights."
    )


# -- image views -----------------------------------------------------------------------------
def weights_panel(run: Run) -> None:
    d = run.dataset
    shape = (d.input_shape[0], d.input_shape[1])
    n_units = run.spec.sizes[1]
    if run.selected is not None and run.selected[0] == 0 and run.selected[1] < n_units:
        st.session_state[keys.W_TR_UNIT] = run.selected[1]
    if st.session_state.get(keys.W_TR_UNIT, 0) >= n_units:
        st.session_state[keys.W_TR_UNIT] = 0
    left, right = st.columns(2)
    unit = left.selectbox(
        "Neuron of layer 1",
        range(n_units),
        key=keys.W_TR_UNIT,
        on_change=lambda: setattr(run, "selected", (0, st.session_state[keys.W_TR_UNIT])),
    )
    sample = right.number_input("Test sample", 0, len(d.x_test) - 1, value=0, key="w_tr_sample")
    params = _params(run)
    st.plotly_chart(
        weight_images_figure(params.weights[0], shape, selected=unit), key="weights", config=CHART
    )
    st.caption("Each neuron's incoming weights as an image: blue pixels push it up, red down.")
    x = d.x_test[sample]
    output = predict(run.spec, params, x[None, :])[0]
    label = int(d.y_test[sample])
    left, right = st.columns([1.6, 1])
    w, b = params.weights[0][:, unit], float(params.biases[0][unit])
    left.plotly_chart(
        contribution_figure(x, w, b, shape, unit=unit), key="contribution", config=CHART
    )
    verdict = "right" if int(predict_classes(output[None, :])[0]) == label else "wrong"
    right.markdown(f"**Test sample {sample}**: label {d.class_names[label]}, {verdict}")
    right.plotly_chart(
        probabilities_figure(output, d.class_names, label=label),
        key="probabilities",
        config=CHART,
    )


def test_panel(run: Run) -> None:
    d = run.dataset
    shape = (d.input_shape[0], d.input_shape[1])
    output = predict(run.spec, _params(run), d.x_test)
    confusion = confusion_matrix(d.y_test, predict_classes(output), d.n_classes)
    accuracy = float(np.trace(confusion)) / len(d.y_test)
    st.caption(f"Test accuracy {accuracy:.1%} on {len(d.y_test):,} test samples.")
    left, right = st.columns([1.2, 1])
    left.plotly_chart(confusion_figure(confusion, d.class_names), key="confusion", config=CHART)
    right.markdown("**Accuracy per class**")
    right.plotly_chart(
        class_accuracy_figure(class_accuracy(confusion), d.class_names),
        key="class_accuracy",
        config=CHART,
    )
    st.markdown("**The most confident mistakes** (true → predicted, its probability)")
    miss = misclassified(d.y_test, output, limit=GALLERY)
    st.plotly_chart(
        misclassified_figure(d.x_test[miss], shape, d.y_test[miss], output[miss], d.class_names),
        key="gallery",
        config=CHART,
    )


# -- every dataset ---------------------------------------------------------------------------
def _history(run: Run) -> list[Metrics]:
    return [run.metrics[k] for k in sorted(run.metrics)]


def curves_panel(run: Run) -> None:
    rows = _history(run)
    left, right = st.columns(2)
    by = left.radio("Along", ("steps", "epochs"), horizontal=True, key="w_tr_along")
    log_y = right.toggle("Log scale (loss)", key="w_tr_log")
    xs = [r.step for r in rows] if by == "steps" else [r.epochs for r in rows]
    x_title = "step" if by == "steps" else "epoch"
    loss = {"train loss": [r.train_loss for r in rows], "test loss": [r.test_loss for r in rows]}
    st.plotly_chart(
        curves_figure(xs, loss, x_title=x_title, y_title="loss", log_y=log_y, height=260),
        key="loss_curves",
        config=CHART,
    )
    if rows[-1].test_accuracy is None:
        return
    accuracy = {
        "train accuracy": [r.train_accuracy for r in rows],
        "test accuracy": [r.test_accuracy for r in rows],
    }
    st.plotly_chart(
        curves_figure(xs, accuracy, x_title=x_title, y_title="accuracy", percent=True, height=260),
        key="accuracy_curves",
        config=CHART,
    )


def health_panel(run: Run) -> None:
    rows = _history(run)
    names = [_layer_name(run, layer) for layer in range(len(run.spec.layers))]
    norms = {
        name: [r.grad_norms[i] if i < len(r.grad_norms) else None for r in rows]
        for i, name in enumerate(names)
    }
    st.markdown("**Gradient norm per layer** (of each step's mini-batch; log scale)")
    st.plotly_chart(
        curves_figure([r.step for r in rows], norms, y_title="|∂L/∂θ|", log_y=True, height=240),
        key="grad_norms",
        config=CHART,
    )
    params = _params(run)
    fwd = forward(run.spec, params, run.dataset.x_train[:HEALTH_ROWS])
    for name, health in zip(names, unit_health(run.spec, fwd), strict=False):
        n = len(health.dead)
        st.caption(
            f"{name}: {int(health.dead.sum())} of {n} units dead (no gradient on any of "
            f"{len(fwd.input)} training samples), {int(health.saturated.sum())} saturated."
        )
    st.markdown(f"**Activations** on {len(fwd.input)} training samples")
    st.plotly_chart(
        histograms_figure(histograms(fwd.output), names, x_title="a"),
        key="activation_hist",
        config=CHART,
    )
    st.markdown("**Weights**")
    st.plotly_chart(
        histograms_figure(histograms(params.weights), names, x_title="w"),
        key="weight_hist",
        config=CHART,
    )


def _layer_name(run: Run, layer: int) -> str:
    spec = run.spec
    name = "output" if layer == len(spec.layers) - 1 else f"layer {layer + 1}"
    return f"{name} ({spec.layers[layer].activation})"
