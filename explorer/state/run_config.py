"""A full training run's files: its configuration (one JSON file: the sidebar's ``Settings``
plus how to train them) and the parameters it trained (one .npz).

The Train page exports this file and ``python -m explorer.training.cli --config run.json`` reads it,
so both train the same network the same way. The JSON is flat: every ``Settings`` field, then
``epochs``, ``backend``, ``device``, ``dtype`` and an optional ``data_path`` (a .npz, .csv or
IDX folder to train on instead of the named ``dataset``). Missing keys take their defaults;
unknown keys, wrong types and values outside a field's ``lo``/``hi``/``choices`` (read from
``Settings``' field table) raise ``ConfigError`` naming the key.

A CNN (the Convolution page's network) is a run with ``conv_blocks``: a list of conv blocks
(``filters``, ``kernel``, ``padding``, ``activation``, ``pool``, as ``ConvBlockSpec``) on the
dataset's images, then the settings' hidden layers as its dense layers and the softmax output;
null (the default) trains the settings' MLP.

The parameters file holds ``W0, b0, W1, ...`` in the engine's layout (W is (fan_in, fan_out),
a CNN's kernels (filters, in_channels, k, k)) and the run's JSON under ``config``; the Train
page opens an MLP's in the Explorer.

Headless runs may be bigger than the sidebar allows (``headless=True``): up to the engine's
limit of units per layer and a larger batch. Left out: schedules, early stopping, checkpoints.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import IO, Any, get_type_hints

import numpy as np

from explorer.data import MAX_BYTES, DataError, Dataset
from explorer.data.npz import read_npz
from explorer.data.source import read_source
from explorer.engine import LayerSpec, NetworkSpec, Params, SpecError
from explorer.engine.conv import ConvBlockSpec, ConvNetSpec
from explorer.engine.conv.spec import MAX_BLOCKS
from explorer.engine.spec import MAX_UNITS as ENGINE_MAX_UNITS
from explorer.state.settings import Settings, limits

BACKENDS = ("numpy", "torch")
DEVICES = ("auto", "cpu", "cuda", "mps")
DTYPES = ("float32", "float64")
MAX_EPOCHS = 10_000
HEADLESS_MAX_BATCH = 65_536
# Field limits a headless run may exceed: the sidebar keeps networks small enough to draw.
HEADLESS_LIMITS: dict[str, dict[str, Any]] = {
    "hidden_sizes": {"hi": ENGINE_MAX_UNITS},
    "batch_size": {"hi": HEADLESS_MAX_BATCH},
}
_SETTING_TYPES = get_type_hints(Settings)


class ConfigError(ValueError):
    """A run configuration that cannot be used; the message names the key and what to change."""


@dataclass(frozen=True)
class RunConfig:
    """What to train (``settings``, and ``conv_blocks`` for a CNN) and how: epochs, backend,
    device, dtype, optional data file."""

    settings: Settings = field(default_factory=Settings)
    epochs: int = 5
    backend: str = "numpy"
    device: str = "auto"
    dtype: str = "float32"
    data_path: str | None = None
    conv_blocks: tuple[ConvBlockSpec, ...] | None = None

    def __post_init__(self) -> None:
        epochs = self.epochs
        if isinstance(epochs, bool) or not isinstance(epochs, int) or not 1 <= epochs <= MAX_EPOCHS:
            raise ConfigError(f"epochs must be a whole number from 1 to {MAX_EPOCHS}.")
        for name, choices in (("backend", BACKENDS), ("device", DEVICES), ("dtype", DTYPES)):
            if getattr(self, name) not in choices:
                raise ConfigError(f"{name} must be one of {', '.join(choices)}.")
        if self.backend == "numpy" and self.device not in ("auto", "cpu"):
            raise ConfigError("The numpy backend runs on the CPU: use device auto or cpu.")
        if self.conv_blocks is not None and not 1 <= len(self.conv_blocks) <= MAX_BLOCKS:
            raise ConfigError(f"conv_blocks must hold 1 to {MAX_BLOCKS} blocks, or be null.")

    def network_spec(self, dataset: Dataset) -> NetworkSpec | ConvNetSpec:
        """The settings' MLP, or the CNN of ``conv_blocks`` on the dataset's images (raises
        SpecError where its kernels do not fit them)."""
        if self.conv_blocks is None:
            return self.settings.network_spec(dataset)
        if len(dataset.input_shape) != 2:
            raise SpecError("A CNN needs images: this dataset's examples are not 2-D.")
        s = self.settings
        dense = tuple(
            LayerSpec(n, a) for n, a in zip(s.hidden_sizes, s.hidden_activations, strict=True)
        )
        h, w = dataset.input_shape
        return ConvNetSpec(
            (h, w), self.conv_blocks, (*dense, LayerSpec(dataset.n_classes, "softmax"))
        )


def to_dict(config: RunConfig) -> dict[str, Any]:
    """The flat, JSON-able form (tuples become lists)."""
    out: dict[str, Any] = {}
    for f in fields(Settings):
        value = getattr(config.settings, f.name)
        out[f.name] = list(value) if isinstance(value, tuple) else value
    out.update(epochs=config.epochs, backend=config.backend, device=config.device)
    out.update(dtype=config.dtype, data_path=config.data_path)
    blocks = config.conv_blocks
    out["conv_blocks"] = None if blocks is None else [asdict(b) for b in blocks]
    return out


def to_json(config: RunConfig) -> str:
    return json.dumps(to_dict(config), indent=2) + "\n"


def from_dict(data: Any, *, headless: bool = False) -> RunConfig:
    """Check ``data`` key by key and build the RunConfig; raises ConfigError."""
    if not isinstance(data, dict):
        raise ConfigError("A run configuration is a JSON object of settings.")
    run_keys = {f.name for f in fields(RunConfig)} - {"settings"}
    setting_keys = {f.name for f in fields(Settings)}
    unknown = sorted(set(data) - run_keys - setting_keys)
    if unknown:
        known = ", ".join(sorted(run_keys | setting_keys))
        raise ConfigError(f"Unknown key {unknown[0]!r}; the known keys are: {known}.")
    values = {name: _checked(name, data[name], headless) for name in setting_keys if name in data}
    try:
        settings = Settings(**values)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    run = {name: data[name] for name in run_keys if name in data}
    if run.get("data_path") is not None and not isinstance(run["data_path"], str):
        raise ConfigError("data_path must be a path (a string) or null.")
    run["conv_blocks"] = _blocks(run.get("conv_blocks"))
    return RunConfig(settings=settings, **run)


def _blocks(value: Any) -> tuple[ConvBlockSpec, ...] | None:
    """``conv_blocks``: null, or a list of blocks, each an object of ConvBlockSpec's fields."""
    if value is None:
        return None
    names = {f.name for f in fields(ConvBlockSpec)}
    if not isinstance(value, list) or len(value) > MAX_BLOCKS:
        raise ConfigError(f"conv_blocks must be a list of 1 to {MAX_BLOCKS} blocks, or null.")
    blocks = []
    for i, block in enumerate(value):
        if not isinstance(block, dict) or not set(block) <= names:
            raise ConfigError(f"conv_blocks[{i}] must be an object of {', '.join(sorted(names))}.")
        try:
            blocks.append(ConvBlockSpec(**block))
        except SpecError as exc:
            raise ConfigError(f"conv_blocks[{i}]: {exc}") from None
    return tuple(blocks)


