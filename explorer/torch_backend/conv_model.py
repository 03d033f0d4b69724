"""A ``ConvNetSpec`` as torch modules (Conv2d, the activation, MaxPool2d(2), then Linear
layers), and exact conversion of its parameters to and from the engine's ``Params``.

The engine keeps a block's kernels as torch's ``Conv2d.weight`` (filters, in_channels, k, k),
so they copy as they are; dense weights are (fan_in, fan_out) against ``Linear.weight``'s
(fan_out, fan_in), so they are transposed, which is exact. The last block's maps are
flattened in (channel, row, column) order, torch's ``Flatten``, as the engine does. The
model takes the datasets' flat rows (B, H*W) and returns the output layer's z, which
``CrossEntropyLoss`` reads; ``TorchTrainer`` trains it like an MLP (``parameters`` in
``Params`` order: ``weights()`` then ``biases()``). Left out: strides, more input channels.
"""

from __future__ import annotations

import numpy as np
import torch

from explorer.engine.conv import ConvNetSpec, backward, conv_error, forward
from explorer.engine.spec import Params
from explorer.engine.types import Array
from explorer.torch_backend.model import ACTIVATIONS, to_numpy

Tensor = torch.Tensor


class ConvNet(torch.nn.Module):
    """The network of ``spec``: per block Conv2d, activation, optional MaxPool2d(2); then one
    Linear per dense layer with its activation (the output layer's left to the loss)."""

    def __init__(self, spec: ConvNetSpec, *, dtype: torch.dtype, device: torch.device) -> None:
        super().__init__()
        self.spec = spec
        convs = [
            torch.nn.Conv2d(
                shapes.input[0], b.filters, b.kernel, padding=b.pad, dtype=dtype, device=device
            )
            for b, shapes in zip(spec.blocks, spec.block_shapes, strict=True)
        ]
        sizes = spec.head.sizes
        linears = [
            torch.nn.Linear(sizes[i], sizes[i + 1], dtype=dtype, device=device)
            for i in range(len(spec.dense))
        ]
        self.stack = torch.nn.ModuleList([*convs, *linears])  # registers the parameters
        self.convs, self.linears = convs, linears
        self.pool = torch.nn.MaxPool2d(2)

    def features(self, x: Tensor) -> Tensor:
        """The last block's output, flattened (B, flat_size), from flat rows (B, H*W)."""
        h = x.reshape(len(x), 1, *self.spec.input_shape)
        for conv, block in zip(self.convs, self.spec.blocks, strict=True):
            h = ACTIVATIONS[block.activation](conv(h))
            if block.pool:
                h = self.pool(h)
        return h.flatten(1)

    def layers(self, x: Tensor) -> tuple[list[Tensor], list[Tensor]]:
        """The dense layers' z and a (the record ``TorchTrainer.evaluate`` reads)."""
        zs: list[Tensor] = []
        outs: list[Tensor] = []
        a = self.features(x)
        for linear, layer in zip(self.linears, self.spec.dense, strict=True):
            zs.append(linear(a))
            a = ACTIVATIONS[layer.activation](zs[-1])
            outs.append(a)
        return zs, outs

    def forward(self, x: Tensor) -> Tensor:
        """The output layer's z, what cross-entropy reads."""
        a = self.features(x)
        last = len(self.linears) - 1
        for i, (linear, layer) in enumerate(zip(self.linears, self.spec.dense, strict=True)):
            a = linear(a)
            if i < last:
                a = ACTIVATIONS[layer.activation](a)
        return a

    def weights(self) -> list[Tensor]:
        return [c.weight for c in self.convs] + [lin.weight for lin in self.linears]

    def biases(self) -> list[Tensor]:
        biases = [c.bias for c in self.convs] + [lin.bias for lin in self.linears]
        return [b for b in biases if b is not None]


def build_conv_model(
    spec: ConvNetSpec,
    params: Params,
    *,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str = "cpu",
) -> ConvNet:
    """The torch network of ``spec`` holding ``params`` (cast to ``dtype``)."""
    spec.check_params(params)
    model = ConvNet(spec, dtype=dtype, device=torch.device(device))
    n = spec.n_blocks
    with torch.no_grad():
        for i, (w, b) in enumerate(zip(model.weights(), model.biases(), strict=True)):
            weight = params.weights[i] if i < n else params.weights[i].T
            w.copy_(torch.tensor(np.ascontiguousarray(weight)))
            b.copy_(torch.tensor(params.biases[i]))
    return model


def conv_model_params(model: ConvNet) -> Params:
    """The model's parameters as the engine's ``Params``, in the model's dtype, exactly."""
    n = model.spec.n_blocks
    weights = [to_numpy(w) for w in model.weights()]
    return Params(
        tuple(w if i < n else w.T.copy() for i, w in enumerate(weights)),
        tuple(to_numpy(b) for b in model.biases()),
    )


def conv_trace_step(spec: ConvNetSpec, params: Params, x: Array, target: Array) -> None:
    """The engine's traced phases on one batch; raises the NonFiniteError naming where NaN or
    inf first appears (how the trainer says where an overflow began)."""
    with np.errstate(all="ignore"):
        fwd = forward(spec, params, x)
        backward(spec, params, fwd, conv_error(spec, fwd, target))
