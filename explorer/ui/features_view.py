"""The Features page's body: hand-made features against learned ones on the digits.

Three pipelines on the same train/test split and seed (``explorer.analysis.features``): logistic
regression on features a person designed, logistic regression on raw pixels, and an MLP on
raw pixels of the sidebar's shape, trained here on the fast path. The student switches feature
families on and off and sees the hand-made accuracy and feature count move. Below: each
pipeline's confusion matrix, and the features as images (the hand-made maps of one test digit
beside the MLP's first-layer weights).

Every fit is pure data of (dataset, seed, families or shape), cached with ``st.cache_data``
and shared by every session; nothing here touches the user's network. Left out: the
arithmetic (``explorer.analysis.features``) and drawing (``explorer.figures``).
"""

from __future__ import annotations

import streamlit as st

from explorer.analysis.features import (
    FAMILIES,
    HAND,
    MLP,
    MLP_EPOCHS,
    MLP_RECIPE,
    PIXELS,
    FeaturePair,
    Outcome,
    family_features,
    feature_maps,
    hand_made,
    mlp,
    mlp_spec,
    raw_pixels,
)
from explorer.data import Dataset
from explorer.engine import NonFiniteError
from explorer.figures import confusion_figure, weight_images_figure
from explorer.figures.features import feature_maps_figure
from explorer.state.settings import Settings
from explorer.ui.datasets import dataset_for
from explorer.ui.session import Run

DATASETS = {"digits-8x8": "Digits 8×8", "mnist-sample": "MNIST sample 28×28"}
CHART = {"displayModeBar": False}


def _dataset(key: str) -> Dataset:
    return dataset_for(Settings(dataset=key))


@st.cache_data(show_spinner="Computing the hand-made features…", max_entries=16)
def _family(key: str, name: str) -> FeaturePair:
    return family_features(_dataset(key), name)


@st.cache_data(show_spinner="Fitting logistic regression on the features…", max_entries=64)
def _hand(key: str, families: tuple[str, ...], seed: int) -> Outcome:
    return hand_made(_dataset(key), families, seed, computed=lambda name: _family(key, name))


@st.cache_data(show_spinner="Fitting logistic regression on the pixels…", max_entries=8)
def _pixels(key: str, seed: int) -> Outcome:
    return raw_pixels(_dataset(key), seed)


@st.cache_data(show_spinner="Training the MLP…", max_entries=16)
def _mlp(
    key: str, hidden_sizes: tuple[int, ...], activations: tuple[str, ...], init: str, seed: int
) -> Outcome:
    d = _dataset(key)
    return mlp(d, hidden_sizes, activations, init=init, seed=seed, epochs=MLP_EPOCHS[key])


def features_page(run: Run) -> None:
    """The whole body of the Features page."""
    st.title("Features: hand-made vs learned")
    st.markdown(
        "*“Machine learning requires manual feature extraction; deep learning extracts "
        "features automatically.”* Test it: the same digits, the same split, three pipelines."
    )
    key = st.radio(
        "Digits",
        list(DATASETS),
        format_func=DATASETS.__getitem__,
        index=1 if run.settings.dataset == "mnist-sample" else 0,
        horizontal=True,
        key="w_ft_data",
    )
    d = _dataset(key)
    st.markdown("**Hand-made feature families** (what a person decided to measure)")
    cols = st.columns(len(FAMILIES))
    families = tuple(
        name
        for col, (name, family) in zip(cols, FAMILIES.items(), strict=True)
        if col.toggle(family.title, value=True, key=f"w_ft_{name}", help=family.describe)
    )
    s = run.settings
    seed = s.seed
    hand = _hand(key, families, seed) if families else None
    pixels = _pixels(key, seed)
    net = _trained_mlp(key, s)
    spec = mlp_spec(d, s.hidden_sizes, s.hidden_activations).describe()
    _scores(hand, pixels, net, families, spec)
    _mlp_note(key, spec, seed)
    if s.hidden_sizes and min(s.hidden_sizes) < d.n_classes:
        st.info(
            f"The sidebar's network ({spec}) has a hidden layer narrower than the "
            f"{d.n_classes} digits: little room to find features. Widen its layers in the "
            "sidebar (say 16 and 16) and watch the MLP's number."
        )
    confusions, images = st.tabs(
        ["Confusion matrices", "Features as images"], key="w_ft_tab", on_change="rerun"
    )
    if confusions.open:  # only the open tab draws
        with confusions:
            _confusions((hand, pixels, net), d)
    if images.open:
        with images:
            _images(d, families, pixels, net)


