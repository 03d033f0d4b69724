"""The Convolution page's body: its own builder in the sidebar, the step controls and status
line as the Explorer's, each conv block's kernels and feature maps (clickable), the image
with the clicked pixel's receptive field, the pixel inspector and the gradient check.

The builder's widgets are seeded from the page's network (``ConvRun.settings``) whenever
Streamlit has dropped them (it does on a page switch), so coming back never rebuilds it.
A network that cannot be built (a kernel larger than its input after pooling) is refused
through ``explorer.ui.guard``: one message, and the network on screen stays.
Steps run in one fragment, as on the Explorer (the Training views tab drawn only while it is
open, see ``convolution_page``), whose Play (PLAY_RATE steps a second on a
timer, each step its own entry in the step-back history) and presenter layout this page
follows, with its keys (bound by the image's kept chart, see ``explorer.ui.graph_view``):
in presenter mode no title, no Run N, Epoch or gradient check, the view options in an
expander and the maps and the image sized for a 1280x720 projector.
Under the blocks' charts the dense part is the Explorer's graph
(``explorer.figures.conv_dense``), its input the last block's maps; its neurons are not
clickable here (no inspector for them on this page).
"""

from __future__ import annotations

import time
from dataclasses import astuple, fields
from functools import partial
from typing import Any

import streamlit as st

from explorer.engine import HIDDEN_ACTIVATIONS, OPTIMIZERS, LayerSpec
from explorer.engine.conv import BlockGradients, ConvBlockSpec
from explorer.engine.conv.pixel import receptive_field
from explorer.engine.conv.spec import KERNELS, MAX_BLOCKS, MAX_DENSE, MAX_FILTERS, PADDINGS
from explorer.figures.conv import MAP_ROWS, block_figure, image_figure
from explorer.figures.conv_dense import dense_figure, dense_phase, feature_grid
from explorer.figures.network import IMAGE_INPUT_OVER
from explorer.state.settings import MAX_UNITS, Settings
from explorer.ui import keys
from explorer.ui.conv_files import conv_files_panel
from explorer.ui.conv_inspector import gradient_panel, pixel_inspector
from explorer.ui.conv_learned_view import training_tab
from explorer.ui.conv_link import open_conv_link, write_conv_link
from explorer.ui.conv_session import (
    ConvRun,
    ConvSettings,
    Pixel,
    build_conv,
    conv_status,
    image_datasets,
    phase_name,
)
from explorer.ui.explorer_view import KEYS_HELP, PLAY_INTERVAL, PLAY_MOST_PER_TICK, PLAY_RATE
from explorer.ui.graph_view import kept_chart, pick_of
from explorer.ui.guard import Commit, guard, plain, show_refusal
from explorer.ui.kept_figures import kept_figure
from explorer.ui.presenter import presenter_switch, presenting
from explorer.ui.session import PlayClock
from explorer.ui.sidebar import RATES
from explorer.ui.step_controls import StepActions, step_row

SECOND_BLOCK = ConvBlockSpec(8, 3, "valid", "relu", False)  # offered when a second is added
HIDDEN_LAYER = LayerSpec(32, "relu")  # offered when a hidden dense layer is added
MAX_HIDDEN = MAX_DENSE - 1  # hidden dense layers, then the output layer
TABS = ("Step through", "Training views")
SHOW = {"phase": "follow the phase", "values": "forward values", "gradients": "gradients"}
# presenter mode, a 1280x720 projector: the first block's rows and the image fit under the
# controls beside the inspector
PRESENTER_ROW_HEIGHT = 95
PRESENTER_IMAGE_HEIGHT = 220