def from_json(text: str, *, headless: bool = False) -> RunConfig:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"The file is not valid JSON: {exc}.") from None
    return from_dict(data, headless=headless)


def _checked(name: str, value: Any, headless: bool) -> Any:
    """``value`` for Settings field ``name``, type- and range-checked against its metadata."""
    lim = limits(name) | (HEADLESS_LIMITS.get(name, {}) if headless else {})
    kind = _SETTING_TYPES[name]
    if kind in (tuple[int, ...], tuple[str, ...]):
        if not isinstance(value, list):
            raise ConfigError(f"{name} must be a list, not {value!r}.")
        item = int if kind == tuple[int, ...] else str
        return tuple(_scalar(f"{name}[{i}]", v, item, lim) for i, v in enumerate(value))
    return _scalar(name, value, kind, lim)


def _scalar(name: str, value: Any, kind: Any, lim: dict[str, Any]) -> Any:
    if kind is str:
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{name} must be a non-empty string, not {value!r}.")
        if "choices" in lim and value not in lim["choices"]:
            raise ConfigError(f"{name} must be one of {', '.join(lim['choices'])}, not {value!r}.")
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{name} must be a number, not {value!r}.")
    if kind is int and not isinstance(value, int):
        raise ConfigError(f"{name} must be a whole number, not {value!r}.")
    if not math.isfinite(value) or not lim["lo"] <= value <= lim["hi"]:
        raise ConfigError(f"{name} must lie between {lim['lo']} and {lim['hi']}, not {value!r}.")
    return kind(value)


def save_params(file: str | Path | IO[bytes], params: Params, config: RunConfig) -> None:
    """Write ``params`` and ``config`` as one .npz (no pickles)."""
    arrays: dict[str, Any] = {f"W{i}": w for i, w in enumerate(params.weights)}
    arrays |= {f"b{i}": b for i, b in enumerate(params.biases)}
    np.savez(file, config=np.array(to_json(config)), **arrays)


def load_params(source: bytes | str | Path, *, max_bytes: int = MAX_BYTES) -> Params:
    """The parameters of a file ``save_params`` wrote (an MLP's matrices, or a CNN's kernels
    (filters, in_channels, k, k) too), at most ``max_bytes`` decompressed; raises DataError
    for anything else, for non-finite values among them too. The caller checks the shapes
    against its network."""
    what = "The parameters file"
    arrays = read_npz(read_source(source, what), what, max_bytes=max_bytes)
    n = sum(1 for key in arrays if key.startswith("W"))
    try:
        weights = tuple(arrays[f"W{i}"] for i in range(n))
        biases = tuple(arrays[f"b{i}"] for i in range(n))
    except KeyError:
        raise DataError(f"{what} was not written by the trainer: it lacks W0, b0, ...") from None
    params = Params(weights, biases)
    if not n or any(a.dtype not in (np.float32, np.float64) for a in (*weights, *biases)):
        raise DataError(f"{what} holds no float32 or float64 weights and biases.")
    if any(w.ndim not in (2, 4) for w in weights) or any(b.ndim != 1 for b in biases):
        raise DataError(f"{what} holds weights or biases of the wrong shape.")
    if not params.is_finite():
        raise DataError(f"{what} holds NaN or infinite weights.")
    return params
