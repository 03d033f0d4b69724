"""The Compare page's body: a preset or a custom set of 2-4 variants, a Run with progress and
Stop, the results side by side in tabs, "open in the Explorer" per variant, and the activation
gallery.

The editor shows, per variant, only the settings that may differ (depth, activations, init,
optimizer, learning rate, batch size, L2); everything else comes from the base: the sidebar's
settings for a custom comparison, the preset's own for a preset. The run happens inline: each
round of chunks updates the progress bar and stores a snapshot of the comparison in
st.session_state, so the Stop button (any click interrupts a running script) leaves the steps
done so far on screen, every variant at the same step.

Left out: the math (``explorer.analysis.compare``) and the drawing (``explorer.figures.compare``).
"""

from __future__ import annotations

import re
from dataclasses import replace
from functools import partial
from typing import Any

import streamlit as st

from explorer.analysis.compare import (
    MAX_VARIANTS,
    MIN_VARIANTS,
    PRESETS,
    PROBE_ROWS,
    Comparison,
    Variant,
    class_accuracy,
    data_grid,
    decision_values,
    hidden_outputs,
    run_comparison,
    summary,
    variants_of,
    vary,
)
from explorer.analysis.gallery import FACTS
from explorer.analysis.inspector import der_equation, equation
from explorer.data import Dataset
from explorer.engine import ACTIVATIONS, HIDDEN_ACTIVATIONS, INITIALIZERS, SpecError
from explorer.figures import (
    activation_figure,
    compare_boundaries_figure,
    compare_class_accuracy_figure,
    compare_gradients_figure,
    compare_histograms_figure,
    compare_metric_figure,
    compare_units_figure,
)
from explorer.state.settings import MAX_HIDDEN_LAYERS, Settings
from explorer.ui import keys
from explorer.ui.datasets import dataset_for
from explorer.ui.page import open_in_explorer
from explorer.ui.session import Run
from explorer.ui.sidebar import training_widgets
from explorer.ui.widget_memory import keep_widgets

CUSTOM = "custom"
VARIED_TRAINING = ("optimizer", "learning_rate", "batch_size", "l2")  # a variant's own
MAX_STEPS = 20_000
_CHART = {"displayModeBar": False}
_EDITOR_KEY = re.compile(r"cmp_(n|steps|preset|\d+_[a-z_\d]+)")


# -- the editor ---------------------------------------------------------------------------------
def _key(i: int, name: str) -> str:
    return f"cmp_{i}_{name}"


def _load_variant(i: int, s: Settings) -> None:
    state = st.session_state
    state[_key(i, "depth")] = len(s.hidden_sizes)
    acts = s.hidden_activations or ("tanh",)
    state[_key(i, "all")] = acts[0]
    for layer in range(MAX_HIDDEN_LAYERS):
        state[_key(i, f"act_{layer}")] = acts[min(layer, len(acts) - 1)]
    for name in ("init", *VARIED_TRAINING):
        state[_key(i, name)] = getattr(s, name)


def _load(variants: list[Settings], steps: int) -> None:
    st.session_state[keys.COMPARE_N] = len(variants)
    st.session_state[keys.COMPARE_STEPS] = steps
    for i, s in enumerate(variants):
        _load_variant(i, s)


def _custom_variants(base: Settings) -> list[Settings]:
    """The sidebar's network and the same with another activation."""
    other = "sigmoid" if set(base.hidden_activations) == {"relu"} else "relu"
    return [base, vary(base, activation=other)]


def _choose_preset(run: Run) -> None:
    key = st.session_state[keys.COMPARE_PRESET]
    if key == CUSTOM:
        st.session_state[keys.COMPARE_BASE] = None
        _load(_custom_variants(run.settings), 500)
        return
    preset = PRESETS[key]
    st.session_state[keys.COMPARE_BASE] = preset.base
    _load([v.settings for v in preset.variants], preset.steps)


