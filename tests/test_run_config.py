"""Run configurations: the JSON the Train page exports and the CLI reads, checked against the
Settings field table; and the parameters file."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

from explorer.data import DataError
from explorer.engine import init_params
from explorer.state.run_config import (
    ConfigError,
    RunConfig,
    from_dict,
    from_json,
    load_params,
    save_params,
    to_dict,
    to_json,
)
from explorer.state.settings import Settings
from tests.conftest import net


def test_round_trip() -> None:
    config = RunConfig(
        Settings(dataset="xor", hidden_sizes=(8, 3), hidden_activations=("relu", "gelu"), l2=0.01),
        epochs=7,
        backend="torch",
        device="cpu",
        dtype="float64",
        data_path="/data/set.npz",
    )
    assert from_json(to_json(config)) == config
    assert to_dict(config)["hidden_sizes"] == [8, 3]
    assert json.loads(to_json(RunConfig()))["backend"] == "numpy"


def test_missing_keys_take_defaults() -> None:
    config = from_dict({"dataset": "spiral", "epochs": 2})
    assert config.settings == Settings(dataset="spiral") and config.epochs == 2


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([1, 2], "JSON object"),
        ({"learning_rat": 0.1}, "Unknown key 'learning_rat'"),
        ({"learning_rate": 100.0}, "learning_rate must lie between"),
        ({"learning_rate": "fast"}, "learning_rate must be a number"),
        ({"batch_size": 2.5}, "batch_size must be a whole number"),
        ({"batch_size": True}, "batch_size must be a number"),
        ({"optimizer": "rmsprop"}, "optimizer must be one of sgd, momentum, adam"),
        ({"hidden_sizes": 4}, "hidden_sizes must be a list"),
        ({"hidden_sizes": [4, 0], "hidden_activations": ["tanh", "tanh"]}, r"hidden_sizes\[1\]"),
        ({"hidden_activations": ["tanh", "softmax"]}, r"hidden_activations\[1\] must be one"),
        ({"hidden_sizes": [4]}, "Each hidden layer needs a size and an activation"),
        ({"epochs": 0}, "epochs must be a whole number from 1"),
        ({"epochs": True}, "epochs must be a whole number"),
        ({"backend": "jax"}, "backend must be one of numpy, torch"),
        ({"device": "cuda"}, "The numpy backend runs on the CPU"),
        ({"dtype": "float16"}, "dtype must be one of"),
        ({"data_path": 3}, "data_path must be a path"),
        ({"noise": float("nan")}, "noise must lie between"),
    ],
)
def test_bad_configs_say_what_is_wrong(data: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        from_dict(data)


def test_headless_runs_may_be_bigger_than_the_sidebar() -> None:
    wide = {"hidden_sizes": [1024, 1024], "hidden_activations": ["relu", "relu"]}
    with pytest.raises(ConfigError, match="between 1 and 128"):
        from_dict(wide)
    assert from_dict({**wide, "batch_size": 4096}, headless=True).settings.hidden_sizes == (
        1024,
        1024,
    )


def test_not_json() -> None:
    with pytest.raises(ConfigError, match="not valid JSON"):
        from_json("{epochs: 3")


def test_params_file_round_trip() -> None:
    spec = net((4, 3, 2), "tanh", "softmax", "cross_entropy")
    params = init_params(spec, np.random.default_rng(0), bias=0.1)
    buffer = io.BytesIO()
    save_params(buffer, params, RunConfig())
    back = load_params(buffer.getvalue())
    for a, b in zip((*params.weights, *params.biases), (*back.weights, *back.biases), strict=True):
        assert np.array_equal(a, b)
    with np.load(io.BytesIO(buffer.getvalue())) as npz:
        assert from_json(str(npz["config"])) == RunConfig()


@pytest.mark.parametrize("content", [b"", b"not a zip", b"PK\x03\x04broken"])
def test_a_bad_params_file_is_refused(content: bytes) -> None:
    with pytest.raises(DataError, match="parameters file"):
        load_params(content)


def test_a_params_file_without_weights_is_refused() -> None:
    buffer = io.BytesIO()
    np.savez(buffer, other=np.zeros(3))
    with pytest.raises(DataError):
        load_params(buffer.getvalue())
