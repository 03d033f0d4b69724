"""The records the phases produce: frozen, one numpy array per layer, named after what they hold.

Shapes use B for the batch size and n_l for the units of layer l (0-based, input excluded);
``W[l]`` is (n_{l-1}, n_l) with n_{-1} the input size. Field names follow the derivative held,
as in the Playground's ``nn.ts``: ``output_der`` = dL/da, ``input_der`` = dL/dz (the delta).
"""

from __future__ import annotations

from dataclasses import dataclass

from explorer.engine.types import Array


@dataclass(frozen=True, eq=False)
class ForwardTrace:
    """``input``: x (B, n_in); ``total_input[l]``: z (B, n_l); ``output[l]``: a = f(z) (B, n_l)."""

    input: Array
    total_input: tuple[Array, ...]
    output: tuple[Array, ...]


@dataclass(frozen=True, eq=False)
class ErrorTrace:
    """The loss of the batch and its derivatives at the output layer.

    ``target``: class indices (B,) for cross-entropy, else (B, n_out). ``output_der``: dL/da of
    the output layer (B, n_out). ``input_der``: dL/dz of the output layer (B, n_out), through the
    loss's shortcut where one exists (softmax + cross-entropy: (a - onehot) / B), which stays
    exact where dL/da itself would overflow.
    """

    loss: float
    target: Array
    output_der: Array
    input_der: Array


@dataclass(frozen=True, eq=False)
class LayerGradients:
    """One layer's backward record: dL/da and dL/dz (B, n_l), dL/dW (n_{l-1}, n_l), dL/db (n_l,)."""

    output_der: Array
    input_der: Array
    weight_der: Array
    bias_der: Array


@dataclass(frozen=True, eq=False)
class Gradients:
    """Every layer's backward record, layer 0 first (each field a tuple over layers)."""

    output_der: tuple[Array, ...]
    input_der: tuple[Array, ...]
    weight_der: tuple[Array, ...]
    bias_der: tuple[Array, ...]

    @classmethod
    def from_layers(cls, layers: tuple[LayerGradients, ...]) -> Gradients:
        return cls(
            tuple(g.output_der for g in layers),
            tuple(g.input_der for g in layers),
            tuple(g.weight_der for g in layers),
            tuple(g.bias_der for g in layers),
        )
