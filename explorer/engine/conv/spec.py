"""What a small CNN is: conv blocks, then the MLP's dense layers and a softmax output.

A ``ConvBlockSpec`` is one convolution (stride 1, ``filters`` kernels of ``kernel`` x
``kernel``, ``valid`` or ``same`` padding), its activation, and an optional 2x2 max-pool
(stride 2, an odd last row or column dropped, as ``torch.nn.MaxPool2d(2)``). A
``ConvNetSpec`` is one or two blocks on a one-channel image, the feature maps flattened in
torch's (channel, row, column) order, then one to three ``LayerSpec`` dense layers of which the
last is the softmax output, trained with cross-entropy.

Parameters are the engine's ``Params`` so the MLP's optimizers apply unchanged: ``weights``
holds each block's kernels (filters, in_channels, k, k), as torch's ``Conv2d.weight``, then each
dense layer's (fan_in, fan_out); ``biases`` the same order. Layer ``l`` (0-based) counts the
blocks first, then the dense layers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from explorer.engine.activations import HIDDEN_ACTIVATIONS
from explorer.engine.spec import LayerSpec, NetworkSpec, Params, SpecError

KERNELS = (3, 5)
PADDINGS = ("valid", "same")
MAX_FILTERS = 16
MAX_BLOCKS = 2
MAX_DENSE = 3  # up to two hidden dense layers, then the output layer

T = TypeVar("T")


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _parts(value: object, kind: type[T]) -> tuple[T, ...] | None:
    """``value`` as a tuple if it is a list or tuple of ``kind``, else None."""
    if not isinstance(value, (tuple, list)) or not all(isinstance(v, kind) for v in value):
        return None
    return tuple(value)


@dataclass(frozen=True)
class ConvBlockSpec:
    """One conv block: convolution, activation, then a 2x2 max-pool when ``pool``."""

    filters: int = 4
    kernel: int = 3
    padding: str = "valid"
    activation: str = "relu"
    pool: bool = True

    def __post_init__(self) -> None:
        if not _whole(self.filters) or not 1 <= self.filters <= MAX_FILTERS:
            raise SpecError(
                f"A conv block needs between 1 and {MAX_FILTERS} filters, not {self.filters!r}."
            )
        if self.kernel not in KERNELS or not _whole(self.kernel):
            raise SpecError(f"The kernel size must be 3 or 5, not {self.kernel!r}.")
        if self.padding not in PADDINGS:
            raise SpecError(f"Padding must be 'valid' or 'same', not {self.padding!r}.")
        if self.activation not in HIDDEN_ACTIVATIONS:
            known = ", ".join(HIDDEN_ACTIVATIONS)
            raise SpecError(
                f"A conv block's activation must be one of {known}, not {self.activation!r}."
            )
        if not isinstance(self.pool, bool):
            raise SpecError("Max-pool is on or off (True or False).")

    @property
    def pad(self) -> int:
        """Zeros added on each side of the input: (k - 1) / 2 for ``same``, else 0."""
        return (self.kernel - 1) // 2 if self.padding == "same" else 0

    def describe(self) -> str:
        pool = " -> max-pool 2x2" if self.pool else ""
        return f"conv {self.kernel}x{self.kernel} x{self.filters} -> {self.activation}{pool}"


@dataclass(frozen=True)
class BlockShapes:
    """Per-sample shapes of one block: its input (C, H, W), its conv output z and a
    (F, Ho, Wo), and its output (the pooled maps, or a without a pool)."""

    input: tuple[int, int, int]
    conv: tuple[int, int, int]
    output: tuple[int, int, int]


@dataclass(frozen=True)
class ConvNetSpec:
    """A CNN for one-channel ``input_shape`` (H, W) images with class labels."""

    input_shape: tuple[int, int] = (28, 28)
    blocks: tuple[ConvBlockSpec, ...] = (ConvBlockSpec(),)
    dense: tuple[LayerSpec, ...] = (LayerSpec(10, "softmax"),)

    def __post_init__(self) -> None:
        shape = _parts(self.input_shape, int)
        if shape is None or len(shape) != 2 or not all(_whole(s) and 1 <= s <= 256 for s in shape):
            raise SpecError(
                f"The input must be an image of 1 to 256 pixels a side, not {self.input_shape!r}."
            )
        blocks = _parts(self.blocks, ConvBlockSpec)
        if blocks is None or not 1 <= len(blocks) <= MAX_BLOCKS:
            got = repr(self.blocks) if blocks is None else len(blocks)
            raise SpecError(f"A CNN here has one or two conv blocks, not {got}.")
        dense = _parts(self.dense, LayerSpec)
        if dense is None or not 1 <= len(dense) <= MAX_DENSE:
            raise SpecError("After the conv blocks come one to three dense layers.")
        object.__setattr__(self, "input_shape", shape)
        object.__setattr__(self, "blocks", blocks)
        object.__setattr__(self, "dense", dense)
        if self.dense[-1].activation != "softmax":
            raise SpecError("The last dense layer is the softmax output.")
        h, w = shape
        for i, block in enumerate(self.blocks):
            ho, wo = h + 2 * block.pad - block.kernel + 1, w + 2 * block.pad - block.kernel + 1
            if ho < 1 or wo < 1:
                raise SpecError(
                    f"Conv block {i + 1}: a {block.kernel}x{block.kernel} kernel does not fit "
                    f"its {h}x{w} input; use 'same' padding, a smaller kernel or no pool before."
                )
            if block.pool and (ho < 2 or wo < 2):
                raise SpecError(f"Conv block {i + 1}: its {ho}x{wo} maps are too small to pool.")
            h, w = (ho // 2, wo // 2) if block.pool else (ho, wo)
        # the head's own checks (softmax only at the output, >= 2 classes) apply here too
        self.head  # noqa: B018

    @property
    def block_shapes(self) -> tuple[BlockShapes, ...]:
        out = []
        c, h, w = 1, *self.input_shape
        for block in self.blocks:
            ho, wo = h + 2 * block.pad - block.kernel + 1, w + 2 * block.pad - block.kernel + 1
            conv = (block.filters, ho, wo)
            pooled = (block.filters, ho // 2, wo // 2) if block.pool else conv
            out.append(BlockShapes((c, h, w), conv, pooled))
            c, h, w = pooled
        return tuple(out)

    @property
    def flat_size(self) -> int:
        """Values the last block hands to the first dense layer."""
        f, h, w = self.block_shapes[-1].output
        return f * h * w

    @property
    def head(self) -> NetworkSpec:
        """The dense part as the MLP engine sees it: flat features in, softmax out."""
        return NetworkSpec(self.flat_size, self.dense, "cross_entropy")

    @property
    def n_blocks(self) -> int:
        return len(self.blocks)

    @property
    def n_layers(self) -> int:
        """Blocks plus dense layers: the layers the phases walk."""
        return len(self.blocks) + len(self.dense)

    @property
    def n_classes(self) -> int:
        return self.dense[-1].size

    @property
    def param_shapes(self) -> tuple[tuple[tuple[int, ...], ...], tuple[tuple[int, ...], ...]]:
        """(weight shapes, bias shapes), in ``Params`` order."""
        kernels = tuple(
            (b.filters, s.input[0], b.kernel, b.kernel)
            for b, s in zip(self.blocks, self.block_shapes, strict=True)
        )
        sizes = self.head.sizes
        dense = tuple((sizes[i], sizes[i + 1]) for i in range(len(self.dense)))
        biases = tuple((b.filters,) for b in self.blocks) + tuple((n,) for n in sizes[1:])
        return kernels + dense, biases

    @property
    def n_params(self) -> int:
        weights, biases = self.param_shapes
        total = 0
        for shape in (*weights, *biases):
            n = 1
            for s in shape:
                n *= s
            total += n
        return total

    def layer_name(self, layer: int) -> str:
        """How the UI names layer ``layer`` (0-based): conv block 1, dense layer 1, output."""
        if layer < self.n_blocks:
            return f"conv block {layer + 1}"
        if layer == self.n_layers - 1:
            return "output layer"
        return f"dense layer {layer - self.n_blocks + 1}"

    def describe(self) -> str:
        """e.g. ``28x28 -> conv 3x3 x4 -> relu -> max-pool 2x2 -> dense 10``."""
        h, w = self.input_shape
        parts = [f"{h}x{w}", *(b.describe() for b in self.blocks)]
        parts += [f"dense {d.size}" for d in self.dense]
        return " -> ".join(parts)

    def check_params(self, params: Params) -> None:
        """Raise SpecError if ``params`` do not belong to this network."""
        weights, biases = self.param_shapes
        got_w = tuple(w.shape for w in params.weights)
        got_b = tuple(b.shape for b in params.biases)
        if got_w != weights or got_b != biases:
            raise SpecError(
                f"The parameters do not fit this network: expected weights {weights} and "
                f"biases {biases}, got {got_w} and {got_b}."
            )


DEFAULT_SPEC = ConvNetSpec()
