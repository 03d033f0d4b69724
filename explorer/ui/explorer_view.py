"""The Explorer page's body: step controls, status, the network graph, the neuron inspector
and gradient check (``inspector_view``), the live loss and accuracy.

The step buttons are ``step_controls``' row, acting through callbacks. The graph's colours
follow the phase unless a fixed quantity is chosen; it is drawn by ``graph_view``, which also
binds the keys (a presentation clicker's PageDown/PageUp, arrows, Space, Enter, ?) to these
buttons. Play is a fragment that reruns on a timer and takes the steps due at PLAY_RATE a
second (however long a rerun takes, see PlayClock); it stops by itself when the numbers
overflow.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from functools import partial

import streamlit as st

from explorer.engine import Stepper, predict_classes
from explorer.figures import curves_figure, network_figure
from explorer.figures.network import (
    COLOR_BY,
    DRAWN_EDGES,
    EDGE_BY,
    HOVER_EDGES,
    PHASE,
    edges_capped,
    hover_limited,
)
from explorer.state.session_file import save_session
from explorer.ui import keys
from explorer.ui.draw_view import draw_digit_panel
from explorer.ui.files_view import files_panel
from explorer.ui.graph_view import kept_chart, network_chart, pick_of, picked
from explorer.ui.inspector_view import gradient_panel, inspector
from explorer.ui.learned_view import plane_tab
from explorer.ui.page import unlinkable, write_link
from explorer.ui.presenter import GRAPH_HEIGHT, presenting
from explorer.ui.session import PlayClock, Run, act, count
from explorer.ui.step_controls import StepActions, step_row

PLAY_INTERVAL = 0.25  # seconds between play ticks
PLAY_RATE = 10.0  # steps a second while playing
PLAY_MOST_PER_TICK = 4
PROGRESS_AFTER = 0.3  # seconds of Run N or Epoch before a progress bar shows
PROGRESS_EVERY = 0.1  # seconds between its updates
QUANTITY_LABELS = {
    PHASE: "follow the phase",
    "a": "activation a",
    "z": "total input z",
    "output_der": "dL/da",
    "input_der": "δ = dL/dz",
}
EDGE_LABELS = {
    PHASE: "follow the phase",
    "weight": "weight w",
    "weight_der": "gradient dL/dw",
}
KEYS_HELP = "Keys: → or Page Down next phase, ← or Page Up back, Space play, Enter step, ? help."


# -- actions (callbacks) -----------------------------------------------------------------
def _next_phase(run: Run) -> None:
    act(run, Stepper.advance, record=run.stepper.next_phase.kind == "update")


def _finish_step(run: Run) -> None:
    act(run, Stepper.finish_step)


def _run_steps(run: Run) -> None:
    run.queued = ("Run N", int(st.session_state[keys.W_RUN_N]))


def _run_epoch(run: Run) -> None:
    run.queued = ("Epoch", epoch_steps(run.stepper))


def epoch_steps(stepper: Stepper) -> int:
    """The steps ``Stepper.run_epoch`` takes from here: the current batch unless its update
    is done, then the batches left in its epoch (a whole epoch after its last update)."""
    s = stepper.state
    size = stepper.config.batch_size
    if s.done < len(stepper.phases):
        return 1 + -(-max(stepper.n_train - s.position - len(s.batch_index), 0) // size)
    _, position = stepper.next_sample()
    return -(-(stepper.n_train - position) // size)


def _step_back(run: Run) -> None:
    run.stepper.step_back()
    run.failure = None
    run.forget_future()


def _reset(run: Run) -> None:
    while run.stepper.step_back():
        pass
    run.failure = None
    run.play = None
    run.forget_future()


def _play(run: Run) -> None:
    run.play = PlayClock(PLAY_RATE) if st.session_state[keys.W_PLAY] else None


def _work(run: Run) -> None:
    """Steps queued by Run N or Epoch, taken here, before the buttons are drawn (Back's state
    follows), one at a time, with a progress bar once they take over PROGRESS_AFTER seconds
    (it stays, full, until the next click); an overflow stops them, keeping the steps before
    it. A click meanwhile interrupts between two steps."""
    if run.queued is None:
        return
    what, steps = run.queued
    run.queued = None
    began = shown = time.perf_counter()
    bar = None
    for done in range(1, steps + 1):
        act(run, Stepper.finish_step, record=False)
        if run.failure:
            break
        now = time.perf_counter()
        if now - began > PROGRESS_AFTER and (now - shown > PROGRESS_EVERY or done == steps):
            shown = now
            text = f"{what}: step {done:,} of {steps:,}"
            bar = st.progress(done / steps, text=text) if bar is None else bar
            bar.progress(done / steps, text=text)
    else:
        run.record()


def play_tick(run: Run, clock: PlayClock) -> None:
    """The steps due, each recorded (the loss curve gets every point); an overflow stops."""
    for _ in range(clock.due(time.monotonic(), PLAY_MOST_PER_TICK)):
        act(run, Stepper.finish_step)
        if not run.playing:
            break


def _select(run: Run) -> None:
    neuron = picked(pick_of(keys.GRAPH), run.spec.sizes)
    if neuron is not None:
        run.selected = neuron


# -- drawing ---------------------------------------------------------------------------------
def controls(run: Run) -> None:
    """The step buttons, in the order of a step."""
    actions = StepActions(
        back=partial(_step_back, run),
        next_phase=partial(_next_phase, run),
        finish_step=partial(_finish_step, run),
        run_n=partial(_run_steps, run),
        epoch=partial(_run_epoch, run),
        play=partial(_play, run),
        reset=partial(_reset, run),
    )
    step_row(
        actions,
        prefix="b",
        n_key=keys.W_RUN_N,
        play_key=keys.W_PLAY,
        can_step_back=run.stepper.can_step_back,
        next_help=f"Run the next phase of this mini-batch: {run.stepper.next_phase}.",
        epoch_help="Run steps to the end of this epoch.",
        play_rate=PLAY_RATE,
    )


def status(run: Run) -> str:
    s = run.stepper.state
    last = run.stepper.last_phase
    done = "start of a mini-batch" if last is None else f"done: {last}"
    where, trained = count(run.stepper)
    return (
        f"{where} · batch of {len(s.batch_index)} · {done} · next: {run.stepper.next_phase} · "
        f"{trained}"
    )


def view_options(run: Run) -> tuple[str, str, int | None, int]:
    """Colour, edges, shown sample and top-K choices."""
    s = run.stepper.state
    left, mid, right, far = st.columns([1.2, 1, 1.4, 1])
    color_by = left.selectbox(
        "Colour neurons by", COLOR_BY, format_func=QUANTITY_LABELS.__getitem__, key="w_color"
    )
    edge_by = mid.selectbox(
        "Colour edges by", EDGE_BY, format_func=EDGE_LABELS.__getitem__, key="w_edges"
    )
    n = len(s.batch_index)
    labels = run.dataset.y_train[s.batch_index]
    options: list[int | None] = [None, *range(n)]
    if st.session_state.get(keys.W_SAMPLE) not in options:
        st.session_state[keys.W_SAMPLE] = None

    def name(i: int | None) -> str:
        if i is None:
            return f"Batch (mean of {n})"
        label = run.dataset.class_names[int(labels[i])] if run.dataset.class_names else labels[i]
        return f"Sample {i} (label {label})"  # 0-based, as the inspector and the units

    sample = right.selectbox("Shown sample", options, format_func=name, key=keys.W_SAMPLE)
    top_k = 200
    if run.spec.input_size > 64:
        top_k = far.slider("Input edges shown", 20, 1000, 200, step=20, key="w_top_k")
    return color_by, edge_by, sample, top_k


def graph(run: Run, color_by: str, edge_by: str, sample: int | None, top_k: int) -> None:
    shape = run.dataset.input_shape
    # Output units are labelled, and the sample's target ringed, where each unit is a class.
    names = run.dataset.class_names
    labelled = bool(names) and len(names) == run.spec.layers[-1].size
    target = None
    if labelled and sample is not None:
        target = int(run.dataset.y_train[run.stepper.state.batch_index[sample]])
    fig = network_figure(
        run.spec,
        run.stepper.state,
        color_by=color_by,
        edge_by=edge_by,
        sample=sample,
        top_k=top_k,
        phase=run.stepper.last_phase,
        selected=run.selected,
        input_shape=(shape[0], shape[1]) if len(shape) == 2 else None,
        class_names=names if labelled else None,
        target=target,
    )
    if presenting():
        fig.update_layout(height=GRAPH_HEIGHT)
    network_chart(fig, key=keys.GRAPH, on_pick=lambda: _select(run))
    edges = "edges"
    if hover_limited(run.spec, top_k):
        edges = f"the {HOVER_EDGES:,} strongest edges of each layer"
    capped = ""
    if edges_capped(run.spec):
        capped = f"A layer of more than {DRAWN_EDGES:,} edges draws its strongest {DRAWN_EDGES:,}. "
    st.caption(
        f"Click a neuron to inspect it. Hover over neurons and {edges} for exact numbers. "
        + capped
        + KEYS_HELP
    )


def link_note(run: Run) -> None:
    """Where the address bar cannot link to this network: why, and the file that carries it."""
    why = unlinkable(run)
    if why is None:
        return

    def session_file() -> bytes:
        s = run.stepper.state
        metrics = [asdict(m) for m in run.metrics.values()]
        return save_session(run.settings, s, len(run.stepper.phases), metrics)

    left, right = st.columns([3, 1], vertical_alignment="center")
    left.caption(
        f"The address bar holds no link to this network: {why}, and a link carries only "
        'settings and steps. Share its session file instead: "Continue a saved session" '
        "under Save, load, export opens it."
    )
    right.download_button(
        "Session file",
        session_file,
        file_name="backprop-session.npz",
        key="b_link_session",
        icon=":material/download:",
        on_click="ignore",
    )


def prediction(run: Run, sample: int | None) -> None:
    s = run.stepper.state
    if len(s.a) < len(run.spec.layers) or sample is None or run.dataset.task != "classification":
        return
    out = s.a[-1][sample : sample + 1]
    predicted = int(predict_classes(out)[0])
    label = int(run.dataset.y_train[s.batch_index[sample]])
    names = run.dataset.class_names
    verdict = ":green[:material/check_circle:]" if predicted == label else ":red[:material/cancel:]"
    st.markdown(f"**Prediction** {verdict} {names[predicted]} (label {names[label]})")
    if out.shape[1] > 1:
        st.bar_chart({"probability": {names[i]: float(v) for i, v in enumerate(out[0])}})


def metrics(run: Run) -> None:
    """The tiles and the loss curve, of the network on screen (see ``Run.shown``)."""
    last = run.shown()
    if last is None:
        return
    rows = [run.metrics[k] for k in sorted(run.metrics)]
    a, b = st.columns(2)
    a.metric("Train loss", f"{last.train_loss:.4f}")
    b.metric("Test loss", f"{last.test_loss:.4f}")
    if last.train_accuracy is not None and last.test_accuracy is not None:
        a.metric("Train accuracy", f"{last.train_accuracy:.1%}")
        b.metric("Test accuracy", f"{last.test_accuracy:.1%}")
    st.caption(f"Loss and accuracy {run.basis()}.")
    if len(rows) > 1:
        fig = curves_figure(
            [r.step for r in rows],
            {"train loss": [r.train_loss for r in rows], "test loss": [r.test_loss for r in rows]},
            y_title="loss",
        )
        kept_chart(fig, key="curves")  # st.plotly_chart re-plotted it on every click


def explorer_page(run: Run) -> None:
    """The whole body of the Explorer page.

    Everything that changes with a step lives in one fragment, so a step reruns the fragment
    and not the sidebar. Play gives the fragment a timer; since a fragment's timer is fixed
    when it is defined, starting or stopping play reruns the whole app to redefine it.
    """
    if not presenting():
        st.title("Backprop Explorer")
    ticking = run.playing

    @st.fragment(run_every=PLAY_INTERVAL if ticking else None)
    def live() -> None:
        if run.play is not None and ticking:
            play_tick(run, run.play)
        if run.playing != ticking:  # Play was switched, or an overflow stopped play
            st.rerun(scope="app")
        if not run.playing:  # overflow, a rebuilt network, Reset: the switch shows it stopped
            st.session_state[keys.W_PLAY] = False
        buttons = st.container()  # drawn after the queued steps, which change what is enabled
        _work(run)
        with buttons:
            controls(run)
        if presenting():  # a projector's 720 px: the graph first, the options one click away
            with st.expander("View options"):
                color_by, edge_by, sample, top_k = view_options(run)
        else:
            color_by, edge_by, sample, top_k = view_options(run)
        if run.failure:
            st.error(run.failure)
        st.caption(status(run))
        link_note(run)
        shown = None if sample is None else min(sample, len(run.stepper.state.x) - 1)
        # The graph takes most of the width; the inspector's column is narrower until a click.
        left, right = st.columns([2.4, 1] if run.selected is None else [1.7, 1.1])
        with left:
            plane_tab(run, lambda: graph(run, color_by, edge_by, shown, top_k))
            draw_digit_panel(run)
        with right:
            inspector(run, shown)
            prediction(run, shown)
            metrics(run)
            if not presenting():
                gradient_panel(run)
        write_link(run)

    live()
    if not presenting():
        with st.expander("Save, load, export", icon=":material/save:"):
            files_panel(run)
