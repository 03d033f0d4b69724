"""Headless full training: ``python -m explorer.training.cli --config run.json [--out DIR]``.

Trains the run the Train page exports (``explorer.state.run_config``), printing one line per epoch,
and writes to DIR: ``params.npz`` (the trained parameters, which the Train page opens in the
Explorer), ``metrics.json`` (loss and accuracy per epoch, samples per second) and ``run.json``
(the configuration as it was read). Under ``torchrun --nproc_per_node=N`` it trains with
DistributedDataParallel (gloo on the CPU, nccl on CUDA); rank 0 prints and writes.

Exit status: 0 done, 1 the numbers overflowed (what was trained before is still written),
2 the configuration, data or device cannot be used (one message, no traceback).
Left out: resuming from a parameters file, checkpoints during training.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from explorer.data import (
    DataError,
    Dataset,
    load_csv,
    load_dataset,
    load_idx_folder,
    load_npz,
)
from explorer.engine import SpecError
from explorer.state.run_config import ConfigError, RunConfig, from_json, save_params, to_json
from explorer.torch_backend import DeviceError, TorchMissingError, require_torch
from explorer.training.full import FullTraining

if TYPE_CHECKING:
    from explorer.torch_backend.distributed import World

SETUP_ERRORS = (ConfigError, DataError, SpecError, DeviceError, TorchMissingError)


def load_data(config: RunConfig) -> Dataset:
    """``data_path`` (a .npz, a .csv, or a folder of IDX files) if set, else the named set."""
    if config.data_path:
        path = Path(config.data_path)
        if path.is_dir():
            return load_idx_folder(path, name=path.name)
        if path.suffix.lower() == ".npz":
            return load_npz(path, name=path.name)
        if path.suffix.lower() == ".csv":
            return load_csv(path, name=path.name)
        raise DataError(f"data_path {path} is not a .npz, a .csv or a folder of IDX files.")
    settings = config.settings
    if settings.dataset == "upload":
        raise DataError("An uploaded dataset has no name to load here: set data_path to its file.")
    return load_dataset(settings.dataset, **settings.data_params())


def distributed_world(config: RunConfig) -> World | None:
    """This process's DDP rank when torchrun started several, else None."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return None
    if config.backend != "torch":
        raise ConfigError(
            "A torchrun launch trains with DistributedDataParallel: use backend torch."
        )
    require_torch()
    from explorer.torch_backend.distributed import from_environment
    from explorer.torch_backend.trainer import select_device

    try:
        return from_environment(select_device(config.device))
    except RuntimeError as exc:
        raise DeviceError(str(exc)) from None


def epoch_line(job: FullTraining) -> str:
    r = job.epochs[-1]
    line = f"epoch {r.epoch}/{job.config.epochs}  train loss {r.train_loss:.4f}  "
    line += f"test loss {r.test_loss:.4f}"
    if r.train_accuracy is not None and r.test_accuracy is not None:
        line += f"  train acc {r.train_accuracy:.2%}  test acc {r.test_accuracy:.2%}"
    return line + f"  {job.samples_per_second or 0:,.0f} samples/s"


def write_outputs(out: Path, job: FullTraining) -> None:
    save_params(out / "params.npz", job.params(), job.config)
    (out / "run.json").write_text(to_json(job.config))
    metrics = {
        "network": job.network.describe(),
        "dataset": job.dataset.name,
        "trainer": job.trainer.describe(),
        "steps": job.step,
        "seconds": job.seconds,
        "samples_per_second": job.samples_per_second,
        "failure": job.failure,
        "epochs": [asdict(r) for r in job.epochs],
    }
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")


def _setup(config_path: Path, out: Path) -> tuple[FullTraining, World | None]:
    try:
        text = config_path.read_text()
    except OSError as exc:
        raise ConfigError(f"Cannot read {config_path}: {exc.strerror}.") from None
    config = from_json(text, headless=True)
    dataset = load_data(config)
    world = distributed_world(config)
    job = FullTraining(config, dataset, world=world)
    if world is None or world.rank == 0:
        try:  # before training, not after it
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"Cannot write to {out}: {exc.strerror}.") from None
    return job, world


def _train(job: FullTraining, out: Path, lead: bool) -> None:
    if lead:
        print(f"{job.network.describe()} on {job.dataset.name}, {job.trainer.describe()}")
    while job.running:
        job.run_epoch()
        if lead and not job.failure:
            print(epoch_line(job), flush=True)
    if job.failure:
        print(f"error: {job.failure}", file=sys.stderr)
    if lead:
        write_outputs(out, job)
        print(f"wrote {out}/params.npz, metrics.json, run.json")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m explorer.training.cli", description="Train a network headless."
    )
    parser.add_argument("--config", type=Path, required=True, help="run JSON (Train page)")
    parser.add_argument("--out", type=Path, default=Path("train-out"), help="output folder")
    args = parser.parse_args(argv)
    try:
        job, world = _setup(args.config, args.out)
    except SETUP_ERRORS as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        _train(job, args.out, lead=world is None or world.rank == 0)
    finally:
        if world is not None:
            from explorer.torch_backend.distributed import shutdown

            shutdown()
    return 1 if job.failure else 0


if __name__ == "__main__":
    sys.exit(main())