# -- the builder -----------------------------------------------------------------------------
def _widget_values(settings: ConvSettings) -> dict[str, Any]:
    values: dict[str, Any] = {
        keys.CW_DATASET: settings.dataset,
        "cw_blocks": len(settings.blocks),
        "cw_lr": settings.learning_rate,
        "cw_batch": settings.batch_size,
        "cw_seed": settings.seed,
        "cw_hidden": len(settings.hidden),
        "cw_optimizer": settings.optimizer,
        keys.CW_MOMENTUM: settings.momentum,
        "cw_l2": settings.l2,
    }
    blocks = (*settings.blocks, SECOND_BLOCK)[:MAX_BLOCKS]
    for i, block in enumerate(blocks):
        for f in fields(ConvBlockSpec):
            values[f"cw_{f.name}_{i}"] = getattr(block, f.name)
    hidden = (*settings.hidden, HIDDEN_LAYER, HIDDEN_LAYER)[:MAX_HIDDEN]
    for i, layer in enumerate(hidden):
        values[f"cw_hsize_{i}"], values[f"cw_hact_{i}"] = layer.size, layer.activation
    return values


def _seed_widgets() -> None:
    """Widgets Streamlit dropped come back from the page's network, the rest are handed back
    (so they survive a page switch); the defaults seed a session's first visit."""
    run = st.session_state.get(keys.CONV_RUN)
    known = run.settings if isinstance(run, ConvRun) else ConvSettings()
    for key, value in _widget_values(known).items():
        st.session_state[key] = st.session_state.get(key, value)


def builder() -> ConvSettings:
    """The sidebar's choices; every widget offers only values a block accepts."""
    _seed_widgets()
    bar = st.sidebar
    bar.header("Convolution network")
    datasets = image_datasets()
    if st.session_state[keys.CW_DATASET] not in datasets:
        st.session_state[keys.CW_DATASET] = next(iter(datasets))
    dataset = bar.selectbox(
        "Images", list(datasets), format_func=datasets.__getitem__, key=keys.CW_DATASET
    )
    n = bar.radio("Conv blocks", range(1, MAX_BLOCKS + 1), key="cw_blocks", horizontal=True)
    blocks = []
    for i in range(n):
        bar.markdown(f"**Conv block {i + 1}**")
        left, right = bar.columns(2)
        filters = left.number_input("Filters", 1, MAX_FILTERS, key=f"cw_filters_{i}")
        kernel = right.selectbox(
            "Kernel", KERNELS, key=f"cw_kernel_{i}", format_func=lambda k: f"{k}×{k}"
        )
        padding = left.selectbox("Padding", PADDINGS, key=f"cw_padding_{i}")
        activation = right.selectbox("Activation", HIDDEN_ACTIVATIONS, key=f"cw_activation_{i}")
        pool = bar.checkbox("2×2 max-pool", key=f"cw_pool_{i}")
        blocks.append(ConvBlockSpec(int(filters), int(kernel), padding, activation, bool(pool)))
    n_hidden = bar.radio(
        "Hidden dense layers", range(MAX_HIDDEN + 1), key="cw_hidden", horizontal=True
    )
    hidden = []
    for i in range(n_hidden):
        left, right = bar.columns(2)
        size = left.number_input(f"Dense {i + 1} width", 1, MAX_UNITS, key=f"cw_hsize_{i}")
        activation = right.selectbox("Activation", HIDDEN_ACTIVATIONS, key=f"cw_hact_{i}")
        hidden.append(LayerSpec(int(size), str(activation)))
    bar.markdown("**Training**")
    optimizer = bar.selectbox("Optimizer", OPTIMIZERS, key="cw_optimizer")
    momentum = st.session_state[keys.CW_MOMENTUM]
    if optimizer == "momentum":
        momentum = bar.number_input("Momentum", **_limits("momentum"), key=keys.CW_MOMENTUM)
    rate = bar.select_slider("Learning rate", RATES, key="cw_lr")
    batch = bar.number_input("Batch size", **_limits("batch_size"), key="cw_batch")
    l2 = bar.number_input("L2 regularization", **_limits("l2"), format="%g", key="cw_l2")
    seed = bar.number_input("Seed", **_limits("seed"), key="cw_seed")
    return ConvSettings(
        str(dataset),
        tuple(blocks),
        float(rate),
        int(batch),
        int(seed),
        hidden=tuple(hidden),
        optimizer=str(optimizer),
        momentum=float(momentum),
        l2=float(l2),
    )


