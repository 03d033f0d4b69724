"""Session files under fuzzing: random bytes and mutated real files are either read or refused
with SessionFileError, never another exception, and quickly."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from explorer.data import TOY_NAMES
from explorer.engine import Stepper
from explorer.state.session_file import SavedSession, SessionFileError, load_session, save_session
from explorer.state.settings import Settings
from explorer.ui.datasets import dataset_for

DATASETS = (*TOY_NAMES, "mnist-sample", "digits-8x8")
SETTINGS = Settings(
    dataset="xor", hidden_sizes=(3,), hidden_activations=("tanh",), optimizer="momentum"
)


def _valid() -> bytes:
    d = dataset_for(SETTINGS)
    s = Stepper(SETTINGS.network_spec(d), SETTINGS.train_config(), d.x_train, d.y_train)
    s.run_steps(3)
    s.advance()
    return save_session(SETTINGS, s.state, len(s.phases), [{"step": 3, "train_loss": 0.7}])


VALID = _valid()


def _load(data: bytes) -> None:
    try:
        result = load_session(data, DATASETS, dataset_for)
    except SessionFileError as exc:
        assert str(exc)
    else:
        assert isinstance(result, SavedSession)
        assert all(np.isfinite(w).all() for w in result.params.weights)


@settings(max_examples=300, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4096))
def test_random_bytes(data: bytes) -> None:
    _load(data)


@settings(max_examples=400, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, len(VALID) - 1), st.integers(0, 255)), max_size=8))
def test_mutated_real_files(flips: list[tuple[int, int]]) -> None:
    data = bytearray(VALID)
    for i, value in flips:
        data[i] = value
    _load(bytes(data))


@settings(max_examples=100, deadline=2000)
@given(st.integers(0, len(VALID)))
def test_truncated_real_files(n: int) -> None:
    _load(VALID[:n])
