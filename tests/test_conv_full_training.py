"""Full training of a CNN (a run with ``conv_blocks``): the run JSON carries the blocks, both
backends train the same numbers in float64, the NumPy run's epoch is the Convolution page's
fast epoch bit for bit, and the command line trains one and writes its kernels."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from explorer.data import load_dataset
from explorer.engine import TrainConfig
from explorer.engine.conv import ConvBlockSpec, ConvStepper
from explorer.state.run_config import ConfigError, RunConfig, from_dict, from_json, to_dict, to_json
from explorer.state.settings import Settings
from explorer.training.cli import main
from explorer.training.full import FullTraining

BLOCKS = (ConvBlockSpec(3, 3, "same", "relu", True),)
SETTINGS = replace(
    Settings(),
    dataset="digits-8x8",
    hidden_sizes=(),
    hidden_activations=(),
    head="softmax + cross-entropy",
    batch_size=64,
    learning_rate=0.1,
    seed=3,
)
CONFIG = RunConfig(SETTINGS, epochs=1, conv_blocks=BLOCKS)


def test_the_run_json_carries_the_blocks() -> None:
    assert from_json(to_json(CONFIG)) == CONFIG
    assert from_json(to_json(replace(CONFIG, conv_blocks=None))).conv_blocks is None


@pytest.mark.parametrize(
    "blocks",
    [
        [{"filters": 99}],
        [{"kernel": 4}],
        [{"stride": 2}],
        ["4:3"],
        [{}, {}, {}],
        "conv",
    ],
)
def test_bad_blocks_are_refused_by_name(blocks: object) -> None:
    with pytest.raises(ConfigError, match="conv_blocks"):
        from_dict({**to_dict(CONFIG), "conv_blocks": blocks})


def test_the_numpy_epoch_is_the_convolution_pages_fast_epoch() -> None:
    data = load_dataset("digits-8x8")
    job = FullTraining(CONFIG, data)
    job.run_epoch()
    spec = job.network
    stepper = ConvStepper(
        spec, TrainConfig(learning_rate=0.1, batch_size=64), data.x_train, data.y_train, seed=3
    )
    stepper.run_epoch_fast()
    for a, b in zip(job.params().weights, stepper.state.params.weights, strict=True):
        assert np.array_equal(a.astype(np.float64), b)


def test_both_backends_train_the_same_cnn() -> None:
    pytest.importorskip("torch", reason="torch is not installed (pip install '.[torch]')")
    data = load_dataset("digits-8x8")
    config = replace(CONFIG, dtype="float64", settings=replace(SETTINGS, optimizer="adam", l2=0.01))
    jobs = [
        FullTraining(replace(config, backend=b, device="cpu"), data) for b in ("numpy", "torch")
    ]
    for job in jobs:
        job.run_epoch()
    a, b = (job.params() for job in jobs)
    for x, y in zip((*a.weights, *a.biases), (*b.weights, *b.biases), strict=True):
        np.testing.assert_allclose(x, y, rtol=0, atol=1e-10)
    assert jobs[0].epochs[-1].test_accuracy == jobs[1].epochs[-1].test_accuracy


def test_the_command_line_trains_a_cnn(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run.json"
    run.write_text(to_json(CONFIG))
    assert main(["--config", str(run), "--out", str(tmp_path / "out")]) == 0
    assert "conv 3x3 x3" in capsys.readouterr().out
    with np.load(tmp_path / "out" / "params.npz") as saved:
        assert saved["W0"].shape == (3, 1, 3, 3) and saved["W1"].shape == (48, 10)
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    first, last = metrics["epochs"][0], metrics["epochs"][-1]
    assert last["train_loss"] < first["train_loss"]
