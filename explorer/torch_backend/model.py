"""A ``NetworkSpec`` as torch modules, and exact conversion of parameters to and from ``Params``.

Every engine activation and loss has its torch twin here, with the engine's (= torch's)
conventions: leaky ReLU slope 0.01, GELU's tanh approximation, Softplus thresholded at 20,
softmax over the units of a layer; cross-entropy and binary cross-entropy take the output
layer's total input z, mse its activation a, each averaged like the engine's (``loss_mean``).

The engine stores ``W[l]`` as (fan_in, fan_out); ``torch.nn.Linear.weight`` is (fan_out,
fan_in), so conversion transposes, which is exact. Initialisation is the engine's own
(``init_params`` with the same Generator, then converted), so both backends start from the
same numbers. Left out: layers other than fully connected ones.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import numpy as np
import torch
import torch.nn.functional as F

from explorer.engine.activations import LEAKY_SLOPE
from explorer.engine.spec import NetworkSpec, Params
from explorer.engine.types import Array

Tensor = torch.Tensor


def _identity(z: Tensor) -> Tensor:
    return z


ACTIVATIONS: dict[str, Callable[[Tensor], Tensor]] = {
    "identity": _identity,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
    "leaky_relu": partial(F.leaky_relu, negative_slope=LEAKY_SLOPE),
    "elu": F.elu,
    "gelu": partial(F.gelu, approximate="tanh"),
    "softplus": F.softplus,
    "silu": F.silu,
    "softmax": partial(torch.softmax, dim=1),
}

DTYPES: dict[str, torch.dtype] = {"float32": torch.float32, "float64": torch.float64}


def takes_logits(spec: NetworkSpec) -> bool:
    """Whether the loss reads the output layer's z (the cross-entropies) rather than its a."""
    return spec.loss != "mse"


def loss_mean(spec: NetworkSpec, out: Tensor, target: Tensor) -> Tensor:
    """The batch's loss, torch's mean reduction: ``out`` is z for the cross-entropies, a for
    mse."""
    if spec.loss == "cross_entropy":
        return F.cross_entropy(out, target)
    if spec.loss == "binary_cross_entropy":
        return F.binary_cross_entropy_with_logits(out, target)
    return F.mse_loss(out, target)


def predict_classes(output: Tensor) -> Tensor:
    """The engine's ``predict_classes`` on torch: argmax, or a > 0.5 for a single unit."""
    if output.shape[1] == 1:
        return (output[:, 0] > 0.5).long()
    return output.argmax(dim=1)


class MLP(torch.nn.Module):
    """The network of ``spec``: one ``Linear`` per layer, then its activation."""

    def __init__(self, spec: NetworkSpec, *, dtype: torch.dtype, device: torch.device) -> None:
        super().__init__()
        self.spec = spec
        sizes = spec.sizes
        linears = [
            torch.nn.Linear(sizes[i], sizes[i + 1], dtype=dtype, device=device)
            for i in range(len(spec.layers))
        ]
        self.stack = torch.nn.ModuleList(linears)  # registers the parameters
        self.linears = linears  # the same layers, typed
        self.activations = [ACTIVATIONS[layer.activation] for layer in spec.layers]
        self._skip_last = takes_logits(spec)

    def forward(self, x: Tensor) -> Tensor:
        """What the loss reads: the output layer's z for the cross-entropies, else its a.
        (The training path: no per-layer record, no softmax the loss does not need.)"""
        last = len(self.linears) - 1
        a = x
        for i, (linear, act) in enumerate(zip(self.linears, self.activations, strict=True)):
            a = linear(a)
            if i < last or not self._skip_last:
                a = act(a)
        return a

    def layers(self, x: Tensor) -> tuple[list[Tensor], list[Tensor]]:
        """Every layer's z and a, input layer first (the record the phases return)."""
        zs: list[Tensor] = []
        outs: list[Tensor] = []
        a = x
        for linear, act in zip(self.linears, self.activations, strict=True):
            z = linear(a)
            a = act(z)
            zs.append(z)
            outs.append(a)
        return zs, outs

    def weights(self) -> list[Tensor]:
        return [linear.weight for linear in self.linears]

    def biases(self) -> list[Tensor]:
        return [linear.bias for linear in self.linears]


def build_model(
    spec: NetworkSpec,
    params: Params,
    *,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str = "cpu",
) -> MLP:
    """The torch network of ``spec`` holding ``params`` (cast to ``dtype``)."""
    params.check_shapes(spec)
    model = MLP(spec, dtype=dtype, device=torch.device(device))
    load_params(model, params)
    return model


def load_params(model: MLP, params: Params) -> None:
    """Copy ``params`` into ``model`` in place (W transposed into Linear's layout)."""
    params.check_shapes(model.spec)
    with torch.no_grad():
        for linear, w, b in zip(model.linears, params.weights, params.biases, strict=True):
            linear.weight.copy_(torch.tensor(w.T))
            linear.bias.copy_(torch.tensor(b))


def to_numpy(tensor: Tensor) -> Array:
    """A host copy of ``tensor`` that shares no memory with it."""
    return np.array(tensor.detach().cpu().numpy(), copy=True)


def model_params(model: MLP) -> Params:
    """The model's parameters as the engine's ``Params``, in the model's dtype, exactly."""
    return Params(
        tuple(to_numpy(w).T.copy() for w in model.weights()),
        tuple(to_numpy(b) for b in model.biases()),
    )
