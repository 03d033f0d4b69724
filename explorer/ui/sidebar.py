"""The network builder in the sidebar: every user choice, returned as ``Settings``.

Each page calls ``settings_sidebar`` itself (not the entry script: AppTest drops sidebar
widgets defined there after the first rerun, see docs/design.md). Widgets only offer valid values,
so the Settings built from them is always valid; limits come from ``Settings``' field table.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import fields, replace
from typing import Any

import streamlit as st

from explorer.data import TOY_NAMES, Dataset, available_datasets
from explorer.engine import HIDDEN_ACTIVATIONS, INITIALIZERS, OPTIMIZERS
from explorer.state.settings import MAX_HIDDEN_LAYERS, Settings, heads_for, limits
from explorer.ui import keys
from explorer.ui.datasets import dataset_for, parse_upload
from explorer.ui.guard import Commit, guard, plain, show_refusal
from explorer.ui.session import UPLOAD
from explorer.ui.widget_memory import keep_widgets

RATES = (1e-5, 1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
PENALTIES = (0.0, 1e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0)
DEFAULTS = Settings()


def _init_widgets() -> None:
    """Seed the widget keys, and keep them across pages (``keep_widgets``). The builder's
    values are the user's network, so whatever Streamlit dropped comes back from the network
    (``run.settings``, a plain session key Streamlit never drops), never from the defaults,
    which would rebuild the network; the defaults seed a session's first run."""
    run = st.session_state.get(keys.RUN)
    known = DEFAULTS if run is None else run.settings
    layers = [f"w_{what}_{i}" for i in range(MAX_HIDDEN_LAYERS) for what in ("size", "act")]
    keep_widgets(widget_values(known), layers)


def widget_values(settings: Settings) -> dict[str, Any]:
    """The builder's widget values that show ``settings``, by key."""
    values = {
        f"w_{f.name}": getattr(settings, f.name)
        for f in fields(Settings)
        if f.name not in ("hidden_sizes", "hidden_activations")
    }
    values[keys.W_LAYERS] = len(settings.hidden_sizes)
    for i, (size, act) in enumerate(
        zip(settings.hidden_sizes, settings.hidden_activations, strict=True)
    ):
        values[f"w_size_{i}"] = size
        values[f"w_act_{i}"] = act
    return values


def apply(settings: Settings) -> None:
    """Set every sidebar widget to ``settings`` (used by lessons, links and files)."""
    st.session_state.update(widget_values(settings))


def _number(label: str, name: str, key: str | None = None, **kw: Any) -> Any:
    lim = limits(name)
    return st.number_input(label, lim["lo"], lim["hi"], key=key or f"w_{name}", **kw)


def _slider(label: str, name: str, step: float, key: str | None = None) -> Any:
    lim = limits(name)
    return st.slider(label, lim["lo"], lim["hi"], step=step, key=key or f"w_{name}")


def _stepped(label: str, options: tuple[float, ...], key: str) -> Any:
    """A slider over ``options`` that also offers the value the widget holds: a link, lesson or
    file may set any value in the field's range, which Streamlit would silently move to the
    first option."""
    held = st.session_state.get(key)
    if isinstance(held, int | float) and not isinstance(held, bool) and held not in options:
        options = tuple(sorted({*options, float(held)}))
        st.session_state[key] = float(held)
    return st.select_slider(label, options, key=key)


TRAINING_FIELDS = ("optimizer", "momentum", "learning_rate", "batch_size", "l1", "l2")


def training_widgets(
    key_of: Callable[[str], str], names: Sequence[str] = TRAINING_FIELDS
) -> dict[str, Any]:
    """The widgets of the training settings ``names`` (the sidebar's: all of them, a Compare
    variant's: those a variant may change), each keyed ``key_of(name)``; returns their values
    by field name. Momentum shows only with the momentum optimizer."""
    values: dict[str, Any] = {}
    for name in names:
        key = key_of(name)
        if name == "optimizer":
            values[name] = st.selectbox("Optimizer", OPTIMIZERS, key=key)
        elif name == "momentum":
            if values.get("optimizer") == "momentum":
                values[name] = float(_slider("Momentum", name, 0.001, key))
        elif name == "learning_rate":
            values[name] = float(_stepped("Learning rate", RATES, key))
        elif name == "batch_size":
            values[name] = int(_number("Batch size", name, key, step=1))
        else:
            what = {"l1": "L1", "l2": "L2"}[name]
            values[name] = float(_stepped(f"{what} regularization", PENALTIES, key))
    return values


