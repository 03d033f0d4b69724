"""Shareable links: settings and trail survive the query string; bad links never raise."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.data import TOY_NAMES
from explorer.engine import Edit, FastEpoch, Phases, TrainConfig
from explorer.state.settings import Settings
from explorer.state.share import from_query, to_query

DATASETS = (*TOY_NAMES, "mnist-sample", "digits-8x8")


def test_settings_and_trail_round_trip_exactly() -> None:
    s = Settings(
        dataset="spiral",
        noise=0.25,
        hidden_sizes=(8, 3, 5),
        hidden_activations=("relu", "gelu", "tanh"),
        learning_rate=0.003,
        l2=0.001,
        optimizer="adam",
        seed=42,
    )
    trail = (
        Phases(13, s.train_config()),
        Phases(16, TrainConfig(optimizer="adam", learning_rate=0.1, batch_size=10, l2=0.001)),
        Edit(1, 2, 0, 0.1 + 0.2),  # a float with no short decimal form
        Edit(0, None, 3, -1e-300),
        FastEpoch(s.train_config()),
    )
    link = from_query(to_query(s, trail), DATASETS)
    assert link.warnings == ()
    assert link.settings == s
    assert link.trail == trail


def test_a_list_valued_query_takes_the_last_value() -> None:
    link = from_query({"seed": ["1", "7"]}, DATASETS)
    assert link.settings.seed == 7 and link.warnings == ()


def test_malformed_values_fall_back_with_a_warning() -> None:
    query = {
        "learning_rate": "fast",
        "batch_size": "1e9",
        "hidden_activations": "tanh,swish9",
        "seed": "-4",
        "noise": "nan",
        "dataset": "imagenet",
        "zoom": "3",
        "head": "x" * 10_000,
        "trail": "12;W0.1=oops",
    }
    link = from_query(query, DATASETS)
    assert link.settings == Settings()
    assert link.trail == ()
    text = " ".join(link.warnings)
    names = ("learning_rate", "batch_size", "hidden_activations", "seed", "noise", "dataset")
    for name in (*names, "zoom", "head", "trail"):
        assert name in text, name


def test_mismatched_layers_fall_back_together() -> None:
    link = from_query({"hidden_sizes": "3,3,3", "hidden_activations": "relu"}, DATASETS)
    assert link.settings.hidden_sizes == Settings().hidden_sizes
    assert "do not match" in link.warnings[0]


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=30), st.text(max_size=300), max_size=8))
def test_random_queries_never_raise(query: dict[str, str]) -> None:
    link = from_query(query, DATASETS)
    assert isinstance(link.settings, Settings)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_random_trails_never_raise(trail: str) -> None:
    link = from_query({"trail": trail}, DATASETS)
    assert all(np.isfinite(e.value) for e in link.trail if isinstance(e, Edit))