def _trained_mlp(key: str, s: Settings) -> Outcome | None:
    try:
        return _mlp(key, s.hidden_sizes, s.hidden_activations, s.init, s.seed)
    except NonFiniteError:
        return None


def _scores(
    hand: Outcome | None,
    pixels: Outcome,
    net: Outcome | None,
    families: tuple[str, ...],
    spec: str,
) -> None:
    cols = st.columns(3)
    cols[0].metric(HAND, "—" if hand is None else f"{hand.accuracy:.1%}")
    if hand is None:
        cols[0].caption("No family is on: switch one on to fit this pipeline.")
    else:
        titles = ", ".join(FAMILIES[name].title.lower() for name in families)
        cols[0].caption(
            f"{hand.n_features} hand-made features per digit ({titles}); "
            f"fitted in {hand.seconds:.2f} s."
        )
    cols[1].metric(PIXELS, f"{pixels.accuracy:.1%}")
    cols[1].caption(f"{pixels.n_features} pixels per digit; fitted in {pixels.seconds:.2f} s.")
    cols[2].metric(f"{MLP} ({spec})", "—" if net is None else f"{net.accuracy:.1%}")
    if net is None:
        cols[2].caption("This network's training overflowed; choose other hidden layers.")
    else:
        cols[2].caption(f"{net.n_features} pixels per digit; trained in {net.seconds:.2f} s.")


def _mlp_note(key: str, spec: str, seed: int) -> None:
    st.caption(
        f"Each number is that pipeline's accuracy on the same test digits. The MLP ({spec}) "
        "is trained here, not taken from the Explorer: the sidebar's hidden layers, "
        f"activations, initialisation and seed ({seed}), a softmax output like logistic "
        f"regression's, {MLP_EPOCHS[key]} epochs of Adam (learning rate "
        f"{MLP_RECIPE.learning_rate:g}, batches of {MLP_RECIPE.batch_size}) on the fast path. "
        "So every pipeline starts from the same split and seed; your Explorer network may be "
        "untrained or halfway through a step, which would compare how long it trained, not its "
        "features."
    )


def _confusions(outcomes: tuple[Outcome | None, ...], d: Dataset) -> None:
    cols = st.columns(3)
    for n, (col, title, outcome) in enumerate(
        zip(cols, (HAND, PIXELS, MLP), outcomes, strict=True)
    ):
        col.markdown(f"**{title}**")
        if outcome is None:
            col.caption("Not fitted.")
            continue
        col.plotly_chart(
            confusion_figure(outcome.confusion, d.class_names),
            key=f"ft_confusion_{n}",
            config=CHART,
        )


def _images(d: Dataset, families: tuple[str, ...], pixels: Outcome, net: Outcome | None) -> None:
    shape = (d.input_shape[0], d.input_shape[1])
    left, right = st.columns(2)
    sample = left.number_input("Test digit", 0, len(d.x_test) - 1, value=0, key="w_ft_sample")
    image = d.x_test[sample].reshape(shape)
    left.markdown("**Hand-made: what the features measure on this digit**")
    maps = [("the digit", image), *feature_maps(image, families)]
    left.plotly_chart(feature_maps_figure(maps), key="ft_maps", config=CHART)
    left.caption("Each map was designed by a person; the classifier only weighs its numbers.")
    right.markdown("**Learned: the MLP's first-layer weights**")
    if net is None or net.weights is None:
        right.caption("This MLP has no hidden layer, so it learned no features of its own.")
    else:
        right.plotly_chart(weight_images_figure(net.weights, shape), key="ft_weights", config=CHART)
        right.caption(
            "What each first-layer neuron found by itself: blue pixels push it up, red down. "
            "Nobody told it about strokes or holes."
        )
    if pixels.weights is not None:
        right.markdown("**Raw pixels + logistic regression: one template per digit**")
        right.plotly_chart(
            weight_images_figure(pixels.weights, shape, columns=10),
            key="ft_templates",
            config=CHART,
        )
        right.caption("Unit k scores digit k: one weight per pixel, no features in between.")
