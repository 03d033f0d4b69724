"""Everything a user sets in the sidebar, as one frozen record, and what it builds.

``Settings`` is the single table of user choices: the dataset and its parameters, the
architecture, the optimisation and the seed. Each field carries its allowed range in its
metadata, which the sidebar widgets and any (de)serialisation read, so a value can be checked
in one place. Fields are grouped: changing a ``data`` or ``network`` field rebuilds the network;
changing a ``training`` field does not (``rebuild_key``).
No streamlit here: the UI and the tests both use it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, cast

from explorer.data import Dataset
from explorer.engine import (
    HIDDEN_ACTIVATIONS,
    INITIALIZERS,
    OPTIMIZERS,
    LayerSpec,
    NetworkSpec,
    TrainConfig,
)
from explorer.engine.types import LossName, OptimizerName

MAX_HIDDEN_LAYERS = 6
MAX_UNITS = 128

# The output layer and loss, offered to match the task. Each: (activation, loss).
HEADS: dict[str, tuple[str, LossName]] = {
    "softmax + cross-entropy": ("softmax", "cross_entropy"),
    "sigmoid + binary cross-entropy": ("sigmoid", "binary_cross_entropy"),
    "sigmoid + mean squared error": ("sigmoid", "mse"),
    "tanh + mean squared error": ("tanh", "mse"),
    "identity + mean squared error": ("identity", "mse"),
}


def heads_for(dataset: Dataset) -> list[str]:
    """The output heads that fit the dataset's task, the recommended one first."""
    if dataset.task == "regression":
        return ["identity + mean squared error", "tanh + mean squared error"]
    if dataset.n_classes == 2:
        return [
            "sigmoid + binary cross-entropy",
            "softmax + cross-entropy",
            "sigmoid + mean squared error",
            "tanh + mean squared error",
        ]
    return ["softmax + cross-entropy", "sigmoid + mean squared error"]


def output_size(dataset: Dataset, head: str) -> int:
    """One unit per class, except a single unit for a binary task with a one-unit head."""
    if dataset.task == "regression":
        return 1
    if dataset.n_classes == 2 and HEADS[head][1] != "cross_entropy":
        return 1
    return dataset.n_classes


def _f(group: str, default: Any, **limits: Any) -> Any:
    return field(default=default, metadata={"group": group, **limits})


@dataclass(frozen=True)
class Settings:
    """One user's choices. Limits live in each field's metadata: ``lo``/``hi`` for numbers,
    ``choices`` for names."""

    dataset: str = _f("data", "circle")
    n_points: int = _f("data", 400, lo=20, hi=2000)
    noise: float = _f("data", 0.1, lo=0.0, hi=0.5)
    train_ratio: float = _f("data", 0.5, lo=0.1, hi=0.9)
    data_seed: int = _f("data", 0, lo=0, hi=2**31 - 1)
    hidden_sizes: tuple[int, ...] = _f("network", (4, 2), lo=1, hi=MAX_UNITS)
    hidden_activations: tuple[str, ...] = _f(
        "network", ("tanh", "tanh"), choices=HIDDEN_ACTIVATIONS
    )
    head: str = _f("network", "sigmoid + binary cross-entropy", choices=tuple(HEADS))
    init: str = _f("network", "xavier_uniform", choices=tuple(INITIALIZERS))
    seed: int = _f("network", 0, lo=0, hi=2**31 - 1)
    optimizer: str = _f("training", "sgd", choices=OPTIMIZERS)
    learning_rate: float = _f("training", 0.03, lo=1e-6, hi=10.0)
    batch_size: int = _f("training", 10, lo=1, hi=512)
    l1: float = _f("training", 0.0, lo=0.0, hi=1.0)
    l2: float = _f("training", 0.0, lo=0.0, hi=1.0)
    momentum: float = _f("training", 0.9, lo=0.0, hi=0.999)

    def __post_init__(self) -> None:
        if len(self.hidden_sizes) != len(self.hidden_activations):
            raise ValueError("Each hidden layer needs a size and an activation.")
        if len(self.hidden_sizes) > MAX_HIDDEN_LAYERS:
            raise ValueError(f"At most {MAX_HIDDEN_LAYERS} hidden layers.")

    def network_spec(self, dataset: Dataset) -> NetworkSpec:
        activation, loss = HEADS[self.head]
        layers = tuple(
            LayerSpec(n, act)
            for n, act in zip(self.hidden_sizes, self.hidden_activations, strict=True)
        )
        out = LayerSpec(output_size(dataset, self.head), activation)
        return NetworkSpec(dataset.n_features, (*layers, out), loss)

    def train_config(self) -> TrainConfig:
        return TrainConfig(
            optimizer=cast(OptimizerName, self.optimizer),  # a name TrainConfig checks
            learning_rate=self.learning_rate,
            batch_size=self.batch_size,
            l1=self.l1,
            l2=self.l2,
            momentum=self.momentum,
        )

    def rebuild_key(self) -> tuple[Any, ...]:
        """The data and network fields: when these change, the network is built anew."""
        return tuple(
            getattr(self, f.name) for f in fields(self) if f.metadata["group"] != "training"
        )

    def data_params(self) -> dict[str, Any]:
        return {
            "n_points": self.n_points,
            "noise": self.noise,
            "train_ratio": self.train_ratio,
            "seed": self.data_seed,
        }


def limits(name: str) -> dict[str, Any]:
    """The metadata of field ``name``: its group and its range or choices."""
    return dict(next(f for f in fields(Settings) if f.name == name).metadata)