def _limits(name: str) -> dict[str, Any]:
    """The range the MLP's ``Settings`` allows for field ``name``, as a number input's."""
    meta = next(f.metadata for f in fields(Settings) if f.name == name)
    return {"min_value": meta["lo"], "max_value": meta["hi"]}


def sync(settings: ConvSettings) -> ConvRun:
    """The user's network for ``settings``: retuned when only training settings changed,
    rebuilt (through the guard) when the data, blocks or seed did."""
    run = st.session_state.get(keys.CONV_RUN)
    if not isinstance(run, ConvRun):
        run = st.session_state[keys.CONV_RUN] = build_conv(ConvSettings())
    if settings == run.settings:
        return run
    if settings.same_network(run.settings):
        run.stepper.set_config(settings.config())
        run.settings = settings
        return run

    def prepare() -> Commit:
        new = build_conv(settings)

        def commit() -> None:
            st.session_state[keys.CONV_RUN] = new

        return commit

    guard(keys.CONV_BUILD, prepare)
    return st.session_state[keys.CONV_RUN]


# -- actions (callbacks) ---------------------------------------------------------------------
def _run() -> ConvRun:
    run = st.session_state[keys.CONV_RUN]
    assert isinstance(run, ConvRun)
    return run


def _act(action: str, *args: int) -> None:
    _run().act(action, *args)


def _back() -> None:
    _run().step_back()


def _reset() -> None:
    st.session_state[keys.CONV_RUN] = build_conv(_run().settings)


def _run_n() -> None:
    _act("run_steps", int(st.session_state[keys.CW_RUN_N]))


def _play() -> None:
    _run().play = PlayClock(PLAY_RATE) if st.session_state[keys.CW_PLAY] else None


def play_tick(run: ConvRun, clock: PlayClock) -> None:
    """The steps due, each its own entry in the step-back history; the network is recorded
    once a tick (its evaluation would cost more than the steps)."""
    due = clock.due(time.monotonic(), PLAY_MOST_PER_TICK)
    for _ in range(due):
        run.act("finish_step", record=False)
        if not run.playing:
            return
    if due:
        run.record()