def _set_all_layers(i: int) -> None:
    act = st.session_state[_key(i, "all")]
    for layer in range(MAX_HIDDEN_LAYERS):
        st.session_state[_key(i, f"act_{layer}")] = act


def _variant_editor(i: int, base: Settings) -> Settings:
    """One variant's column; returns its settings."""
    state = st.session_state
    if _key(i, "depth") not in state:
        _load_variant(i, base)
    st.markdown(f"**Variant {chr(ord('A') + i)}**")
    depth = int(st.number_input("Hidden layers", 0, MAX_HIDDEN_LAYERS, key=_key(i, "depth")))
    st.selectbox(
        "Activation, all hidden layers",
        HIDDEN_ACTIVATIONS,
        key=_key(i, "all"),
        on_change=_set_all_layers,
        args=(i,),
        disabled=not depth,
    )
    acts = []
    with st.expander("Activation per layer", expanded=False):
        for layer in range(depth):
            state.setdefault(_key(i, f"act_{layer}"), state[_key(i, "all")])
            acts.append(
                st.selectbox(f"Layer {layer + 1}", HIDDEN_ACTIVATIONS, key=_key(i, f"act_{layer}"))
            )
    init = st.selectbox("Initialization", tuple(INITIALIZERS), key=_key(i, "init"))
    training = training_widgets(partial(_key, i), VARIED_TRAINING)
    s = vary(base, depth=depth, init=init, **training)
    return replace(s, hidden_activations=tuple(acts))


def editor(run: Run) -> tuple[Settings, tuple[Variant, ...]]:
    """Preset selector and variant columns; returns the base and the variants. Their values
    are kept across pages in a copy under a plain key (``keep_widgets``)."""
    state = st.session_state
    keep_widgets(state.get(keys.COMPARE_EDITOR, {}))
    if keys.COMPARE_N not in state:
        state[keys.COMPARE_BASE] = None
        _load(_custom_variants(run.settings), 500)
    titles = {
        CUSTOM: "Custom: start from the sidebar's network",
        **{k: p.title for k, p in PRESETS.items()},
    }
    state.setdefault(keys.COMPARE_PRESET, CUSTOM)
    left, right = st.columns([3, 1])
    key = left.selectbox(
        "Preset",
        list(titles),
        format_func=titles.__getitem__,
        key=keys.COMPARE_PRESET,
        on_change=_choose_preset,
        args=(run,),
    )
    n = int(right.number_input("Variants", MIN_VARIANTS, MAX_VARIANTS, key=keys.COMPARE_N))
    if key != CUSTOM:
        preset = PRESETS[key]
        st.info(preset.explanation)
        st.markdown(f"**What to look at.** {preset.look_at}")
    base: Settings = state[keys.COMPARE_BASE] or run.settings
    columns = st.columns(n)
    settings = []
    for i, column in enumerate(columns):
        with column:
            settings.append(_variant_editor(i, base))
    state[keys.COMPARE_EDITOR] = {k: state[k] for k in state if _EDITOR_KEY.fullmatch(k)}
    return base, variants_of(settings)


# -- running ------------------------------------------------------------------------------------
def _train(variants: tuple[Variant, ...], dataset: Dataset, steps: int) -> None:
    stop = st.empty()
    stop.button("■ Stop", key="cmp_stop", help="Stop here; the steps done so far are kept.")
    bar = st.progress(0.0, text="Starting…")

    def progress(comparison: Comparison) -> bool:
        # A snapshot: after a Stop click the next run starts at once, in another thread,
        # while this one trains on until its next Streamlit call (which ends it).
        st.session_state[keys.COMPARE_RESULT] = comparison.snapshot()
        bar.progress(
            comparison.step / comparison.steps, text=f"Step {comparison.step:,} of {steps:,}"
        )
        return True

    try:
        run_comparison(variants, dataset, steps, on_progress=progress)
    except (SpecError, ValueError) as exc:
        st.error(f"Cannot run this comparison: {exc}")
    stop.empty()
    bar.empty()


