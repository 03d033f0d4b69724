"""The network builder in the sidebar: every user choice, returned as ``Settings``.

Each page calls ``settings_sidebar`` itself (not the entry script: AppTest drops sidebar
widgets defined there after the first rerun, see docs/design.md). Widgets only offer valid values,
so the Settings built from them is always valid; limits come from ``Settings``' field table.
"""

from __future__ import annotations

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

RATES = (1e-5, 1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
PENALTIES = (0.0, 1e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0)
DEFAULTS = Settings()


def _init_widgets() -> None:
    """Seed the widget keys, and hand them back to session state on every later run.

    The builder's values are the user's network, so they must follow the user across pages.
    Each page's widgets are new widgets to Streamlit, which drops their values on a page switch
    unless they are in session state: the hand-back keeps them there after a full run. After a
    run of only a fragment (any Explorer control) the hand-back has not happened since
    Streamlit filed the values under the widgets, and the browser reports no widgets on a page
    switch, so all of them are dropped. Whatever is missing then comes back from the user's
    network (``run.settings``, a plain session key Streamlit never drops), never from the
    defaults, which would rebuild the network; the defaults seed a session's first run."""
    run = st.session_state.get(keys.RUN)
    known = DEFAULTS if run is None else run.settings
    if any(key not in st.session_state for key in _keys_of(known)):
        apply(known)
        return
    for key in _builder_keys():
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]


def _builder_keys() -> list[str]:
    names = [f"w_{f.name}" for f in fields(Settings)]
    names += [
        keys.W_LAYERS,
        *(f"w_{what}_{i}" for i in range(MAX_HIDDEN_LAYERS) for what in ("size", "act")),
    ]
    return [k for k in names if k not in ("w_hidden_sizes", "w_hidden_activations")]


def _keys_of(settings: Settings) -> list[str]:
    """The widget keys that ``apply`` sets for ``settings``."""
    names = [f"w_{f.name}" for f in fields(Settings)]
    names.remove("w_hidden_sizes")
    names.remove("w_hidden_activations")
    n = len(settings.hidden_sizes)
    return [*names, keys.W_LAYERS, *(f"w_{what}_{i}" for i in range(n) for what in ("size", "act"))]


def apply(settings: Settings) -> None:
    """Set every sidebar widget to ``settings`` (used on first load, by lessons and links, and
    to restore widgets Streamlit dropped)."""
    for f in fields(Settings):
        if f.name in ("hidden_sizes", "hidden_activations"):
            continue
        st.session_state[f"w_{f.name}"] = getattr(settings, f.name)
    st.session_state[keys.W_LAYERS] = len(settings.hidden_sizes)
    for i, (size, act) in enumerate(
        zip(settings.hidden_sizes, settings.hidden_activations, strict=True)
    ):
        st.session_state[f"w_size_{i}"] = size
        st.session_state[f"w_act_{i}"] = act


def _number(label: str, name: str, **kw: Any) -> Any:
    lim = limits(name)
    return st.number_input(label, lim["lo"], lim["hi"], key=f"w_{name}", **kw)


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
            sizes.append(left.number_input(f"Units {i + 1}", 1, 128, key=f"w_size_{i}"))
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
        optimizer = st.selectbox("Optimizer", OPTIMIZERS, key="w_optimizer")
        momentum = DEFAULTS.momentum
        if optimizer == "momentum":
            momentum = st.slider("Momentum", 0.0, 0.99, key="w_momentum")
        rate = st.select_slider("Learning rate", RATES, key="w_learning_rate")
        batch = _number("Batch size", "batch_size", step=1)
        l1 = st.select_slider("L1 regularization", PENALTIES, key="w_l1")
        l2 = st.select_slider("L2 regularization", PENALTIES, key="w_l2")
    settings = replace(
        data,
        hidden_sizes=tuple(int(n) for n in sizes),
        hidden_activations=tuple(acts),
        head=head,
        init=init,
        seed=int(seed),
        optimizer=optimizer,
        learning_rate=float(rate),
        batch_size=int(batch),
        l1=float(l1),
        l2=float(l2),
        momentum=float(momentum),
    )
    return settings, dataset


def _dataset_widgets(key: str) -> tuple[Dataset, Settings]:
    """The dataset, and Settings whose data fields describe it (the rest: defaults)."""
    if key in TOY_NAMES:
        _number("Points", "n_points", step=10)
        st.slider("Noise", 0.0, 0.5, step=0.05, key="w_noise")
        st.slider("Training share", 0.1, 0.9, step=0.1, key="w_train_ratio")
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