def select(run: ConvRun, block: int, pick: Any, sample: int) -> None:
    """Take a click on block ``block``'s maps, ``pick`` = [row, filter, y, x] as the kept chart
    sends it: the pixel as a Pixel in conv coordinates (a pooled pixel: its window's winner
    for ``sample``). Anything that does not name a pixel of the maps on screen is ignored (the
    browser can send anything)."""
    s = run.stepper.state
    if not isinstance(pick, list) or len(pick) != 4 or block >= len(s.blocks):
        return
    try:
        row, f, y, x = (int(v) for v in pick)
    except (TypeError, ValueError, OverflowError):
        return
    if not 0 <= row < len(MAP_ROWS):
        return
    rec = s.blocks[block]
    maps = rec.pooled if MAP_ROWS[row] == "pooled" else rec.z
    if maps is None or not (0 <= f < maps.shape[1] and 0 <= y < maps.shape[2]):
        return
    if not 0 <= x < maps.shape[3]:
        return
    if maps is rec.pooled and rec.argmax is not None:
        place = int(rec.argmax[sample, f, y, x])
        run.selected = Pixel(block, f, 2 * y + place // 2, 2 * x + place % 2, pooled=True)
    else:
        run.selected = Pixel(block, f, y, x)


def _on_pick(block: int, sample: int) -> None:
    select(st.session_state[keys.CONV_RUN], block, pick_of(f"conv_block_{block}"), sample)


# -- drawing ---------------------------------------------------------------------------------
def controls(run: ConvRun) -> None:
    """The step buttons in the order of a step; in presenter mode without Run N and Epoch."""
    actions = StepActions(
        back=_back,
        next_phase=partial(_act, "advance"),
        finish_step=partial(_act, "finish_step"),
        run_n=_run_n,
        epoch=partial(_act, "run_epoch_fast"),
        play=_play,
        reset=_reset,
    )
    step_row(
        actions,
        prefix="cb",
        n_key=keys.CW_RUN_N,
        play_key=keys.CW_PLAY,
        can_step_back=run.stepper.can_step_back,
        next_help="Run the next phase of this mini-batch.",
        epoch_help="Train the rest of this epoch on the fast path (nothing traced).",
        play_rate=PLAY_RATE,
    )


def _shown_gradients(run: ConvRun, block: int, show: str) -> BlockGradients | None:
    """The block's gradients when they are to be shown: once backward has reached the block,
    while the phase is backward or update ("follow the phase"), or always ("gradients")."""
    g = run.stepper.state.layer_gradients(block)
    if not isinstance(g, BlockGradients) or show == "values":
        return None
    last = run.stepper.last_phase
    if show == "phase" and (last is None or last.kind not in ("backward", "update")):
        return None
    return g


def block_chart(run: ConvRun, block: int, sample: int, show: str) -> None:
    last = run.stepper.last_phase
    current = last is not None and last.layer == block
    grads = _shown_gradients(run, block, show)
    sel = run.selected
    selected = (sel.filter, sel.y, sel.x) if sel is not None and sel.block == block else None
    what = "gradients (backward)" if grads is not None else "forward values"
    title = f"Conv block {block + 1} · {what}"
    if current and last is not None:
        title += f" · just computed: {last.kind}"
    s, params = run.stepper.state, run.forward_params()
    row_height = PRESENTER_ROW_HEIGHT if presenting() else None
    record = s.blocks[block] if block < len(s.blocks) else None
    fig = kept_figure(
        f"conv_block_{block}",
        (run.spec, record, params, grads, sample, current, selected, title, row_height),
        lambda: block_figure(
            run.spec,
            s,
            block,
            sample=sample,
            params=params,
            gradients=grads,
            current=current,
            selected=selected,
            title=title,
            row_height=row_height,
        ),
    )
    # a kept chart: the browser keeps the maps a phase did not change, and a click on a map's
    # cell comes back as a pick (st.plotly_chart remounted all of them on every phase)
    kept_chart(fig, key=f"conv_block_{block}", on_pick=lambda: _on_pick(block, sample))


def dense_chart(run: ConvRun, sample: int, show: str) -> None:
    """The dense part as the Explorer's graph, its layer highlighted when it ran last."""
    s, spec = run.stepper.state, run.spec
    last = run.stepper.last_phase
    target = int(run.dataset.y_train[s.batch_index[sample]])
    head = dense_phase(spec, last)
    title = "**Dense part**"
    if last is not None and head is not None:
        title += f" · just computed: {phase_name(spec, last)}"
    st.markdown(title)
    fig = dense_figure(
        spec,
        s,
        phase=last,
        sample=sample,
        class_names=run.dataset.class_names,
        target=target,
        show=show,
    )
    kept_chart(fig, key="conv_dense")
    f, h, w = spec.block_shapes[-1].output
    maps = f"the last block's {f} {h}×{w} map{'s' if f > 1 else ''}"
    if spec.flat_size <= IMAGE_INPUT_OVER:
        drawn = f"one neuron each, top to bottom in torch's flatten order: {maps}, one by one"
    else:
        rows, cols = feature_grid(spec)
        grid = "" if f == 1 else f" in a {rows}×{cols} grid, filter 1 top left, in reading order"
        drawn = f"{maps}{grid}, with the 200 strongest edges into the first dense layer"
    st.caption(
        f"Its input: the {spec.flat_size:,} flattened features, {drawn}. Output units carry "
        "the class names, the target ringed."
    )


def _sample(run: ConvRun) -> int:
    """The shown sample's row of the batch. Its option text does not name the label: the
    browser hands a choice back as that text, which a new batch's labels would not match
    (the value then came back as a string); the image's title names it."""
    n = len(run.stepper.state.batch_index)
    chosen = st.session_state.get(keys.CW_SAMPLE, 0)
    if not isinstance(chosen, int) or not 0 <= chosen < n:
        st.session_state[keys.CW_SAMPLE] = 0
    return int(
        st.selectbox(
            "Shown sample", range(n), key=keys.CW_SAMPLE, format_func=lambda i: f"Sample {i}"
        )
    )


def _view_options(run: ConvRun) -> tuple[int, str]:
    left, mid = st.columns(2)
    with left:
        sample = _sample(run)
    show = mid.selectbox("Show", list(SHOW), format_func=SHOW.__getitem__, key="cw_show")
    return sample, show


def step_view(run: ConvRun) -> None:
    """The step controls, the status line, the maps, the image and the inspector."""
    controls(run)
    if run.failure:
        st.error(plain(run.failure))
    st.caption(conv_status(run))
    s = run.stepper.state
    if s.err is not None:
        st.caption(f"Cross-entropy on this mini-batch: {s.err.loss:.4f}")
    if presenting():  # a projector's 720 px: the maps first, the options one click away
        with st.expander("View options"):
            sample, show = _view_options(run)
    else:
        sample, show = _view_options(run)
    maps, side = st.columns([1.5, 1.2])  # the inspector's sums need the room
    with maps:
        for block in range(run.spec.n_blocks):
            block_chart(run, block, sample, show)
        st.caption(
            "Click a pixel of a feature map to inspect it; hover for exact numbers. One colour "
            "scale per row, symmetric about 0 (its range beside the row); the outlined block "
            "ran last. " + KEYS_HELP
        )
        dense_chart(run, sample, show)
    with side:
        sel = run.selected
        field = None if sel is None else receptive_field(run.spec, sel.block, sel.y, sel.x)
        label = run.dataset.class_names[int(run.dataset.y_train[s.batch_index[sample]])]
        title = f"Sample {sample}: label {label}"
        height = PRESENTER_IMAGE_HEIGHT if presenting() else None
        image = kept_figure(
            "conv_image",
            (s.x, sample, None if field is None else astuple(field), title, height),
            lambda: image_figure(s.x[sample, 0], field=field, title=title, height=height),
        )
        # a kept chart that binds the Explorer's keys (graph_view): arrows, PageUp/PageDown
        # of a clicker, Space, Enter and ? press this page's buttons of the same names
        kept_chart(image, key="conv_image", binds_keys=True)
        pixel_inspector(run, sample)
        if not presenting():
            gradient_panel(run)


def convolution_page() -> None:
    """The whole page. What changes with a step is one fragment, as on the Explorer: Play
    gives it a timer, and starting or stopping play reruns the app to redefine it."""
    presenter_switch()
    open_conv_link()  # a shared link, before the builder's widgets are seeded
    settings = builder()
    run = sync(settings)
    if not presenting():
        st.title("Convolution explorer")
    show_refusal(keys.CONV_BUILD)
    st.caption(
        f"{plain(run.spec.describe())} · {run.spec.n_params:,} parameters · "
        f"{plain(run.dataset.name)}"
    )
    ticking = run.playing

    @st.fragment(run_every=PLAY_INTERVAL if ticking else None)
    def live() -> None:
        run = _run()  # Reset puts a new network in the session; a fragment rerun must see it
        if run.play is not None and ticking:
            play_tick(run, run.play)
        if run.playing != ticking:  # Play was switched, or an overflow stopped it
            st.rerun(scope="app")
        if not run.playing:
            st.session_state[keys.CW_PLAY] = False
        # lazy tabs: a hidden Training views tab is not drawn, so a Play tick on the Step
        # through tab costs its redraw only; a switch of tab reruns this fragment
        stepping, training = st.tabs(TABS, key=keys.CONV_TAB, on_change="rerun")
        with stepping:
            step_view(run)
        with training:
            training_tab(run, shown=bool(training.open))
        write_conv_link(run)

    live()
    if not presenting():
        with st.expander("Save and load", icon=":material/save:"):
            conv_files_panel()
