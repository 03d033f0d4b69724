"""The network builder in the sidebar: every user choice, returned as ``Settings``.

Each page calls ``settings_sidebar`` itself (not the entry script: AppTest drops sidebar
widgets defined there after the first rerun, see DESIGN.md). Widgets only offer valid values,
so the Settings built from them is always valid; limits come from ``Settings``' field table.
"""

from __future__ import annotations

from dataclasses import fields, replace
from typing import Any

import streamlit as st

from explorer.data import TOY_NAMES, DataError, Dataset, available_datasets
from explorer.engine import HIDDEN_ACTIVATIONS, INITIALIZERS, OPTIMIZERS
from explorer.settings import MAX_HIDDEN_LAYERS, Settings, heads_for, limits
from explorer.ui.datasets import dataset_for, parse_upload

UPLOAD = "upload"
RATES = (1e-5, 1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
PENALTIES = (0.0, 1e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0)
DEFAULTS = Settings()


def _init_widgets(settings: Settings) -> None:
    """Seed the widget keys once per session (or from a lesson / link via ``apply``)."""
    if "w_dataset" in st.session_state:
        return
    apply(settings)


def apply(settings: Settings) -> None:
    """Set every sidebar widget to ``settings`` (used on first load and by lessons/links)."""
    for f in fields(Settings):
        if f.name in ("hidden_sizes", "hidden_activations"):
            continue
        st.session_state[f"w_{f.name}"] = getattr(settings, f.name)
    st.session_state.w_layers = len(settings.hidden_sizes)
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
    _init_widgets(DEFAULTS)
    sb = st.sidebar
    with sb:
        st.header("Network builder")
        titles = {**available_datasets(), UPLOAD: "Upload a dataset…"}
        if st.session_state.w_dataset not in titles:
            st.session_state.w_dataset = DEFAULTS.dataset
        key = st.selectbox("Dataset", list(titles), format_func=titles.__getitem__, key="w_dataset")
        dataset = _dataset_widgets(key)
        st.subheader("Hidden layers")
        n_layers = st.number_input("Hidden layers", 0, MAX_HIDDEN_LAYERS, key="w_layers")
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
        if st.session_state.get("w_head") not in heads:
            st.session_state.w_head = heads[0]
        head = st.selectbox("Output and loss", heads, key="w_head")
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
    toy = key in TOY_NAMES
    settings = Settings(
        dataset=key,
        n_points=st.session_state.w_n_points if toy else DEFAULTS.n_points,
        noise=st.session_state.w_noise if toy else DEFAULTS.noise,
        train_ratio=st.session_state.w_train_ratio if toy else DEFAULTS.train_ratio,
        data_seed=st.session_state.w_data_seed if toy else DEFAULTS.data_seed,
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


def _dataset_widgets(key: str) -> Dataset:
    if key in TOY_NAMES:
        _number("Points", "n_points", step=10)
        st.slider("Noise", 0.0, 0.5, step=0.05, key="w_noise")
        st.slider("Training share", 0.1, 0.9, step=0.1, key="w_train_ratio")
        _number("Data seed", "data_seed", step=1)
        s = st.session_state
        return dataset_for(
            replace(
                DEFAULTS,
                dataset=key,
                n_points=s.w_n_points,
                noise=s.w_noise,
                train_ratio=s.w_train_ratio,
                data_seed=s.w_data_seed,
            )
        )
    if key == UPLOAD:
        return _upload_widgets()
    return dataset_for(replace(DEFAULTS, dataset=key))


def _upload_widgets() -> Dataset:
    files = st.file_uploader(
        "IDX (4 files), Keras .npz, or CSV (label first)",
        accept_multiple_files=True,
        key="w_upload",
    )
    if files:
        signature = tuple((f.name, f.size) for f in files)
        if st.session_state.get("upload_signature") != signature:
            st.session_state.upload_signature = signature
            try:
                st.session_state.uploaded = parse_upload([(f.name, f.getvalue()) for f in files])
                st.session_state.upload_error = None
            except DataError as exc:
                st.session_state.upload_error = str(exc)
    if st.session_state.get("upload_error"):
        st.error(st.session_state.upload_error)
    uploaded: Dataset | None = st.session_state.get("uploaded")
    if uploaded is None:
        st.info("No dataset uploaded yet: showing the default one.")
        return dataset_for(DEFAULTS)
    st.caption(f"Using {uploaded.name}: {len(uploaded.x_train):,} training examples.")
    return uploaded
