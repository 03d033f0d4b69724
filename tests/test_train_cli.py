"""``python -m explorer.training.cli``: a config in, parameters and metrics out; clear messages
(exit
2, no traceback) for configs it cannot use; and DistributedDataParallel under torchrun giving
the single-process numbers."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from explorer.state.run_config import load_params
from explorer.training.cli import main

TINY = {
    "dataset": "circle",
    "n_points": 60,
    "hidden_sizes": [5, 4],
    "hidden_activations": ["tanh", "relu"],
    "head": "sigmoid + binary cross-entropy",
    "optimizer": "momentum",
    "learning_rate": 0.1,
    "batch_size": 7,  # 30 training points: batches of 7, 7, 7, 7, 2, split unevenly over ranks
    "l1": 0.001,
    "l2": 0.01,
    "epochs": 3,
    "dtype": "float64",
}


def write(tmp_path: Path, config: dict[str, object], name: str = "run.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(config))
    return path


def cli(*args: str, prefix: str = "") -> subprocess.CompletedProcess[str]:
    code = (
        f"{prefix}import sys; from explorer.training.cli import main; sys.exit(main(sys.argv[1:]))"
    )
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120
    )


def params_of(folder: Path) -> list[np.ndarray]:
    p = load_params(folder / "params.npz")
    return [*p.weights, *p.biases]


def test_happy_path_writes_parameters_and_metrics(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(["--config", str(write(tmp_path, TINY)), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "2-5-4-1 on Circle" in printed and "epoch 3/3" in printed
    metrics = json.loads((out / "metrics.json").read_text())
    assert [e["epoch"] for e in metrics["epochs"]] == [0, 1, 2, 3]
    assert metrics["steps"] == 15 and metrics["failure"] is None
    assert json.loads((out / "run.json").read_text())["batch_size"] == 7
    assert [p.shape for p in params_of(out)] == [(2, 5), (5, 4), (4, 1), (5,), (4,), (1,)]


def test_torch_backend_gives_the_numpy_numbers(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    for backend in ("numpy", "torch"):
        path = write(tmp_path, {**TINY, "backend": backend}, f"{backend}.json")
        assert main(["--config", str(path), "--out", str(tmp_path / backend)]) == 0
    for a, b in zip(params_of(tmp_path / "numpy"), params_of(tmp_path / "torch"), strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-10)


def test_a_data_file_instead_of_a_named_set(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    data = tmp_path / "tiny.npz"
    np.savez(data, x=rng.integers(0, 256, (80, 4, 4)), y=np.arange(80) % 10)
    config = {"data_path": str(data), "hidden_sizes": [6], "hidden_activations": ["relu"]}
    config |= {"head": "softmax + cross-entropy", "epochs": 1}
    out = tmp_path / "out"
    assert main(["--config", str(write(tmp_path, config)), "--out", str(out)]) == 0
    assert [p.shape for p in params_of(out)][:2] == [(16, 6), (6, 10)]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ('{"epochs": -1}', "epochs must be a whole number from 1"),
        ('{"hidden_layers": 3}', "Unknown key 'hidden_layers'"),
        ('{"dataset": "nope"}', "There is no dataset called 'nope'"),
        ('{"dataset": "upload"}', "set data_path"),
        ('{"data_path": "/nonexistent/x.npz"}', "there is no file"),
        ('{"backend": "torch", "device": "cuda"}', "No cuda device here"),
        (
            '{"head": "softmax + cross-entropy", "dataset": "plane"}',
            "Cross-entropy needs at least two",
        ),
    ],
)
def test_malformed_configs_exit_2_with_a_message(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "run.json"
    path.write_text(content)
    done = cli("--config", str(path), "--out", str(tmp_path / "out"))
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error: ") and message in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "out").exists()


def test_an_output_folder_that_cannot_be_made_is_refused_before_training(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main(["--config", str(write(tmp_path, TINY)), "--out", str(blocker / "out")]) == 2
    captured = capsys.readouterr()
    assert "Cannot write to" in captured.err and "epoch" not in captured.out


def test_a_missing_config_file_and_missing_arguments(tmp_path: Path) -> None:
    done = cli("--config", str(tmp_path / "absent.json"))
    assert done.returncode == 2 and "Cannot read" in done.stderr and "Traceback" not in done.stderr
    done = cli()
    assert done.returncode == 2 and "--config" in done.stderr


def test_without_torch_the_torch_backend_says_how_to_install(tmp_path: Path) -> None:
    path = write(tmp_path, {**TINY, "backend": "torch"})
    done = cli("--config", str(path), prefix="import sys; sys.modules['torch'] = None; ")
    assert done.returncode == 2 and "pip install '.[torch]'" in done.stderr
    numpy_run = cli("--config", str(write(tmp_path, TINY, "np.json")), "--out", str(tmp_path / "o"),
                    prefix="import sys; sys.modules['torch'] = None; ")  # fmt: skip
    assert numpy_run.returncode == 0, numpy_run.stderr


def test_an_overflow_exits_1_and_keeps_what_was_trained(tmp_path: Path) -> None:
    config = {"dataset": "plane", "head": "identity + mean squared error", "epochs": 100}
    config |= {"learning_rate": 10.0, "hidden_activations": ["sigmoid", "tanh"]}
    out = tmp_path / "out"
    assert main(["--config", str(write(tmp_path, config)), "--out", str(out)]) == 1
    metrics = json.loads((out / "metrics.json").read_text())
    assert "Lower the learning rate" in metrics["failure"]
    assert all(np.isfinite(p).all() for p in params_of(out))


def test_ddp_on_two_cpu_processes_matches_one_process(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    if not torch.distributed.is_available() or not torch.distributed.is_gloo_available():
        pytest.skip("this torch build has no torch.distributed with gloo")
    path = write(tmp_path, {**TINY, "backend": "torch", "device": "cpu"})
    started = time.perf_counter()
    done = subprocess.run(
        [
            # --standalone: a local rendezvous on a port the launcher picks itself
            sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
            "-m", "explorer.training.cli", "--config", str(path), "--out", str(tmp_path / "ddp"),
        ],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    assert done.returncode == 0, done.stderr[-4000:]
    assert "2 processes (DDP)" in done.stdout and done.stdout.count("epoch 3/3") == 1
    assert main(["--config", str(path), "--out", str(tmp_path / "one")]) == 0
    for a, b in zip(params_of(tmp_path / "ddp"), params_of(tmp_path / "one"), strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-10)
    ddp = json.loads((tmp_path / "ddp" / "metrics.json").read_text())["epochs"]
    one = json.loads((tmp_path / "one" / "metrics.json").read_text())["epochs"]
    assert ddp[-1]["train_loss"] == pytest.approx(one[-1]["train_loss"], abs=1e-10)
    assert seconds < 60


def test_a_torchrun_launch_needs_the_torch_backend(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "0")
    assert main(["--config", str(write(tmp_path, TINY))]) == 2
    assert "use backend torch" in capsys.readouterr().err
