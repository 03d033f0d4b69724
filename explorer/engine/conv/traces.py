"""The records the CNN's phases produce: frozen, read-only arrays named after what they hold.

Shapes are (B, F, H, W) for maps (batch, filters, rows, columns). As in the MLP's traces,
``output_der`` is dL/da and ``input_der`` dL/dz (the delta). The dense part's records are the
MLP's own ``ForwardTrace``, ``ErrorTrace`` and ``LayerGradients``.
"""

from __future__ import annotations

from dataclasses import dataclass

from explorer.engine.traces import ForwardTrace, Gradients, LayerGradients
from explorer.engine.types import Array


@dataclass(frozen=True, eq=False)
class BlockTrace:
    """One conv block's forward record: ``input`` (B, C, H, W) as the block saw it, ``z``
    (B, F, Ho, Wo), ``a`` = f(z), and with a pool ``pooled`` (B, F, Ho//2, Wo//2) and
    ``argmax`` (same shape, int8): the winner's place 0..3 in reading order in its 2x2 window
    (``explorer.engine.conv.kernels.maxpool2x2``); both None without a pool."""

    input: Array
    z: Array
    a: Array
    pooled: Array | None
    argmax: Array | None

    @property
    def output(self) -> Array:
        """What the next block or the dense part receives."""
        return self.a if self.pooled is None else self.pooled


@dataclass(frozen=True, eq=False)
class ConvForwardTrace:
    """``input``: the images (B, 1, H, W); ``blocks``: per block; ``dense``: the MLP's record
    of the dense part, whose ``input`` is the last block's output flattened (B, flat_size)."""

    input: Array
    blocks: tuple[BlockTrace, ...]
    dense: ForwardTrace


@dataclass(frozen=True, eq=False)
class BlockGradients:
    """One conv block's backward record: ``pooled_der`` dL/d(pooled) (None without a pool),
    ``output_der`` dL/da and ``input_der`` dL/dz (B, F, Ho, Wo), ``kernel_der`` (F, C, k, k),
    ``bias_der`` (F,)."""

    pooled_der: Array | None
    output_der: Array
    input_der: Array
    kernel_der: Array
    bias_der: Array


@dataclass(frozen=True, eq=False)
class ConvGradients:
    """Every block's and every dense layer's backward record, the first of each first."""

    blocks: tuple[BlockGradients, ...]
    dense: tuple[LayerGradients, ...]

    def for_optimizer(self) -> Gradients:
        """The gradients in ``Params`` order (kernels, then dense weights), as the MLP's
        ``optim.update`` takes them."""
        return Gradients(
            tuple(g.output_der for g in self.blocks) + tuple(g.output_der for g in self.dense),
            tuple(g.input_der for g in self.blocks) + tuple(g.input_der for g in self.dense),
            tuple(g.kernel_der for g in self.blocks) + tuple(g.weight_der for g in self.dense),
            tuple(g.bias_der for g in self.blocks) + tuple(g.bias_der for g in self.dense),
        )