def settings_sidebar() -> tuple[Settings, Dataset]:
    """Draw the builder; return the chosen settings and dataset."""
    _init_widgets()
    sb = st.sidebar
    with sb:
        st.header("Network builder")
        titles = {**available_datasets(), UPLOAD: "Upload a dataset…"}
        if st.session_state[keys.W_DATASET] not in titles:
            st.session_state[keys.W_DATASET] = DEFAULTS.dataset
        key = st.selectbox(
            "Dataset", list(titles), format_func=titles.__getitem__, key=keys.W_DATASET
        )
        dataset, data = _dataset_widgets(key)
        st.subheader("Hidden layers")
        n_layers = st.number_input("Hidden layers", 0, MAX_HIDDEN_LAYERS, key=keys.W_LAYERS)
        sizes, acts = [], []
        for i in range(n_layers):
            left, right = st.columns([1, 1.4])
            st.session_state.setdefault(f"w_size_{i}", 4)
            st.session_state.setdefault(f"w_act_{i}", "tanh")
            with left:
                sizes.append(_number(f"Units {i + 1}", "hidden_sizes", f"w_size_{i}"))
            acts.append(
                right.selectbox(f"Activation {i + 1}", HIDDEN_ACTIVATIONS, key=f"w_act_{i}")
            )
        heads = heads_for(dataset)
        if st.session_state.get(keys.W_HEAD) not in heads:
            st.session_state[keys.W_HEAD] = heads[0]
        head = st.selectbox("Output and loss", heads, key=keys.W_HEAD)
        init = st.selectbox("Initialization", tuple(INITIALIZERS), key="w_init")
        seed = _number("Seed (initial weights and batch order)", "seed", step=1)
        st.subheader("Training")
        training = training_widgets(lambda name: f"w_{name}")
    return replace(
        data,
        hidden_sizes=tuple(int(n) for n in sizes),
        hidden_activations=tuple(acts),
        head=head,
        init=init,
        seed=int(seed),
        **training,
    ), dataset


def _dataset_widgets(key: str) -> tuple[Dataset, Settings]:
    """The dataset, and Settings whose data fields describe it (the rest: defaults)."""
    if key in TOY_NAMES:
        _number("Points", "n_points", step=10)
        _slider("Noise", "noise", 0.05)
        _slider("Training share", "train_ratio", 0.1)
        _number("Data seed", "data_seed", step=1)
        s = st.session_state
        data = replace(
            DEFAULTS,
            dataset=key,
            n_points=s.w_n_points,
            noise=s.w_noise,
            train_ratio=s.w_train_ratio,
            data_seed=s.w_data_seed,
        )
        return dataset_for(data), data
    if key == UPLOAD:
        uploaded = _upload_widgets()
        if uploaded is not None:
            return uploaded, replace(DEFAULTS, dataset=UPLOAD)
        # Nothing uploaded (yet, or the file was refused): the current network stays.
        run = st.session_state.get(keys.RUN)
        if run is not None:
            return run.dataset, run.settings
        return dataset_for(DEFAULTS), DEFAULTS
    data = replace(DEFAULTS, dataset=key)
    return dataset_for(data), data


def _upload_widgets() -> Dataset | None:
    files = st.file_uploader(
        "IDX (4 files), Keras .npz, or CSV (label first)",
        accept_multiple_files=True,
        key="w_upload",
    )
    if files:
        signature = tuple((f.name, f.size) for f in files)
        if st.session_state.get(keys.UPLOAD_SIGNATURE) != signature:
            st.session_state[keys.UPLOAD_SIGNATURE] = signature
            guard(UPLOAD, lambda: _prepare_upload([(f.name, f.getvalue()) for f in files]))
    show_refusal(UPLOAD)
    uploaded: Dataset | None = st.session_state.get(keys.UPLOADED)
    if uploaded is None:
        st.info("No dataset uploaded yet: the network keeps its current data.")
    else:
        st.caption(f"Using {plain(uploaded.name)}: {len(uploaded.x_train):,} training examples.")
    return uploaded


def _prepare_upload(files: list[tuple[str, bytes]]) -> Commit:
    dataset = parse_upload(files)

    def commit() -> None:
        st.session_state[keys.UPLOADED] = dataset

    return commit