def run_controls(run: Run, base: Settings, variants: tuple[Variant, ...]) -> None:
    """Steps, the shared settings, and the Run button (which trains right away)."""
    dataset = run.dataset if st.session_state[keys.COMPARE_BASE] is None else dataset_for(base)
    left, right = st.columns([1, 3])
    steps = int(left.number_input("Steps", 1, MAX_STEPS, key=keys.COMPARE_STEPS))
    n = len(dataset.x_train)
    right.caption(
        f"Shared by every variant: {dataset.name} ({n:,} training examples), the "
        f"{base.head} head, seed {base.seed}, the initial weights wherever the layer sizes and "
        "initialization match, and the batch order wherever the batch sizes match. "
        f"{steps:,} steps are {steps * variants[0].settings.batch_size / n:.1f} epochs "
        "at variant A's batch size."
    )
    if right.button("▶ Run comparison", type="primary", key="cmp_run"):
        _train(variants, dataset, steps)


# -- results ------------------------------------------------------------------------------------
_FORMATS = {"loss": "{:.4f}", "share": "{:.1%}", "ratio": "{:.1e}"}


def _fmt(value: Any, kind: str) -> str:
    if value is None:
        return "–"
    return _FORMATS.get(kind, "{}").format(value)


_COLUMNS = {
    "train loss": "loss",
    "test loss": "loss",
    "test accuracy": "share",
    "gradient ratio first/last": "ratio",
    "dead ReLU": "share",
    "saturated": "share",
}


def _summary_table(comparison: Comparison) -> list[dict[str, str]]:
    return [
        {k: _fmt(v, _COLUMNS.get(k, "")) for k, v in row.items()} for row in summary(comparison)
    ]


def _open(comparison: Comparison, index: int, trained: bool) -> None:
    run = comparison.runs[index]
    when = f"as trained for {run.step:,} steps" if trained else "from its initial weights"
    open_in_explorer(
        run.variant.settings,
        comparison.dataset,
        run.params if trained else run.initial_params,
        note=f"{run.label} opened from Compare, {when}.",
    )


def open_buttons(comparison: Comparison) -> None:
    st.markdown("**Step through a variant in the Explorer**")
    for i, (run, column) in enumerate(zip(comparison.runs, st.columns(4), strict=False)):
        column.caption(run.label)
        column.button(
            "From the start",
            key=f"cmp_open_{i}",
            on_click=_open,
            args=(comparison, i, False),
            help="The same initial weights; the Explorer's steps follow the same batches.",
        )
        column.button(
            "As trained",
            key=f"cmp_open_trained_{i}",
            on_click=_open,
            args=(comparison, i, True),
            help="The trained weights; the Explorer counts its steps from 0 again.",
        )


def _final_view(comparison: Comparison) -> None:
    d = comparison.dataset
    runs = comparison.runs
    if d.n_features == 2:
        grid = data_grid(d)
        titles = [f"{r.label} · test {_fmt(r.last.test_accuracy, 'share')}" for r in runs]
        fig = compare_boundaries_figure(
            titles,
            grid,
            [decision_values(r, grid) for r in runs],
            d.x_train,
            d.y_train,
            binary=d.n_classes == 2,
        )
        st.plotly_chart(fig, key="cmp_boundaries", config=_CHART)
    elif d.task == "classification":
        accs = [class_accuracy(r, d) for r in runs]
        fig = compare_class_accuracy_figure([r.label for r in runs], d.class_names, accs)
        st.plotly_chart(fig, key="cmp_classes", config=_CHART)
    else:
        st.info("Regression on more than two inputs: see the test loss under Loss.")


