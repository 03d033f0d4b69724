"""Session files: save and load continue exactly where training was; anything else is
refused with a clear message."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

from explorer.data import TOY_NAMES
from explorer.engine import Stepper
from explorer.state.session_file import SessionFileError, load_session, save_session
from explorer.state.settings import Settings
from explorer.ui.datasets import dataset_for
from tests.conftest import assert_same_state

DATASETS = (*TOY_NAMES, "mnist-sample", "digits-8x8")
SETTINGS = Settings(
    dataset="moons",
    hidden_sizes=(5, 3),
    hidden_activations=("tanh", "relu"),
    optimizer="adam",
    learning_rate=0.01,
    batch_size=16,
    seed=3,
)


def stepper(settings: Settings = SETTINGS) -> Stepper:
    d = dataset_for(settings)
    return Stepper(
        settings.network_spec(d),
        settings.train_config(),
        d.x_train,
        d.y_train,
        seed=settings.seed,
        init=settings.init,
    )


def reload(data: bytes) -> Stepper:
    saved = load_session(data, DATASETS, dataset_for)
    s = stepper(saved.settings)
    saved.apply_to(s)
    return s


@pytest.mark.parametrize("phases", [0, 3, 8, 13, 16])
def test_save_and_load_continue_bit_for_bit(phases: int) -> None:
    s = stepper()
    s.run_steps(9)
    for _ in range(phases):
        s.advance()
    data = save_session(SETTINGS, s.state, len(s.phases), [{"step": 9, "train_loss": 0.5}])
    t = reload(data)
    assert_same_state(s.state, t.state)
    s.run_steps(5)
    t.run_steps(5)
    assert_same_state(s.state, t.state)


def test_metrics_travel_and_nan_becomes_none() -> None:
    s = stepper()
    data = save_session(SETTINGS, s.state, len(s.phases), [{"step": 0, "test_loss": float("nan")}])
    saved = load_session(data, DATASETS, dataset_for)
    assert saved.metrics == [{"step": 0, "test_loss": None}]


def _npz(**arrays: np.ndarray) -> bytes:
    out = io.BytesIO()
    np.savez(out, **arrays)
    return out.getvalue()


def _meta(**changes: object) -> np.ndarray:
    s = stepper()
    good = save_session(SETTINGS, s.state, len(s.phases), [])
    with np.load(io.BytesIO(good)) as z:
        meta = json.loads(z["meta"].tobytes())
    meta.update(changes)
    return np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)


def _good_arrays() -> dict[str, np.ndarray]:
    s = stepper()
    good = save_session(SETTINGS, s.state, len(s.phases), [])
    with np.load(io.BytesIO(good)) as z:
        return {k: z[k] for k in z.files}


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: b"", "empty"),
        (lambda: b"PK\x03\x04 not really a zip", "damaged"),
        (lambda: _npz(x=np.zeros(3)), "not a Backprop Explorer session"),
        (lambda: _npz(meta=np.frombuffer(b"{not json", dtype=np.uint8)), "not a Backprop"),
        (lambda: _npz(**{**_good_arrays(), "meta": _meta(format="other")}), "not a Backprop"),
        (lambda: _npz(**{**_good_arrays(), "meta": _meta(version=99)}), "version"),
        (lambda: _npz(**{**_good_arrays(), "meta": _meta(epoch=-1)}), "epoch"),
        (lambda: _npz(**{**_good_arrays(), "meta": _meta(position=10**9)}), "position"),
        (lambda: _npz(**{**_good_arrays(), "w0": np.full((2, 5), np.nan)}), "not finite"),
        (lambda: _npz(**{**_good_arrays(), "w1": np.zeros((4, 4))}), "does not fit"),
        (lambda: _npz(**{k: v for k, v in _good_arrays().items() if k != "b1"}), "missing"),
        (
            lambda: _npz(**{**_good_arrays(), "w0": np.array([object()], dtype=object)}),
            "Python objects",
        ),
        (
            lambda: _npz(**{**_good_arrays(), "meta": _meta(settings={"dataset": "imagenet"})}),
            "not usable",
        ),
        (lambda: save_session(SETTINGS, stepper().state, 8, [])[:-100], "damaged"),
    ],
)
def test_bad_files_are_refused_clearly(make: object, message: str) -> None:
    with pytest.raises(SessionFileError, match=message):
        load_session(make(), DATASETS, dataset_for)  # type: ignore[operator]