def results(comparison: Comparison) -> None:
    """The summary, the views in tabs, and the open-in-Explorer buttons."""
    if not comparison.finished:
        st.warning(f"Stopped at step {comparison.step:,} of {comparison.steps:,}.")
    for run in comparison.runs:
        if run.failure:
            st.error(f"{run.label}: {run.failure}")
    st.dataframe(_summary_table(comparison), hide_index=True, key="cmp_summary")
    st.caption(
        f"Measured on the first {PROBE_ROWS} training examples (the probe batch) and the first "
        f"{PROBE_ROWS} test examples. Gradient ratio: |dL/dW| of layer 1 over the output "
        "layer's. Distinct hidden units: how many different units each hidden layer has."
    )
    final = "Boundaries" if comparison.dataset.n_features == 2 else "Per class"
    tabs = st.tabs(["Loss", "Accuracy", "Gradients", "Dead & saturated", "Activations", final])
    with tabs[0]:
        st.plotly_chart(compare_metric_figure(comparison, "loss"), key="cmp_loss", config=_CHART)
        st.caption("Solid: training (the probe batch), dashed: test.")
    with tabs[1]:
        if comparison.dataset.task == "classification":
            fig = compare_metric_figure(comparison, "accuracy")
            st.plotly_chart(fig, key="cmp_accuracy", config=_CHART)
        else:
            st.info("A regression task has no accuracy.")
    with tabs[2]:
        st.plotly_chart(compare_gradients_figure(comparison), key="cmp_grads", config=_CHART)
        st.caption(
            "|dL/dW| per layer on a fixed probe batch, log scale. Vanishing gradients: the "
            "first layers' lines far below the output layer's; exploding: far above."
        )
    with tabs[3]:
        st.plotly_chart(compare_units_figure(comparison), key="cmp_units", config=_CHART)
        st.caption(
            "Dead: ReLU units with z ≤ 0 for every probe example. Saturated: share of "
            "sigmoid/tanh values with |z| > 4 (sigmoid) or > 2 (tanh), where f' is under 7% "
            "of its peak."
        )
    with tabs[4]:
        outputs = [hidden_outputs(r, comparison.dataset) for r in comparison.runs]
        fig = compare_histograms_figure(comparison.runs, outputs)
        st.plotly_chart(fig, key="cmp_hist", config=_CHART)
        st.caption("Activations a of each hidden layer over the probe batch, now.")
    with tabs[5]:
        _final_view(comparison)
    open_buttons(comparison)


# -- the gallery --------------------------------------------------------------------------------
def gallery() -> None:
    """Every engine activation with its derivative, formula and training properties."""
    lo, hi = st.slider("Range of z", -10.0, 10.0, (-5.0, 5.0), step=0.5, key="gal_range")
    st.dataframe(
        [
            {
                "activation": name,
                "range": f.range,
                "saturates": " and ".join(f.saturates) or "no",
                "zero-centred": f.zero_centred,
                "dead zone": f.dead_zone or "none",
            }
            for name, f in FACTS.items()
        ],
        hide_index=True,
        key="gal_table",
    )
    for name, act in ACTIVATIONS.items():
        left, right = st.columns([1.1, 1], vertical_alignment="center")
        with left:
            st.markdown(f"**{name}**")
            st.latex(equation("f(z)", act.formula))
            st.latex(der_equation(act))
            st.caption(FACTS[name].note)
        fig = activation_figure(name, lo, hi if hi > lo else lo + 0.5)
        right.plotly_chart(fig, key=f"gal_{name}", config=_CHART)


def compare_page(run: Run) -> None:
    """The whole body of the Compare page."""
    st.title("Compare")
    st.caption(
        "The same data, the same architecture, the same seed and the same batches, trained "
        "with different activations or settings, side by side."
    )
    runs_tab, gallery_tab = st.tabs(["Side-by-side runs", "Activation gallery"])
    with runs_tab:
        base, variants = editor(run)
        run_controls(run, base, variants)
        comparison: Comparison | None = st.session_state.get(keys.COMPARE_RESULT)
        if comparison is not None:
            results(comparison)
    with gallery_tab:
        gallery()
